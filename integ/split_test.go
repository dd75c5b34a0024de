package integ

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// gjsonSplit is the reference: what gjson finds at key.
func gjsonSplit(body, key string) (elems []string, found, isArray bool) {
	var v gjson.Result
	if key == "" {
		v = gjson.Parse(body)
	} else {
		v = gjson.Get(body, key)
	}
	if !v.Exists() {
		return nil, false, false
	}
	if !v.IsArray() {
		return nil, true, false
	}
	v.ForEach(func(_, e gjson.Result) bool {
		elems = append(elems, e.Raw)
		return true
	})
	return elems, true, true
}

func checkSplit(t *testing.T, body, key string) {
	t.Helper()
	if !json.Valid([]byte(body)) {
		return // ReadJSON rejects invalid bodies before any split
	}
	want, found, isArray := gjsonSplit(body, key)
	start := skipSpace(body, 0)
	if key != "" {
		if body[start] != '{' {
			return // split hands non-object bodies to gjson
		}
		start = arrayAt(body, key)
	}
	if (start >= 0) != found {
		// gjson takes the last of duplicate keys; both are valid JSON readings
		// only when the key is unique, which is all the split promises.
		if countKey(body, key) > 1 {
			return
		}
		t.Fatalf("%q in %s: found=%v, gjson found=%v", key, body, start >= 0, found)
	}
	if !found || !isArray || body[start] != '[' {
		return
	}
	got, bad := splitArray(body, start, nil)
	for i, w := range want {
		if len(w) == 0 || w[0] != '{' {
			if bad != i {
				t.Fatalf("%s: first non-object at %d, splitArray says %d", body, i, bad)
			}
			return
		}
		if i >= len(got) || got[i] != w {
			t.Fatalf("%s: element %d is %q, gjson says %q", body, i, safeIndex(got, i), w)
		}
	}
	if bad != -1 || len(got) != len(want) {
		t.Fatalf("%s: split %d elements (bad %d), gjson %d", body, len(got), bad, len(want))
	}
}

func countKey(body, key string) int {
	n := 0
	gjson.Parse(body).ForEach(func(k, _ gjson.Result) bool {
		if k.Str == key {
			n++
		}
		return true
	})
	return n
}

func safeIndex(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<none>"
}

func TestSplitMatchesGjson(t *testing.T) {
	cases := []struct{ body, key string }{
		{`{"data":[{"a":1},{"b":"x,]}"},{"c":[1,{"d":"\\\""}]}]}`, "data"},
		{` [ {"a" : 1} , {"b":2} ] `, ""},
		{`{"count":3,"next":"http://x/?a=[1]","results":[{"name":"a"},{"name":"b\\\\"}]}`, "results"},
		{`{"results":[]}`, "results"},
		{`{"results":null}`, "results"},
		{`{"other":1}`, "results"},
		{`{"results":[{"a":1},2]}`, "results"},
		{`{"results":{"a":1}}`, "results"},
		{`{"a":{"results":[{}]},"results":[{"x":"\u005d"}]}`, "results"},
		{"{\n  \"data\": [\n    {\n      \"id\": 1\n    }\n  ]\n}", "data"},
	}
	for _, c := range cases {
		checkSplit(t, c.body, c.key)
	}
}

func FuzzSplitMatchesGjson(f *testing.F) {
	f.Add(`{"data":[{"a":1},{"b":"x,]}"}]}`, "data")
	f.Add(`[{"a":"\\"},{}]`, "")
	f.Add(`{"x":[1,2],"data":[{"q":[{"r":"]"}]}]}`, "data")
	f.Fuzz(func(t *testing.T, body, key string) {
		if key != "" && !simpleKey(key) {
			return
		}
		checkSplit(t, body, key)
	})
}

