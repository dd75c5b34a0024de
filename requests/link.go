package requests

import (
	"sort"
	"strings"
)

// Link is one link-value of an RFC 8288 Link header.
type Link struct {
	URL    string            // target as written, possibly relative
	Rel    string            // the rel parameter, e.g. "next" or "next last"
	Params map[string]string // all parameters, names in lower case; first occurrence wins
}

// HasRel reports whether rel (case-insensitive) is one of l's relation types.
func (l Link) HasRel(rel string) bool {
	for _, r := range strings.Fields(l.Rel) {
		if strings.EqualFold(r, rel) {
			return true
		}
	}
	return false
}

// String formats l as a link-value with every parameter quoted.
func (l Link) String() string {
	var sb strings.Builder
	sb.WriteString("<" + l.URL + ">")
	names := make([]string, 0, len(l.Params))
	for n := range l.Params {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(l.Params[n])
		sb.WriteString("; " + n + `="` + v + `"`)
	}
	return sb.String()
}

// ParseLinkHeader parses a Link header value such as
//
//	<https://api/x?page=2>; rel="next", <https://api/x?page=9>; rel=last
//
// Commas and semicolons inside <...> and quoted strings are handled;
// malformed link-values are skipped rather than failing the whole header.
// Combine repeated headers by parsing each value.
func ParseLinkHeader(h string) []Link {
	var links []Link
	i := 0
	for i < len(h) {
		for i < len(h) && (isLinkSpace(h[i]) || h[i] == ',') {
			i++
		}
		if i >= len(h) {
			break
		}
		if h[i] != '<' {
			i = skipLinkValue(h, i)
			continue
		}
		end := strings.IndexByte(h[i+1:], '>')
		if end < 0 {
			break
		}
		l := Link{URL: strings.Trim(h[i+1:i+1+end], " \t"), Params: map[string]string{}}
		i += end + 2
		for {
			i = skipLinkSpace(h, i)
			if i >= len(h) || h[i] != ';' {
				break
			}
			i = skipLinkSpace(h, i+1)
			start := i
			for i < len(h) && !strings.ContainsRune("=;, \t", rune(h[i])) {
				i++
			}
			name := asciiLower(h[start:i])
			i = skipLinkSpace(h, i)
			val := ""
			if i < len(h) && h[i] == '=' {
				i = skipLinkSpace(h, i+1)
				if i < len(h) && h[i] == '"' {
					val, i = readQuoted(h, i)
				} else {
					start := i
					for i < len(h) && h[i] != ';' && h[i] != ',' {
						i++
					}
					val = strings.Trim(h[start:i], " \t")
				}
			}
			if _, dup := l.Params[name]; name != "" && !dup {
				l.Params[name] = val
			}
		}
		l.Rel = l.Params["rel"]
		links = append(links, l)
		i = skipLinkValue(h, i)
	}
	return links
}

func isLinkSpace(c byte) bool { return c == ' ' || c == '\t' }

func skipLinkSpace(h string, i int) int {
	for i < len(h) && isLinkSpace(h[i]) {
		i++
	}
	return i
}

// skipLinkValue returns the index of the next comma outside quotes.
func skipLinkValue(h string, i int) int {
	quoted := false
	for ; i < len(h); i++ {
		switch c := h[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			return i
		}
	}
	return i
}

// readQuoted reads the quoted-string starting at h[i] == '"'; an
// unterminated one runs to the end.
func readQuoted(h string, i int) (string, int) {
	var sb strings.Builder
	for i++; i < len(h); i++ {
		switch c := h[i]; c {
		case '\\':
			if i+1 < len(h) {
				i++
				sb.WriteByte(h[i])
			}
		case '"':
			return sb.String(), i + 1
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String(), i
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
