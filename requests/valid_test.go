package requests

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/tidwall/gjson"
)

func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	cases := []string{
		`{}`, `[]`, `""`, `0`, `-0`, `-0.5e+10`, `1E5`, `true`, `false`, `null`, ` {"a" : [1, 2, {"b": null}] } `,
		`"\u00e9\n\t\"\\\/"`, `"é漢字🙂"`, `{"a":"12345678901234567890\"x"}`, `[1,2,3,"aaaaaaaaaaaaaaaaaaaaaaaa\\"]`,
		// invalid
		``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{1:2}`, `[1 2]`, `01`, `1.`, `.5`, `1e`, `-`, `+1`,
		`tru`, `nul`, `"abc`, `"a\x"`, `"\u12G4"`, "\"a\x01b\"", "\"aaaaaaaa\x1fbbbbbbbb\"", `[]]`, `{}{}`, `<html>`,
		`{"count":3,"results":[{"id":1},{"id"`, `"\`, `"\u00"`, `[1,2`, "[\"x\"\x00]",
	}
	for _, c := range cases {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%q) = %v, encoding/json says %v", c, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c\"d"}],"e":-1.5e3}`, `"\u0041\\"`, `[true,false,null]`, "\"aaaaaaaa\x1fbbbb\"", `{"x":"` + string(bytes.Repeat([]byte("é"), 9)) + `"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

func pokePage(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"count":1000,"next":"https://pokeapi.co/api/v2/pokemon?offset=1000","results":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		// As PokéAPI lists them (https://pokeapi.co/docs/v2#resource-listspagination-section).
		fmt.Fprintf(&b, `{"name":"pokemon-%d","url":"https://pokeapi.co/api/v2/pokemon/%d/"}`, i, i)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func BenchmarkValidJSON(b *testing.B) {
	page := pokePage(1000)
	for _, v := range []struct {
		name string
		fn   func([]byte) bool
	}{{"integ", validJSON}, {"gjson", gjson.ValidBytes}, {"encoding-json", json.Valid}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				if !v.fn(page) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// special must mark, as its lowest marked byte, the first byte of a word
// that ends a plain run in a string: every byte value at every position,
// behind plain bytes and in front of any others.
func TestSpecialFindsTheFirstSpecialByte(t *testing.T) {
	isSpecial := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }
	first := func(w [8]byte) int {
		for i, c := range w {
			if isSpecial(c) {
				return i
			}
		}
		return 8
	}
	got := func(w [8]byte) int {
		m := special(binary.LittleEndian.Uint64(w[:]))
		if m == 0 {
			return 8
		}
		return bits.TrailingZeros64(m) / 8
	}
	for c := range 256 {
		for p := range 8 {
			for _, after := range []byte{'a', 0, '"', '\\', 0x1f, 0x80, 0xff, ' ', '!', '#'} {
				w := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
				w[p] = byte(c)
				for i := p + 1; i < 8; i++ {
					w[i] = after
				}
				if g, want := got(w), first(w); g != want {
					t.Fatalf("special(%q): first special byte at %d, want %d", w, g, want)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var w [8]byte
		for i := range w {
			w[i] = byte(r.Uint32())
			if r.IntN(2) == 0 { // plain bytes, so that special ones sit anywhere
				w[i] = 'a' + byte(r.IntN(26))
			}
		}
		if g, want := got(w), first(w); g != want {
			t.Fatalf("special(%q): first special byte at %d, want %d", w, g, want)
		}
	}
}
