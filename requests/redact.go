package requests

import (
	"net/url"
	"slices"
	"strings"
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

// Redact replaces every occurrence of each non-empty secret in s (also in
// its URL-query-escaped form) with REDACTED. Longer secrets go first so a
// secret containing another is fully hidden.
func Redact(s string, secrets ...string) string {
	ss := slices.Clone(secrets)
	slices.SortFunc(ss, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range ss {
		if sec == "" {
			continue
		}
		s = strings.ReplaceAll(s, sec, Redacted)
		if esc := url.QueryEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, Redacted)
		}
	}
	return s
}

// stripURLError drops the *url.Error wrapper that http.Client adds, since
// its message repeats the unredacted URL; callers add a redacted one.
func stripURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
