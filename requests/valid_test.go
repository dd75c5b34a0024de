package requests

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	b.WriteString(`{"count":1000,"next":"http://x/?offset=1000","results":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"pokemon-%d","url":"http://x/api/v2/pokemon/%d/"}`, i, i)
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
