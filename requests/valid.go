package requests

import (
	"math/bits"
)

// validJSON reports whether b is one JSON value (RFC 8259 grammar, like
// encoding/json.Valid) with only whitespace around it. It is the check that
// keeps a truncated body or an HTML page off the record path, so it runs on
// every page: strings, most of a page, are scanned eight bytes at a time.
func validJSON(b []byte) bool { return scanJSON(b, nil) }

// scanJSON is validJSON that, when pg is not nil, also finds the page's
// records in the same pass: the raw elements of the array at pg.Key (a
// top-level key of the root object; the root itself when Key is ""). The
// elements are recorded as the validator passes their ends, so a page
// costs one scan, not a validation and then a split. A record with the
// layout of one read before is matched against that layout's shape, so
// only its values are scanned (see shape). pg's fields are only
// meaningful when the body is valid.
func scanJSON(b []byte, pg *Page) bool {
	var small [32]byte
	stack := small[:0] // open containers: '{' or '['
	// Record finding: target is set while the next value is the record
	// array's; inside it, elements are the values that end at depth tdepth.
	target, tdepth, start := pg != nil && pg.Key == "", -1, 0
	// A record's keys repeat record after record: keys[n] is the n-th
	// member's key and colon in the record before, which the same member
	// of this one need only match byte for byte.
	var keys [8]recordKey
	nk := 0
	// Most records repeat the layout of the one before: matched against
	// it, a record needs only its values scanned.
	var shp shape
	missedNext := false // the shape was tried on the record at hand already, and missed
	i := skipWS(b, 0, pg)
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return false
		}
		if len(stack) == tdepth {
			start = i
			if b[i] != '{' {
				if pg.NotObject < 0 {
					pg.NotObject = len(pg.Records)
				}
			} else if shp.n > 0 && !shp.off && !missedNext {
				if j := shp.match(b, i); j >= 0 {
					shp.hit()
					// Records of the shape mostly follow one another with
					// only a comma between them: matched here, they skip
					// the general machine's work a record. The last one
					// matched, or the first that does not match, is left
					// to it.
					for j+1 < len(b) && b[j] == ',' && b[j+1] == '{' {
						k := shp.match(b, j+1)
						if k < 0 {
							missedNext = true // the next record need not be matched again
							break
						}
						shp.hit()
						pg.Records = append(pg.Records, bytesView(b[start:j]))
						start, j = j+1, k
					}
					i = j
					goto after
				}
				shp.missed()
			} else if missedNext {
				missedNext = false
				shp.missed()
			}
		}
		if target {
			target = false
			pg.Found = true
			switch b[i] {
			case '[':
				pg.IsArray = true
				tdepth = len(stack) + 1
			case 'n':
				pg.Null = true
			}
		}
		switch c := b[i]; {
		case c == '"': // the commonest value first
			if i = scanString(b, i); i < 0 {
				return false
			}
		case c == '{':
			i = skipWS(b, i+1, pg)
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			stack = append(stack, '{')
			k := i
			if len(stack) == tdepth+1 { // a record's first member
				nk = 1
				i = recordMember(b, i, pg, &keys[0])
			} else {
				i = member(b, i, pg)
			}
			if i < 0 {
				return false
			}
			if pg != nil && len(stack) == 1 && !pg.Found {
				target = pg.keyIs(b, k, i)
			}
			continue
		case c == '[':
			i = skipWS(b, i+1, pg)
			if i < len(b) && b[i] == ']' {
				i++
				if len(stack)+1 == tdepth {
					tdepth = -1 // an empty record array
				}
				break
			}
			stack = append(stack, '[')
			continue
		case c == '-' || c >= '0' && c <= '9':
			if i = scanNumber(b, i); i < 0 {
				return false
			}
		case c == 't':
			if i = literal(b, i, "true"); i < 0 {
				return false
			}
		case c == 'f':
			if i = literal(b, i, "false"); i < 0 {
				return false
			}
		case c == 'n':
			if i = literal(b, i, "null"); i < 0 {
				return false
			}
		default:
			return false
		}
		// After a value: close containers, or move to the next element.
	after:
		for {
			if len(stack) == tdepth {
				pg.Records = append(pg.Records, bytesView(b[start:i]))
				if shp.n == 0 && !shp.off && b[start] == '{' && !shp.learn(b[start:i]) {
					shp.off = true
				}
			}
			i = skipWS(b, i, pg)
			if len(stack) == 0 {
				if pg != nil {
					pg.shaped = shp.hits
				}
				return i == len(b)
			}
			if i >= len(b) {
				return false
			}
			top := stack[len(stack)-1]
			if b[i] == ',' {
				i = skipWS(b, i+1, pg)
				if top == '{' {
					k := i
					if len(stack) == tdepth+1 && nk < len(keys) {
						i = recordMember(b, i, pg, &keys[nk])
						nk++
					} else {
						i = member(b, i, pg)
					}
					if i < 0 {
						return false
					}
					if pg != nil && len(stack) == 1 && !pg.Found {
						target = pg.keyIs(b, k, i)
					}
				}
				break
			}
			if top == '{' && b[i] == '}' || top == '[' && b[i] == ']' {
				if len(stack) == tdepth {
					tdepth = -1 // the record array is complete
				}
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			return false
		}
	}
}

