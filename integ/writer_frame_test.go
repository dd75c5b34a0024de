package integ

import (
	"bytes"
	"strings"
	"testing"
)

// framePageBlocks writes each mid as a whole block and relies on the
// record after it to overwrite the block's tail: its output must be the
// plain loop's, byte for byte, whatever the lengths.
func TestFramePageBlocks(t *testing.T) {
	for _, tc := range []struct {
		prefix, suffix string
		recs           []string
	}{
		{`{"type":"RECORD","stream":"pokemon","record":`, `,"time_extracted":"2026-12-01T11:44:28.325677Z"}` + "\n",
			[]string{`{"name":"bulbasaur","url":"u1"}`, `{"name":"ivysaur","url":"u2"}`, `{}`}},
		{"<", ">\n", []string{"a", "", "bcd", ""}}, // a 3-byte mid, empty records
		{"(", ")", []string{"only one"}},
		{strings.Repeat("p", 64), strings.Repeat("s", 64), []string{"x", "yy", "z"}}, // a mid of exactly a block
		{strings.Repeat("p", 63), strings.Repeat("s", 64), []string{"x", strings.Repeat("r", 300), "z"}},
	} {
		mid := tc.suffix + tc.prefix
		n := len(tc.recs) * len(mid)
		var want bytes.Buffer
		want.WriteString("existing output;")
		want.WriteString(tc.prefix)
		for i, r := range tc.recs {
			if i > 0 {
				want.WriteString(mid)
			}
			want.WriteString(r)
			n += len(r)
		}
		want.WriteString(tc.suffix)
		got := framePageBlocks([]byte("existing output;"), n, []byte(tc.prefix), []byte(tc.suffix), []byte(mid), tc.recs)
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("mid of %d bytes, %d records:\ngot  %q\nwant %q", len(mid), len(tc.recs), got, want.Bytes())
		}
	}
}
