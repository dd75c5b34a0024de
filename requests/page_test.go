package requests

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

	"github.com/tidwall/gjson"
)

// onePass runs the one-pass reader over b for key.
func onePass(b []byte, key string) (*Page, bool) {
	pg := newPage(key)
	return pg, scanJSON(b, pg)
}

// twoPass is what the reader must agree with: encoding/json's validity,
// then gjson's view of the array at key.
func twoPass(b []byte, key string) (want Page, valid bool) {
	want.Key, want.NotObject = key, -1
	if !json.Valid(b) {
		return want, false
	}
	res := gjson.ParseBytes(b)
	if key != "" {
		if !res.IsObject() {
			return want, true
		}
		res = res.Get(key)
	}
	want.Found = res.Exists()
	want.Null = res.Type == gjson.Null && res.Exists()
	want.IsArray = res.IsArray()
	want.Multiline = bytes.ContainsAny(b, "\n\r")
	if want.IsArray {
		for _, e := range res.Array() {
			if !e.IsObject() && want.NotObject < 0 {
				want.NotObject = len(want.Records)
			}
			want.Records = append(want.Records, e.Raw)
		}
	}
	return want, true
}

func checkOnePass(t *testing.T, b []byte, key string) {
	t.Helper()
	got, ok := onePass(b, key)
	want, valid := twoPass(b, key)
	if ok != valid {
		t.Fatalf("scanJSON(%q) valid = %v, encoding/json says %v", b, ok, valid)
	}
	if ok != validJSON(b) {
		t.Fatalf("scanJSON(%q) with a page = %v, without = %v", b, ok, !ok)
	}
	if !ok {
		return
	}
	if !gjson.ParseBytes(b).IsObject() && key != "" {
		if got.Found {
			t.Fatalf("%q: found key %q in a body that is not an object", b, key)
		}
		return
	}
	if got.Found != want.Found || got.Null != want.Null || got.IsArray != want.IsArray || got.NotObject != want.NotObject || got.Multiline != want.Multiline {
		t.Fatalf("%q at %q: got found=%v null=%v array=%v notObject=%d multiline=%v, gjson found=%v null=%v array=%v notObject=%d multiline=%v",
			b, key, got.Found, got.Null, got.IsArray, got.NotObject, got.Multiline, want.Found, want.Null, want.IsArray, want.NotObject, want.Multiline)
	}
	if !slices.Equal(got.Records, want.Records) {
		t.Fatalf("%q at %q: records\n%q\ngjson's\n%q", b, key, got.Records, want.Records)
	}
}

