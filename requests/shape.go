package requests

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// The records of a page mostly share one layout: the same keys in the same
// order, the same nesting, only the values changing. A shape is that
// layout, learned from a record the full scanner accepted: runs of literal
// bytes (braces, keys, colons, commas, whitespace), each followed by a
// value that may vary: a string, a number, or true, false or null. A record
// that repeats every literal run byte for byte, with a valid value of the
// same kind in each gap, is valid JSON as well: it is the learned record
// with some values swapped for others of their kind. Matching costs a word
// compare or two a run and the value scans, not the full scanner's work a
// token, and a string's scan starts past the words it shares with the
// same value of the record before; a record that differs is scanned in
// full, and a page whose records keep differing stops trying.
type shape struct {
	segs         [maxShapeSegs]shapeSeg
	n            int // segments learned; 0: none yet, or to learn again
	hits, misses int
	streak       int   // misses in a row
	off          bool  // given up on for this page
	page         *byte // the page the segments' prev offsets are in
}

// maxShapeSegs bounds a shape: a record with more values than this is
// scanned in full (such records are long, and the state machine's cost a
// token matters less against their values).
const maxShapeSegs = 32

// shapeSeg is a literal run and the kind of value after it. A run before
// a string ends with the string's opening quote.
type shapeSeg struct {
	lit    []byte // a view of the page the shape was learned on
	w1, w2 uint64 // lit's bytes as words (w1 the first eight when it is longer), when it is at most 16 bytes
	m2     uint64 // the bits of w2 that lit covers
	kind   byte   // '"' a string, '0' a number, 'l' true, false or null, 0 the record's end
	// b[prev:prev+plain] is the plain start of the string after lit in the
	// last record matched (up to its first quote, backslash or control
	// byte), in the page being scanned: see match. Offsets, not a slice,
	// keep the store a record makes free of write barriers.
	prev, plain int
}

func newShapeSeg(lit []byte, kind byte) shapeSeg {
	g := shapeSeg{lit: lit, kind: kind}
	if n := len(lit); n <= 16 {
		tail := lit
		if n > 8 {
			g.w1 = binary.LittleEndian.Uint64(lit)
			tail = lit[8:]
		}
		var w [8]byte
		copy(w[:], tail)
		g.w2 = binary.LittleEndian.Uint64(w[:])
		g.m2 = ^uint64(0) >> (64 - 8*len(tail))
		if len(tail) == 0 {
			g.m2 = 0
		}
	}
	return g
}

// learn takes rec, a JSON object the full scanner accepted, as the shape.
// It reports false when rec has more values than a shape holds.
func (s *shape) learn(rec []byte) bool {
	s.n = 0
	var stack [32]byte
	depth := 0
	key := false // the next string is a key, part of the literal run
	lit := 0
	for i := 0; i < len(rec); {
		var kind byte
		switch c := rec[i]; {
		case c == '"':
			if key {
				i, key = scanString(rec, i), false
				continue
			}
			kind = '"'
		case c == '-' || c >= '0' && c <= '9':
			kind = '0'
		case c == 't' || c == 'f' || c == 'n':
			kind = 'l'
		case c == '{' || c == '[':
			if depth == len(stack) {
				s.n = 0 // what was learned is no shape without its end
				return false
			}
			stack[depth] = c
			depth++
			i, key = i+1, c == '{'
			continue
		case c == '}' || c == ']':
			depth--
			i++
			continue
		case c == ',':
			i, key = i+1, stack[depth-1] == '{'
			continue
		default: // a colon or whitespace
			i++
			continue
		}
		if s.n == len(s.segs)-1 { // the last is the record's end
			s.n = 0
			return false
		}
		end := i
		if kind == '"' {
			end++ // the run takes the opening quote
		}
		s.segs[s.n] = newShapeSeg(rec[lit:end], kind)
		s.n++
		i = scanValue(rec, i, kind)
		lit = i
	}
	s.segs[s.n] = newShapeSeg(rec[lit:], 0)
	s.n++
	return true
}

// scanValue returns the offset just past the value of the given kind at
// b[i], or -1 when b[i] starts no such value.
func scanValue(b []byte, i int, kind byte) int {
	switch kind {
	case '"':
		return scanString(b, i)
	case '0':
		return scanNumber(b, i) // -1 unless b[i] starts a number
	default:
		switch b[i] {
		case 't':
			return literal(b, i, "true")
		case 'f':
			return literal(b, i, "false")
		case 'n':
			return literal(b, i, "null")
		}
		return -1
	}
}

// match returns the offset just past the record at b[i] when it has the
// shape, or -1.
func (s *shape) match(b []byte, i int) int {
	if p := unsafe.SliceData(b); p != s.page { // prev offsets are of another page
		s.page = p
		for k := range s.segs[:s.n] {
			s.segs[k].prev, s.segs[k].plain = 0, 0
		}
	}
	for k := range s.segs[:s.n] {
		g := &s.segs[k]
		n := len(g.lit)
		switch {
		case n > 16 || len(b)-i < 16:
			if len(b)-i < n || string(b[i:i+n]) != string(g.lit) {
				return -1
			}
		case n > 8:
			if le64(b, i) != g.w1 || le64(b, i+8)&g.m2 != g.w2 {
				return -1
			}
		default:
			if le64(b, i)&g.m2 != g.w2 {
				return -1
			}
		}
		i += n
		switch g.kind {
		case 0:
			return i
		case '"':
			// A value mostly starts like the same value of the record
			// before (a URL, a date, a name with a number): the bytes it
			// shares with that one's plain start are plain too, and a word
			// compare is cheaper than looking for special bytes in it.
			start := i
			if g.prev+g.plain <= i && len(b)-i >= g.plain { // both runs in b: le64 checks no bounds
				for p := g.prev; p+8 <= g.prev+g.plain && le64(b, i) == le64(b, p); p += 8 {
					i += 8
				}
			}
			for len(b)-i >= 8 {
				m := special(le64(b, i))
				if m != 0 {
					i += bits.TrailingZeros64(m) / 8
					goto found
				}
				i += 8
			}
			for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i] >= 0x20 {
				i++
			}
		found:
			if i >= len(b) {
				return -1
			}
			g.prev, g.plain = start, i-start
			if b[i] == '"' {
				i++
				continue
			}
			i = scanString(b, i-1) // an escape or a control byte: from before it
		default:
			if i >= len(b) {
				return -1
			}
			i = scanValue(b, i, g.kind)
		}
		if i < 0 {
			return -1
		}
	}
	return -1 // a shape ends with the record's end: never here
}

// hit notes a record that matched.
func (s *shape) hit() {
	s.hits++
	s.streak = 0
}

// missed notes a record that did not match. One odd record (a null where
// the others have a number) keeps the shape; a second miss in a row means
// the layout changed, and the record the full scanner now reads is learned
// instead. A page whose records differ too often for a shape to pay stops
// trying.
func (s *shape) missed() {
	s.misses++
	if s.streak++; s.streak >= 2 {
		s.n = 0
	}
	if s.misses > 8 && s.misses*4 > s.hits {
		s.off = true
	}
}