func TestSelectFields(t *testing.T) {
	keep := map[string]bool{"id": true, "a\nb": true, "note": true}
	for in, want := range map[string]string{
		`{"id":1,"drop":{"x":[1,"]"]},"note":"n"}`:        `{"id":1,"note":"n"}`,
		` { "drop" : 1 , "id" : [ 1 , 2 ] } `:             `{"id":[ 1 , 2 ]}`,
		`{"a\nb":true,"x":null}`:                          `{"a\nb":true}`,
		`{}`:                                              `{}`,
		`{"note":"a\"b","id":-1.5e3,"z":"\\","id2":true}`: `{"note":"a\"b","id":-1.5e3}`,
	} {
		if got := string(selectFields(nil, []byte(in), keep)); got != want {
			t.Errorf("selectFields(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzSelectFields checks the raw copy against decoding: the kept members,
// and only they, with the same values.
func FuzzSelectFields(f *testing.F) {
	f.Add(`{"id":1,"drop":{"x":[1,"]"]},"note":"n"}`, "id")
	f.Add(`{"a\u0062":2,"b":3}`, "ab")
	f.Fuzz(func(t *testing.T, rec, key string) {
		var in map[string]json.RawMessage
		if json.Unmarshal([]byte(rec), &in) != nil || !strings.HasPrefix(strings.TrimSpace(rec), "{") {
			return
		}
		out := selectFields(nil, []byte(rec), map[string]bool{key: true})
		var got map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("selectFields(%s) = %s: not JSON: %v", rec, out, err)
		}
		want, ok := in[key]
		if ok != (len(got) == 1) || ok && !bytes.Equal(compactJSON(got[key]), compactJSON(want)) {
			t.Fatalf("selectFields(%s, %q) = %s", rec, key, out)
		}
	})
}

func compactJSON(b []byte) []byte {
	var out bytes.Buffer
	json.Compact(&out, b)
	return out.Bytes()
}

// splitBoth splits body at key twice: from a response read in one pass
// (requests.ReadPage) and from one read by ReadJSON, which the splitter
// scans afterwards. Both must find the same records, or the same error.
func splitBoth(t *testing.T, body, key string) {
	t.Helper()
	read := func(one bool) (*requests.JSONResponse, error) {
		resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)),
			Request: &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: "api.test", Path: "/x"}}}
		if one {
			return requests.ReadPage(resp, 0, key)
		}
		return requests.ReadJSON(resp, 0)
	}
	r1, err1 := read(true)
	r2, err2 := read(false)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%q: ReadPage err %v, ReadJSON err %v", body, err1, err2)
	}
	if err1 != nil {
		return
	}
	c := &HttpContext{w: &streamWriter{info: &StreamPlan{Stream: &Stream{Name: "s"}}}}
	var path []string
	if key != "" {
		path = []string{key}
	}
	recs1, serr1 := c.split(r1, path)
	ml1 := c.w.multiline
	recs1 = slices.Clone(recs1)
	c.w.multiline = false
	recs2, serr2 := c.split(r2, path)
	if fmt.Sprint(serr1) != fmt.Sprint(serr2) {
		t.Fatalf("%q at %q: one pass: %v; two passes: %v", body, key, serr1, serr2)
	}
	if !slices.Equal(recs1, recs2) {
		t.Fatalf("%q at %q: one pass %q; two passes %q", body, key, recs1, recs2)
	}
	if len(recs1) > 0 && ml1 != c.w.multiline {
		t.Fatalf("%q: multiline %v, two passes %v", body, ml1, c.w.multiline)
	}
}

func TestSplitOnePassMatchesTwoPasses(t *testing.T) {
	for _, c := range []struct{ body, key string }{
		{`{"data":[{"a":1},{"b":"x,]}"},{"c":[1,{"d":"\\\""}]}]}`, "data"},
		{` [ {"a" : 1} , {"b":2} ] `, ""},
		{`{"results":[]}`, "results"},
		{`{"results":null}`, "results"},
		{`{"other":1}`, "results"},
		{`{"results":[{"a":1},2]}`, "results"},
		{`{"results":{"a":1}}`, "results"},
		{`[{"results":[{}]}]`, "results"},
		{`null`, "results"},
		{`null`, ""},
		{`"x"`, ""},
		{"{\n  \"data\": [\n    {\n      \"id\": 1\n    }\n  ]\n}", "data"},
		{`{"a":{"results":[{}]},"results":[{"x":"\u005d"}]}`, "results"},
	} {
		splitBoth(t, c.body, c.key)
	}
}

// FuzzSplitOnePass is the differential check of the one-pass reader
// against the validator and splitter it replaces on the record path.
func FuzzSplitOnePass(f *testing.F) {
	f.Add(`{"data":[{"a":1},{"b":"x,]}"}]}`, "data")
	f.Add(`[{"a":"\\"},{}]`, "")
	f.Add(`{"x":[1,2],"data":[{"q":[{"r":"]"}]}]}`, "data")
	f.Add("{\"data\":[{\"a\":\n1}]}", "data")
	f.Fuzz(func(t *testing.T, body, key string) {
		if key != "" && !simpleKey(key) {
			return
		}
		splitBoth(t, body, key)
	})
}

// BenchmarkReadSplit compares reading and splitting a page the two ways:
// validating the body, then splitting it (twopass, what ReadJSON and the
// splitter do), and finding the records while validating (onepass,
// requests.ReadPage).
func BenchmarkReadSplit(b *testing.B) {
	for _, n := range []int{100, 1000} {
		var body bytes.Buffer
		body.WriteString(`{"count":1000,"next":"http://x/?offset=1000","results":[`)
		for i := range n {
			if i > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `{"name":"pokemon-%d","url":"http://x/api/v2/pokemon/%d/"}`, i, i)
		}
		body.WriteString("]}")
		page := body.Bytes()
		c := &HttpContext{w: &streamWriter{info: &StreamPlan{Stream: &Stream{Name: "pokemon"}}}}
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "http", Host: "x", Path: "/"}}
		rd := bytes.NewReader(nil)
		for _, onePass := range []bool{false, true} {
			name := fmt.Sprintf("twopass/%d", n)
			if onePass {
				name = fmt.Sprintf("onepass/%d", n)
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(page)))
				b.ReportAllocs()
				for b.Loop() {
					rd.Reset(page)
					resp := &http.Response{StatusCode: 200, Body: io.NopCloser(rd), ContentLength: int64(len(page)), Request: req}
					var r *requests.JSONResponse
					var err error
					if onePass {
						r, err = requests.ReadPage(resp, 0, "results")
					} else {
						r, err = requests.ReadJSON(resp, 0)
					}
					if err != nil {
						b.Fatal(err)
					}
					if recs, err := c.split(r, []string{"results"}); err != nil || len(recs) != n {
						b.Fatal(err, len(recs))
					}
					r.Release()
				}
			})
		}
	}
}
