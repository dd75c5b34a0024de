package rest

import (
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// checkPath reports what is wrong with a gjson path given in the config
// (records_path, pagination.path), or nil. gjson itself never fails: a
// broken path just finds nothing, which would surface much later as "no
// records". This catches the mistakes that can be told from the path alone:
// empty parts ("data..items", a leading or trailing dot), unbalanced
// brackets or parentheses, an unterminated string in a query, a trailing
// backslash and unknown @modifiers. An empty path is valid (the whole body).
func checkPath(p string) error {
	if p == "" {
		return nil
	}
	if strings.ContainsAny(p, "\r\n\t") {
		return fmt.Errorf("it contains a line break or tab")
	}
	if p[0] == '$' {
		return fmt.Errorf("it starts with $ (JSONPath): a gjson path has no root symbol, write %q", strings.TrimLeft(p, "$."))
	}
	var open []byte // brackets not closed yet
	partStart := true
	for i := 0; i < len(p); i++ {
		c := p[i]
		if len(open) == 0 && partStart {
			partStart = false
			switch c {
			case '.', '|':
				if i == 0 && c == '.' && len(p) > 1 && p[1] != '.' {
					return fmt.Errorf("it starts with '.' (jq style): a gjson path does not, write %q", p[1:])
				}
				if i == 0 {
					return fmt.Errorf("it starts with %q", c)
				}
				return fmt.Errorf("it has an empty part at offset %d", i)
			case '@':
				name := p[i+1:]
				if j := strings.IndexAny(name, ".|:"); j >= 0 {
					name = name[:j]
				}
				if !gjson.ModifierExists(name, nil) {
					return fmt.Errorf("@%s is not a gjson modifier", name)
				}
			}
		}
		switch c {
		case '\\':
			if i == len(p)-1 {
				return fmt.Errorf("it ends with a lone backslash")
			}
			i++
		case '"':
			if len(open) == 0 {
				continue // a literal quote in a key
			}
			end := closingQuote(p, i+1)
			if end < 0 {
				return fmt.Errorf("the string at offset %d is not terminated", i)
			}
			i = end
		case '[':
			if len(open) == 0 && i+1 < len(p) && strings.IndexByte("-0123456789'\"", p[i+1]) >= 0 {
				return fmt.Errorf("%s is jq or JavaScript indexing: gjson writes an index as a part (data.0 is the first element, data.@reverse.0 the last); for a cursor taken from the last record use pagination.type last_record", p[i:min(len(p), strings.IndexByte(p[i:]+"]", ']')+i+1)])
			}
			open = append(open, c)
		case '(', '{':
			open = append(open, c)
		case ')', ']', '}':
			want := map[byte]byte{')': '(', ']': '[', '}': '{'}[c]
			if len(open) == 0 || open[len(open)-1] != want {
				return fmt.Errorf("%q at offset %d closes nothing", c, i)
			}
			open = open[:len(open)-1]
		case '.', '|':
			if len(open) == 0 {
				if i == len(p)-1 {
					return fmt.Errorf("it ends with %q", c)
				}
				partStart = true
			}
		}
	}
	if len(open) > 0 {
		return fmt.Errorf("%q is never closed", open[len(open)-1])
	}
	return nil
}

// closingQuote returns the index of the quote that ends the string starting
// at i, or -1.
func closingQuote(p string, i int) int {
	for ; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}