var pageCases = []struct{ body, key string }{
	{`{"count":2,"next":null,"results":[{"id":1},{"id":2,"a":[1,{"b":"]}"}]}]}`, "results"},
	{` { "results" : [ { "id" : 1 } , {"id":2} ] , "next" : "x" } `, "results"},
	{"{\"results\":[\n  {\"id\": 1,\n \"s\": \"a\\nb\"},\r\n  {}\n]}", "results"},
	{"{\"results\":[{\"a\"\r\n:\n1}]}", "results"},
	{`{"results":[]}`, "results"},
	{`{"results":null}`, "results"},
	{`{"results":{"id":1}}`, "results"},
	{`{"results":[{"id":1},2,{"id":3}]}`, "results"},
	{`{"results":[[1],{"id":1}]}`, "results"},
	{`{"other":[{"id":1}],"results":[{"id":2}]}`, "results"},
	{`{"results":[{"id":1}],"after":[{"x":1}]}`, "results"},
	{`{"nested":{"results":[{"id":1}]}}`, "results"},
	{`{"results":[{"id":1}],"results":[{"id":2}]}`, "results"},
	{`{"res\u0075lts":[{"id":1}]}`, "results"},
	{`{"a\"b":[{"id":1}]}`, `a"b`},
	{`[{"id":1},{"id":2}]`, ""},
	{`[]`, ""},
	{`null`, ""},
	{`null`, "results"},
	{`[{"results":[{"id":1}]}]`, "results"},
	{`{"id":1}`, ""},
	{`"x"`, ""},
	{`{"results":[{"id":1},{"id"`, "results"},
	{`{"results":[{"id":1}]`, "results"},
	{`{"results":[{"id":1}]}}`, "results"},
	{`<html>oops</html>`, "results"},
	// Strings long enough for the scanner's two-word turns, with their
	// special bytes in either word.
	{`{"results":[{"u":"http://127.0.0.1:1/api/v2/pokemon/1/","q":"0123456789\"bcdefghijklmnop","e":"0123\u00e9"}]}`, "results"},
	{"{\"results\":[{\"u\":\"0123456789abc\x01efghijklmnop\"}]}", "results"},
	{"{\"results\":[{\"u\":\"01234\x1f6789abcdefghijklmnop\"}]}", "results"},
	{`{"results":[{"u":"0123456789abcdefghijklmno\"}]}`, "results"},
	{`{"results":[{"u":"0123456789abcdefghijklmnopqrstuvwxyz`, "results"},
	{`{"results":[{"id":1}]} x`, "results"},
	// Records whose keys repeat: the reader matches a key against the same
	// member's in the record before, so a key that differs by a byte, or
	// is broken where the one before was not, must still be read in full.
	{`{"results":[{"name":"a","url":"x"},{"name":"b","url":"y"},{"name":"c","url":"z"}]}`, "results"},
	{"{\"results\":[{\"name\":\"a\"},{\"name\x01\":\"b\"}]}", "results"},
	{`{"results":[{"name":"a"},{"name":"b"},{"name:"c"}]}`, "results"},
	{`{"results":[{"name":"a"},{"name" :"b"},{"name":"c"}]}`, "results"},
	{"{\"results\":[{\"name\"\n:\"a\"},{\"name\"\n:\"b\"}]}", "results"},
	{`{"results":[{"name":"a"},{"name":`, "results"},
	{`{"results":[{"name":"a"},{"name"`, "results"},
	{`{"results":[{"a":1,"b":2},{"b":2,"a":1},{"a":1,"b":2,"c":3}]}`, "results"},
	{`{"results":[{"k\u0041":1},{"k\u0041":2},{"k\u00":3}]}`, "results"},
	{`{"results":[{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10},{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10}]}`, "results"},
	{`[{"id":1,"o":{"id":2}},{"id":3,"o":{"id":4}}]`, ""},
	// Keys of up to eight bytes with their colon are matched as one word:
	// a key of exactly eight and one of nine, a key that differs from the
	// one before only in its last byte or in its colon, a key no longer
	// than the one before's word, and keys in a body's last eight bytes.
	{`{"results":[{"abcde":1,"abcdef":2},{"abcde":3,"abcdef":4},{"abcdf":5,"abcdeg":6}]}`, "results"},
	{`{"results":[{"ab":1},{"ac":2},{"ab" :3},{"ab";4},{"a":5},{"abc":6}]}`, "results"},
	{`{"results":[{"ab":1},{"ab":2},{"ab\u0022":3},{"ab"}]}`, "results"},
	{`[{"ab":1},{"ab":2}]`, ""},
	{`[{"ab":1},{"ab":2},{"ab"`, ""},
	{`[{"ab":1},{"ab":2},{"ab":`, ""},
	{`{"results":[{"id":1},{"id":2}],"id":3}`, "results"},
	// Records of one layout are matched against the shape of the one the
	// full scanner read before (requests/shape.go): a record that differs
	// from it in a value's kind, in a value that is not valid, in a byte
	// of its literal runs, or that ends early, must be read in full.
	{`{"results":[{"a":"x","b":1},{"a":"y","b":2},{"a":3,"b":"z"},{"a":"w","b":-4.5e1}]}`, "results"},
	{`{"results":[{"a":true,"b":null},{"a":false,"b":true},{"a":null,"b":nul}]}`, "results"},
	{`{"results":[{"a":1},{"a":01},{"a":2}]}`, "results"},
	{`{"results":[{"a":1},{"a":1.},{"a":2}]}`, "results"},
	{`{"results":[{"a":1},{"a":-},{"a":2}]}`, "results"},
	{`{"results":[{"a":1},{"a":tru},{"a":2}]}`, "results"},
	{`{"results":[{"a":"x"},{"a":"\q"},{"a":"y"}]}`, "results"},
	{"{\"results\":[{\"a\":\"x\"},{\"a\":\"\x01\"},{\"a\":\"y\"}]}", "results"},
	{`{"results":[{"a":"x"},{"a":"y\"}]}`, "results"},
	{`{"results":[{"a":"x"},{"a":"y"},{"a":"z`, "results"},
	{`{"results":[{"a":"x"},{"a":"y"},{"a":`, "results"},
	{`{"results":[{"a":"x"},{"a":"y"},{"a"`, "results"},
	{`{"results":[{"a":"x"},{"a":"y"},{`, "results"},
	{`{"results":[{"a":"x"},{"a":"y"},{"a":"z"`, "results"},
	{`{"results":[{"a":"x"},{"a":"y"},{"a":"z"]}`, "results"},
	{`{"results":[{"a":"x"},{ "a":"y"},{"a":"z"},{"a" : "w"}]}`, "results"},
	{`{"results":[{"name":"x","url":"u"},{"name":"y","url":"v"},{"name":"y","urk":"v"},{"nane":"y","url":"v"}]}`, "results"},
	{`{"results":[{"o":{"p":[1,"s",true]},"n":2},{"o":{"p":[3,"t",false]},"n":4},{"o":{"p":[3,"t"]},"n":4},{"o":{"p":[3,"t",false,5]},"n":4}]}`, "results"},
	{`{"results":[{"o":{"p":[1,"s"]}},{"o":{"p":[1,{"s":1}]}},{"o":{"p":[1,["s"]]}}]}`, "results"},
	{`{"results":[{"a_key_longer_than_sixteen_bytes":"x","b":1},{"a_key_longer_than_sixteen_bytes":"y","b":2},{"a_key_longer_than_sixteen_bytez":"y","b":2}]}`, "results"},
	{`[{"a":"x"},{"a":"y"},{"a":"z"}]`, ""},
	{`[{"a":"x"},{"a":"y"},{"a":"z"`, ""},
	{`[{"a":"x"},{"a":"y"},{"a":"z"}`, ""},
	{`[{"a":"x"},{"a":"y"},"z",{"a":"w"},7]`, ""},
	{"[{\"a\":\"x\"},\n{\"a\":\"y\"},\n{\"a\":\"z\"}]", ""},
	{"[{\"a\":\n\"x\"},{\"a\":\n\"y\"},{\"a\":\"z\"}]", ""},
	{`[{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"s":19,"t":20,"u":21,"v":22,"w":23,"x":24,"y":25,"z":26,"A":27,"B":28,"C":29,"D":30,"E":31,"F":32},{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"s":19,"t":20,"u":21,"v":22,"w":23,"x":24,"y":25,"z":26,"A":27,"B":28,"C":29,"D":30,"E":31,"F":32}]`, ""},
}

