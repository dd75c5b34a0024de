package requests

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted replaces secrets in URLs, logs and errors.
const Redacted = "REDACTED"

// secretParams are normalized (lower case, no '-' or '_') query parameter
// names whose values are never shown.
var secretParams = map[string]bool{
	"apikey": true, "key": true, "token": true, "accesstoken": true,
	"secret": true, "password": true, "passwd": true, "clientsecret": true,
	"signature": true, "sig": true, "auth": true, "authorization": true,
	"refreshtoken": true, "idtoken": true, "sessionid": true, "credential": true,
}

// secretSuffixes catch vendor spellings such as x_amz_signature or
// refresh_token that the exact list misses.
var secretSuffixes = []string{"token", "secret", "password", "apikey", "signature", "credential"}

var pagingWords = []string{"page", "next", "cursor", "continuation"}

func isSecretParam(name string) bool {
	n := strings.ToLower(name)
	n = strings.NewReplacer("-", "", "_", "", ".", "").Replace(n)
	if secretParams[n] {
		return true
	}
	for _, p := range pagingWords {
		if strings.Contains(n, p) {
			return false // nextPageToken and friends are cursors, useful in logs
		}
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// RedactURL returns u with the values of query parameters whose names look
// secret (api_key, token, signature, ... case-insensitively) and any
// userinfo password replaced by REDACTED. Other bytes are kept as is. It
// never fails: an unparsable URL is still scanned for a query string.
func RedactURL(u string) string {
	if u == "" {
		return u
	}
	head, frag, hasFrag := strings.Cut(u, "#")
	base, query, hasQuery := strings.Cut(head, "?")
	if i := strings.Index(base, "://"); i >= 0 {
		rest := base[i+3:]
		hostEnd := strings.IndexByte(rest, '/')
		if hostEnd < 0 {
			hostEnd = len(rest)
		}
		if at := strings.LastIndexByte(rest[:hostEnd], '@'); at >= 0 {
			if user, _, ok := strings.Cut(rest[:at], ":"); ok {
				base = base[:i+3] + user + ":" + Redacted + rest[at:]
			}
		}
	}
	var sb strings.Builder
	sb.WriteString(base)
	if hasQuery {
		sb.WriteByte('?')
		for i, seg := range strings.Split(query, "&") {
			if i > 0 {
				sb.WriteByte('&')
			}
			k, _, hasValue := strings.Cut(seg, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if hasValue && isSecretParam(name) {
				sb.WriteString(k + "=" + Redacted)
			} else {
				sb.WriteString(seg)
			}
		}
	}
	if hasFrag {
		sb.WriteByte('#')
		sb.WriteString(frag)
	}
	return sb.String()
}

// Redact replaces each non-empty secret in s (also in its URL-query-escaped
// form) with REDACTED, where it stands as a whole token: an occurrence inside
// a longer word or identifier is left alone, so a secret "x" never turns
// "next" into "neREDACTEDt". That still catches a secret in a URL
// (/v1/SECRET/, ?key=SECRET&), a header (Bearer SECRET), a JSON string
// ("SECRET") and plain text. Secrets of 1 to 3 characters are common words
// and fragments, so they are replaced only where they stand as a value:
// right after '=', ':', a quote, or an auth scheme (Bearer, Basic, Token).
// Longer secrets go first so a secret containing another is fully hidden.
func Redact(s string, secrets ...string) string {
	switch len(secrets) {
	case 0:
		return s
	case 1:
		return redactOne(s, secrets[0])
	}
	ss := slices.Clone(secrets)
	slices.SortFunc(ss, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range ss {
		s = redactOne(s, sec)
	}
	return s
}

// shortSecret is the length below which a secret is only redacted in a
// value position.
const shortSecret = 4

func redactOne(s, sec string) string {
	if sec == "" {
		return s
	}
	s = replaceTokens(s, sec)
	if esc := url.QueryEscape(sec); esc != sec {
		s = replaceTokens(s, esc)
	}
	if esc := url.PathEscape(sec); esc != sec {
		s = replaceTokens(s, esc)
	}
	return s
}

// replaceTokens replaces the occurrences of sec in s that stand as tokens.
func replaceTokens(s, sec string) string {
	i := strings.Index(s, sec)
	if i < 0 {
		return s // the common case: no copy
	}
	var b strings.Builder
	last := 0
	for i >= 0 {
		end := i + len(sec)
		if isToken(s, i, end, sec) {
			b.WriteString(s[last:i])
			b.WriteString(Redacted)
			last = end
			i = end
		} else {
			i++
		}
		j := strings.Index(s[i:], sec)
		if j < 0 {
			break
		}
		i += j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// isToken reports whether s[i:end] (an occurrence of sec) is not part of a
// longer word. Only edges of sec that are word characters need a boundary:
// a secret that begins with '-' is a token wherever it is found.
func isToken(s string, i, end int, sec string) bool {
	first, _ := utf8.DecodeRuneInString(sec)
	lastR, _ := utf8.DecodeLastRuneInString(sec)
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[end:])
	if i > 0 && isWord(first) && isWord(before) {
		return false
	}
	if end < len(s) && isWord(lastR) && isWord(after) {
		return false
	}
	if len(sec) >= shortSecret {
		return true
	}
	return valuePosition(s[:i])
}

func isWord(r rune) bool {
	return r == '_' || r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') ||
		r >= utf8.RuneSelf && r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// valuePosition reports whether text ending in before is followed by a
// value: key=V, key: V, "V", 'V', Bearer V.
func valuePosition(before string) bool {
	t := strings.TrimRight(before, " ")
	if t == "" {
		return false
	}
	switch t[len(t)-1] {
	case '=', ':', '"', '\'':
		return true
	}
	if len(t) == len(before) {
		return false // no space: "x" in "(x" is text
	}
	w := t[strings.LastIndexAny(t, " \t\n\"'")+1:]
	switch strings.ToLower(w) {
	case "bearer", "basic", "token":
		return true
	}
	return false
}

// stripURLError drops the *url.Error wrapper that http.Client adds, since
// its message repeats the unredacted URL; callers add a redacted one.
func stripURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