// member reads `"key" :` and returns the offset of the member's value.
func member(b []byte, i int, pg *Page) int {
	if i = keyColon(b, i, pg); i < 0 {
		return -1
	}
	return skipWS(b, i, pg)
}

// keyColon reads `"key" :` and returns the offset just past the colon.
func keyColon(b []byte, i int, pg *Page) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = scanString(b, i); i < 0 {
		return -1
	}
	i = skipWS(b, i, pg)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return i + 1
}

// recordKey is one member's key and colon as the record before had them.
// Most are at most eight bytes ("id":, "name":): those are also kept as a
// word, and matched with one compare rather than a call.
type recordKey struct {
	b    []byte
	word uint64 // b's bytes, little-endian, when len(b) <= 8
	mask uint64 // the bits of a word that b covers; 0 for a longer key
}

// recordMember is member for a record's own members, given prev, the same
// member's key and colon in the record before: bytes identical to ones
// already found valid need no scan. prev becomes this member's.
func recordMember(b []byte, i int, pg *Page, prev *recordKey) int {
	if k := prev.b; len(k) > 0 {
		if prev.mask != 0 && len(b)-i > 8 {
			if le64(b, i)&prev.mask == prev.word {
				return skipWS(b, i+len(k), pg)
			}
		} else if len(b)-i > len(k) && string(b[i:i+len(k)]) == string(k) {
			return skipWS(b, i+len(k), pg)
		}
	}
	j := keyColon(b, i, pg)
	if j < 0 {
		return -1
	}
	prev.b, prev.word, prev.mask = b[i:j], 0, 0
	if n := j - i; n <= 8 && len(b)-i >= 8 {
		prev.mask = ^uint64(0) >> (64 - 8*n)
		prev.word = le64(b, i) & prev.mask
	}
	return skipWS(b, j, pg)
}

// skipWS returns the offset of the first byte at or after i that is not
// whitespace. A newline is noted in pg (when not nil): in valid JSON it can
// only be whitespace, so a page without one has single-line records.
func skipWS(b []byte, i int, pg *Page) int {
	if i < len(b) && b[i] > ' ' { // compact JSON: no whitespace at all
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ' ', '\t':
			i++
		case '\n', '\r':
			if pg != nil {
				pg.Multiline = true
			}
			i++
		default:
			return i
		}
	}
	return i
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special marks, in the high bit of each byte, the bytes of v that end a
// plain run inside a string: a quote, a backslash or a control byte. Only
// the lowest mark is sure (a borrow can mark bytes above it), which is the
// one its callers look for.
func special(v uint64) uint64 {
	// Flipping bit 1 turns the quote (0x22) into 0x20 and keeps control
	// bytes below 0x20, so that one "byte below 0x21" test finds both.
	ctrlQ := v ^ (lsb * 0x02)
	slash := v ^ (lsb * '\\')
	return ((ctrlQ-lsb*0x21)&^ctrlQ | (slash-lsb)&^slash) & msb
}

// scanString returns the offset just past the string opening at b[i], or -1.
func scanString(b []byte, i int) int {
	i++
	for {
		for i+16 <= len(b) { // two words a turn: most of a page is long strings
			m := special(le64(b, i))
			if m == 0 {
				if m = special(le64(b, i+8)); m == 0 {
					i += 16
					continue
				}
				i += 8
			}
			i += bits.TrailingZeros64(m) / 8
			goto found
		}
		for i+8 <= len(b) {
			m := special(le64(b, i))
			if m == 0 {
				i += 8
				continue
			}
			// The lowest marked byte is the first special one: the borrow
			// that can mark bytes above a real match never reaches below it.
			i += bits.TrailingZeros64(m) / 8
			break
		}
	found:
		if i >= len(b) {
			return -1
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		case c < 0x20:
			return -1
		default:
			i++ // a plain byte in a tail shorter than eight
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber returns the offset just past the number at b[i], or -1:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func literal(b []byte, i int, word string) int {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return -1
	}
	return i + len(word)
}
