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

// A string that starts like the same value of the record before is
// compared with that one's plain start a word at a time, and only the rest
// is scanned: whatever follows the shared bytes (its end, an escape, a
// control byte) must be read as it would have been without the record
// before.
func TestShapeMatchAfterARecord(t *testing.T) {
	const learned = `{"s":"x","n":1}`
	cases := []struct {
		before, rec string // matched one after the other, in one page
		match       bool   // rec has the shape
	}{
		{`"0123456789abcdefXYZ"`, `"0123456789abcdefXYZ"`, true}, // the same value
		{`"0123456789abcdefXYZ"`, `"0123456789abcdef"`, true},    // ends where the words compared end
		{`"0123456789abcdefXYZ"`, `"0123456789abc"`, true},       // ends inside a compared word
		{`"0123456789abcdefXYZ"`, `"01234567"`, true},            // ends at a word's edge
		{`"0123456789abcdefXYZ"`, `""`, true},
		{`"0123456789abcdefXYZ"`, `"0123456789abcdefXYZ and more text"`, true},
		{`"0123456789abcdefXYZ"`, `"0123456789abcdef\"XYZ"`, true}, // an escape right after the shared words
		{`"0123456789abcdefXYZ"`, `"01234567\u00e9"`, true},
		{`"0123456789abcdefXYZ"`, `"01234567\q"`, false}, // a bad escape there
		{`"0123456789abcdefXYZ"`, "\"01234567\x01\"", false},
		{`"0123456789abcdefXYZ"`, "\"0123456789abcdef\x1f\"", false},
		{`"0123456789abcdefXYZ"`, `"012345"X"`, false}, // a quote inside the first word, and what follows it no value
		// The word that holds the end of the value before is not shared.
		{`"0123456789abcde"`, `"0123456789abcde"`, true},
		{`"0123456789abcde"`, `"0123456789abcde"XYZ"`, false},
		// The record before had an escape: only its plain start is shared.
		{`"01234567\"9abcdefXYZ"`, `"01234567\"9abcdefXYZ"`, true},
		{`"01234567\"9abcdefXYZ"`, `"01234567\q9abcdefXYZ"`, false},
		{`"01234567\"9abcdefXYZ"`, "\"01234567\x009abcdefXYZ\"", false},
		{`"0123456789a\u00e9"`, `"0123456789a\u00e9"`, true},
		{`"0123456789a\u00e9"`, `"0123456789a\u00g9"`, false},
		// The record before did not match.
		{`1`, `"0123456789abcdef"`, true},
	}
	for _, c := range cases {
		var s shape
		if !s.learn([]byte(learned)) {
			t.Fatalf("learn(%s) refused", learned)
		}
		first := `{"s":` + c.before + `,"n":1}`
		rec := `{"s":` + c.rec + `,"n":2}`
		// More of the page after rec: the words compared may reach past it.
		page := []byte(first + "," + rec + "," + strings.Repeat(" ", 32) + "]")
		want := len(first) + 1 + len(rec)
		end := s.match(page, 0)
		if wantFirst := c.before[0] == '"'; (end == len(first)) != wantFirst {
			t.Fatalf("match(%s) = %d, want a match: %v", first, end, wantFirst)
		}
		got := s.match(page, len(first)+1)
		if (got >= 0) != c.match {
			t.Errorf("after %s, match(%s) = %d, want a match: %v", first, rec, got, c.match)
			continue
		}
		if got >= 0 && got != want {
			t.Errorf("after %s, match(%s) ended at %d, want %d", first, rec, got, want)
		}
		// The record on its own: the one before changes nothing.
		var alone shape
		alone.learn([]byte(learned))
		if got := alone.match([]byte(rec), 0) >= 0; got != c.match {
			t.Errorf("match(%s) on its own: %v, want %v", rec, got, c.match)
		}
	}
}

// What a shape knows of the record before is of its page: on another page
// the bytes at the same offsets are anything.
func TestShapeMatchOnAnotherPage(t *testing.T) {
	var s shape
	if !s.learn([]byte(`{"s":"x","n":1}`)) {
		t.Fatal("learn refused")
	}
	if s.match([]byte(`{"s":"0123456789abcdefXYZ","n":1}`), 0) < 0 {
		t.Fatal("no match on the first page")
	}
	// At the first page's value offset, this one has ab","n": (two
	// quotes), as the second record does: shared with a plain start, they
	// would hide the value's end.
	first := `{"s":"ab","n":1}` + strings.Repeat(" ", 20) + `,`
	page := []byte(first + `{"s":"ab","n":Q","n":2}` + strings.Repeat(" ", 32))
	if end := s.match(page, len(first)); end >= 0 {
		t.Errorf("matched %s, which is not JSON", page[len(first):end])
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

// FuzzShape checks that whatever a shape matches is one valid JSON object,
// rec on its own and after another record (whose values rec's may share
// their start with: see match).
func FuzzShape(f *testing.F) {
	f.Add([]byte(`{"name":"a","url":"b"}`), []byte(`{"name":"c","url":"d"}`), []byte(`{"name":"e","url":"f"}`))
	f.Add([]byte(`{"o":{"p":[1,"s",{"q":null}]},"n":2}`), []byte(`{"o":{"p":[22,"tt",{"q":false}]},"n":-3}`), []byte(`{"o":{"p":[2,"t",{"q":true}]},"n":0}`))
	f.Add([]byte(`{"a":1}`), []byte(`{"a":01}`), []byte(`{"a":1}`))
	f.Add([]byte(`{"a":"x"}`), []byte(`{"a":"\u00"}`), []byte(`{"a":"x"}`))
	f.Add([]byte(`{"u":"x"}`), []byte(`{"u":"https://pokeapi.co/api/v2/pokemon/1/"}`), []byte(`{"u":"https://pokeapi.co/api/v2/pokemon/"x"}`))
	f.Fuzz(func(t *testing.T, learned, before, rec []byte) {
		if !json.Valid(learned) || len(learned) == 0 || learned[0] != '{' {
			return
		}
		var s shape
		if !s.learn(learned) {
			return
		}
		valid := func(b []byte) bool { return json.Valid(b) && b[0] == '{' }
		if end := s.match(rec, 0); end >= 0 && !valid(rec[:end]) {
			t.Fatalf("shape of %s matched %q, not one valid object", learned, rec[:end])
		}
		page := append(append(append([]byte{}, before...), ','), rec...)
		if end := s.match(page, 0); end >= 0 && !valid(page[:end]) {
			t.Fatalf("shape of %s matched %q, not one valid object", learned, page[:end])
		}
		if end := s.match(page, len(before)+1); end >= 0 && !valid(page[len(before)+1:end]) {
			t.Fatalf("shape of %s matched %q after %q, not one valid object", learned, page[len(before)+1:end], before)
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
