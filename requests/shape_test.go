package requests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestShapeMatch(t *testing.T) {
	cases := []struct {
		learned, rec string
		match        bool // rec, up to the end of its first record, has the learned shape
	}{
		// The same layout with other values of the same kinds.
		{`{"name":"bulbasaur","url":"http://127.0.0.1:1/api/v2/pokemon/1/"}`, `{"name":"ivysaur","url":"http://127.0.0.1:1/api/v2/pokemon/2/"},`, true},
		{`{"id":1,"score":-0.5,"ok":true,"gone":null}`, `{"id":98765,"score":1e-9,"ok":false,"gone":true}]`, true},
		{`{"s":"plain"}`, `{"s":"esc\"aped \\ \u00e9 \/ \n"}`, true},
		{`{"s":"é漢字"}`, `{"s":"🙂"}`, true},
		// A value's first two words are looked at in place, the rest
		// scanned: its end or a special byte at each side of that seam.
		{`{"s":"x"}`, `{"s":"0123456789abcde"}`, true},
		{`{"s":"x"}`, `{"s":"0123456789abcdef"}`, true},
		{`{"s":"x"}`, `{"s":"0123456789abcdefg"}`, true},
		{`{"s":"x"}`, `{"s":"0123456789abcdef\"g"}`, true},
		{`{"s":"x"}`, `{"s":"0123456789abcde\"fg"}`, true},
		{`{"o":{"p":[1,"s",{"q":null}]},"n":2}`, `{"o":{"p":[22,"tt",{"q":false}]},"n":-3}`, true},
		{`{ "a" : "x" ,` + "\n" + ` "b" : 1 }`, `{ "a" : "yy" ,` + "\n" + ` "b" : 22 }`, true},
		{`{"a_key_longer_than_sixteen_bytes":"x"}`, `{"a_key_longer_than_sixteen_bytes":"y"}`, true},
		{`{}`, `{}`, true},
		{`{"a":[]}`, `{"a":[]}`, true},
		// A value of another kind, or not valid.
		{`{"a":"x"}`, `{"a":1}`, false},
		{`{"a":1}`, `{"a":"1"}`, false},
		{`{"a":1}`, `{"a":true}`, false},
		{`{"a":true}`, `{"a":1}`, false},
		{`{"a":1}`, `{"a":01}`, false},
		{`{"a":1}`, `{"a":1.}`, false},
		{`{"a":1}`, `{"a":-}`, false},
		{`{"a":1}`, `{"a":1e}`, false},
		{`{"a":true}`, `{"a":tru}`, false},
		{`{"a":true}`, `{"a":nul}`, false},
		{`{"a":"x"}`, `{"a":"\q"}`, false},
		{`{"a":"x"}`, "{\"a\":\"\x1f\"}", false},
		{`{"a":"x"}`, "{\"a\":\"0123456789abcde\x01ghijklmnopqrstuv\"}", false},
		{`{"a":"x"}`, "{\"a\":\"0123456789abcdef\x01ghijklmnopqrstuv\"}", false},
		{`{"a":"x"}`, "{\"a\":\"0123456789abcdefg\x01hijklmnopqrstuv\"}", false},
		{`{"a":"x"}`, `{"a":"\u12G4"}`, false},
		{`{"a":"x"}`, `{"a":"x`, false},
		// Another layout.
		{`{"a":"x"}`, `{"b":"x"}`, false},
		{`{"a":"x"}`, `{"a" :"x"}`, false},
		{`{"a":"x"}`, `{"a":"x","b":1}`, false},
		{`{"a":"x","b":1}`, `{"a":"x"}`, false},
		{`{"a":[1]}`, `{"a":[1,2]}`, false},
		{`{"a":[1,2]}`, `{"a":[1]}`, false},
		{`{"a":{"b":1}}`, `{"a":[1]}`, false},
		{`{"a_key_longer_than_sixteen_bytes":"x"}`, `{"a_key_longer_than_sixteen_bytez":"x"}`, false},
		{`{"name":"a","url":"b"}`, `{"name":"a","urk":"b"}`, false},
		{`{"name":"a","url":"b"}`, `{"nane":"a","url":"b"}`, false},
		{`{"abcdefghij":"x"}`, `{"abcdefghiX":"y"}`, false}, // a run of 9 to 16 bytes that differs past its eighth
		{`{"abcdefghij":1}`, `{"abcdefghij"x1}`, false},
		// Ends early: the page is cut inside the record.
		{`{"name":"a","url":"b"}`, `{"name":"a","url":"b"`, false},
		{`{"name":"a","url":"b"}`, `{"name":"a","url":`, false},
		{`{"name":"a","url":"b"}`, `{"name":"a",`, false},
		{`{"n":1}`, `{"n":1`, false},
		{`{"n":1}`, `{"n":`, false},
		{`{"n":true}`, `{"n":`, false},
	}
	for _, c := range cases {
		var s shape
		if !s.learn([]byte(c.learned)) {
			t.Fatalf("learn(%s) refused", c.learned)
		}
		end := s.match([]byte(c.rec), 0)
		if (end >= 0) != c.match {
			t.Errorf("shape of %s, match(%s) = %d, want a match: %v", c.learned, c.rec, end, c.match)
			continue
		}
		if end >= 0 && !json.Valid([]byte(c.rec[:end])) {
			t.Errorf("shape of %s matched %s, which is not valid JSON", c.learned, c.rec[:end])
		}
		if want := len(strings.TrimRight(c.rec, ",]")); end >= 0 && end != want {
			t.Errorf("shape of %s, match(%s) ended at %d, want %d: the record's end", c.learned, c.rec, end, want)
		}
	}
}