func TestOnePassAgreesWithTwoPasses(t *testing.T) {
	for _, c := range pageCases {
		t.Run(c.body, func(t *testing.T) { checkOnePass(t, []byte(c.body), c.key) })
	}
}

// FuzzOnePass checks the one-pass reader against the validator it
// replaces (and encoding/json) and against gjson's view of the records.
func FuzzOnePass(f *testing.F) {
	for _, c := range pageCases {
		f.Add([]byte(c.body), c.key)
	}
	f.Add(pokePage(3), "results")
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		if !PageKey(key) {
			return
		}
		checkOnePass(t, b, key)
	})
}

func TestReadPage(t *testing.T) {
	u, _ := url.Parse("https://api.test/items?api_key=s3cret")
	read := func(body string) (*JSONResponse, error) {
		return ReadPage(&http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)),
			Request: &http.Request{Method: http.MethodGet, URL: u}}, 0, "results")
	}
	r, err := read(`{"results":[{"id":1},{"id":2}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if pg := r.Page(); pg == nil || !slices.Equal(pg.Records, []string{`{"id":1}`, `{"id":2}`}) {
		t.Fatalf("page = %+v", pg)
	}
	r.Release()
	if r.Page() != nil || r.Body != nil {
		t.Error("Release kept the page or the body")
	}
	// A truncated page is refused as ReadJSON refuses it: no records.
	_, err = read(`{"results":[{"id":1},{"id":2`)
	if err == nil || !strings.Contains(err.Error(), ErrNotJSON.Error()) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v, want ErrNotJSON without the secret", err)
	}
	// An empty body is null: no key.
	r, err = ReadPage(&http.Response{StatusCode: 204, Header: http.Header{}, Body: http.NoBody, Request: &http.Request{Method: http.MethodGet, URL: u}}, 0, "")
	if err != nil || !r.Page().Null {
		t.Fatalf("empty body: %v, %+v", err, r.Page())
	}
}

// variedPage is n records whose layouts differ from one to the next (an
// array of one to three elements), as a detail endpoint's can: no shape
// holds for two records in a row, and the reader must give up on shapes
// at little cost.
func variedPage(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"results":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"types":[`, i)
		for j := range i%3 + 1 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"slot":%d,"type":{"name":"t%d","url":"http://x/api/v2/type/%d/"}}`, j+1, j, j)
		}
		b.WriteString(`]}`)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func BenchmarkPage(b *testing.B) {
	varied := variedPage(1000)
	b.Run("varied/1000", func(b *testing.B) {
		b.SetBytes(int64(len(varied)))
		for b.Loop() {
			pg := newPage("results")
			if !scanJSON(varied, pg) || len(pg.Records) != 1000 {
				b.Fatal("bad page")
			}
			pg.release()
		}
	})
	for _, n := range []int{100, 1000} {
		page := pokePage(n)
		b.Run(fmt.Sprintf("onepass/%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				pg := newPage("results")
				if !scanJSON(page, pg) || len(pg.Records) != n {
					b.Fatal("bad page")
				}
				pg.release()
			}
		})
		b.Run(fmt.Sprintf("validate/%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				if !validJSON(page) {
					b.Fatal("bad page")
				}
			}
		})
	}
}