func TestShapeRefusesRecordsWithTooManyValues(t *testing.T) {
	var b strings.Builder
	b.WriteByte('{')
	for i := range maxShapeSegs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k":1`)
	}
	b.WriteByte('}')
	var s shape
	if s.learn([]byte(b.String())) {
		t.Fatalf("learned a shape of %d values, more than it holds", maxShapeSegs)
	}
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	if s.learn([]byte(deep)) {
		t.Fatal("learned a shape 40 levels deep")
	}
}

// The shape is what makes a page of like records cheap: every record but
// the first must be matched, not scanned in full.
func TestScanMatchesLikeRecords(t *testing.T) {
	for _, c := range []struct {
		body   string
		shaped int
	}{
		{string(pokePage(100)), 99},
		{`[{"a":1},{"a":2},{"b":3},{"b":4},{"b":5},{"b":6}]`, 3},       // learned again after two misses in a row
		{`[{"a":1},{"a":2},{"a":null},{"a":3},{"a":4}]`, 3},            // one odd record keeps the shape
		{`[{"a":1},{"a":null},{"a":2},{"a":null},{"a":3},{"a":4}]`, 3}, // and another
		{`[{"a":1},7,{"a":2}]`, 1},
		{`[{"a":1},{"a":2},3,{"a":4},{"a":5}]`, 3},                                  // a run of matches ends at a value that is no object
		{`[{"a":1},{"a":2},{"a":null},{"a":4},{"a":5},{"b":6},{"b":7},{"b":8}]`, 4}, // misses inside runs: the odd one, then a new layout
		{"[{\"a\":1},{\"a\":2}, {\"a\":3},\n{\"a\":4}]", 3},                         // whitespace between records: the general path
		{`{"results":[{"id":1}],"other":[{"id":2},{"id":3}]}`, 0},                   // only the records
	} {
		pg, ok := onePass([]byte(c.body), "results")
		if c.body[0] == '[' {
			pg, ok = onePass([]byte(c.body), "")
		}
		if !ok || pg.shaped != c.shaped {
			t.Errorf("%.60s: %d records matched their shape (valid %v), want %d", c.body, pg.shaped, ok, c.shaped)
		}
	}
}

// A page whose records keep changing layout stops learning shapes: each
// miss costs a record a second look.
func TestShapeGivesUpOnVariedRecords(t *testing.T) {
	var b strings.Builder
	b.WriteByte('[')
	for i := range 200 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"k":` + strings.Repeat("[1,", i%3) + "1" + strings.Repeat("]", i%3) + `}`)
	}
	b.WriteByte(']')
	pg, ok := onePass([]byte(b.String()), "")
	if !ok || len(pg.Records) != 200 {
		t.Fatalf("valid %v, %d records", ok, len(pg.Records))
	}
	var s shape
	for range 9 {
		s.missed()
	}
	if !s.off {
		t.Error("nine misses and no hit: still trying")
	}
	s = shape{hits: 100}
	for range 20 {
		s.missed()
	}
	if s.off {
		t.Error("20 misses in 120 records: gave up")
	}
}

// FuzzShape checks that whatever a shape matches is one valid JSON object.
func FuzzShape(f *testing.F) {
	f.Add([]byte(`{"name":"a","url":"b"}`), []byte(`{"name":"c","url":"d"}`))
	f.Add([]byte(`{"o":{"p":[1,"s",{"q":null}]},"n":2}`), []byte(`{"o":{"p":[22,"tt",{"q":false}]},"n":-3}`))
	f.Add([]byte(`{"a":1}`), []byte(`{"a":01}`))
	f.Add([]byte(`{"a":"x"}`), []byte(`{"a":"\u00"}`))
	f.Fuzz(func(t *testing.T, learned, rec []byte) {
		if !json.Valid(learned) || len(learned) == 0 || learned[0] != '{' {
			return
		}
		var s shape
		if !s.learn(learned) {
			return
		}
		if end := s.match(rec, 0); end >= 0 && (!json.Valid(rec[:end]) || rec[0] != '{') {
			t.Fatalf("shape of %s matched %q, not one valid object", learned, rec[:end])
		}
	})
}

// A record deeper than a shape holds, after a value the shape had already
// learned, is read in full, and so is every record after it.
func TestScanDeepRecords(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	rec := func(x int) string { return fmt.Sprintf(`{"x":%d,"d":%s,"y":"z"}`, x, deep) }
	body := "[" + rec(1) + "," + rec(2) + "," + rec(3) + "]"
	checkOnePass(t, []byte(body), "")
}
