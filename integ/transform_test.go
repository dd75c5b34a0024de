package integ

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// applyTransforms runs a stream's transform chain on one record the way the
// emit path does and returns the output, or "DROPPED".
func applyTransforms(t *testing.T, rec string, opts ...StreamOption) string {
	t.Helper()
	s := NewStream("s", nil, func(*HttpContext) error { return nil }, opts...)
	s.Schema = &Schema{}
	var got string
	run := &streamWriter{info: &StreamPlan{Stream: s}, children: []*childStream{}, silent: true} // a silent parent keeps its records in parents
	c := &HttpContext{w: run, logger: orDiscard(nil)}
	c.record([]byte(rec))
	if run.invalid != nil {
		return "INVALID: " + run.invalid.Error()
	}
	if len(run.parents) == 0 {
		return "DROPPED"
	}
	got = string(run.parents[0])
	var v any
	if err := json.Unmarshal(run.parents[0], &v); err != nil || strings.ContainsAny(got, "\r\n") {
		t.Fatalf("output is not single-line JSON (%v): %s", err, got)
	}
	return got
}

func TestTransforms(t *testing.T) {
	const jsonAPI = `{"type":"profile","id":"p1","attributes":{"email":"a@b.c","updated":"2024-01-02T00:00:00Z","id":"shadowed","n":9007199254740993,"nested":{"x":[1,{"y":"é\u00e9"}]}},"links":{}}`
	tests := []struct {
		name string
		in   string
		opts []StreamOption
		want string
	}{
		{"flatten lifts members in place, top level wins", jsonAPI, []StreamOption{Flatten("attributes")},
			`{"type":"profile","id":"p1","email":"a@b.c","updated":"2024-01-02T00:00:00Z","n":9007199254740993,"nested":{"x":[1,{"y":"é\u00e9"}]},"links":{}}`},
		{"flatten of a missing field keeps the record", `{"id":1}`, []StreamOption{Flatten("attributes")}, `{"id":1}`},
		{"flatten of a non-object keeps it", `{"id":1,"attributes":null}`, []StreamOption{Flatten("attributes")}, `{"id":1,"attributes":null}`},
		{"flatten of an empty object", `{"attributes":{},"id":1}`, []StreamOption{Flatten("attributes")}, `{"id":1}`},
		{"flatten with escaped keys", `{"a\"b":1,"attributes":{"c\u0064":2,"\\":3}}`, []StreamOption{Flatten("attributes")}, `{"a\"b":1,"c\u0064":2,"\\":3}`},
		{"flatten a field with a dot in its name", `{"a.b":{"c":1}}`, []StreamOption{Flatten("a.b")}, `{"c":1}`},
		{"drop", `{"attributes":{"type":"Account"},"Id":"001","Name":"Ünï"}`, []StreamOption{Drop("attributes")}, `{"Id":"001","Name":"Ünï"}`},
		{"drop several, escaped name", `{"a":1,"b\u0062":2,"c":3}`, []StreamOption{Drop("a", "bb")}, `{"c":3}`},
		{"drop everything", `{"a":1}`, []StreamOption{Drop("a")}, `{}`},
		{"add field", `{"id":1}`, []StreamOption{AddField("repository", func(*HttpContext) any { return "octo/cat" })}, `{"id":1,"repository":"octo/cat"}`},
		{"add field replaces", `{"repository":"old","id":1}`, []StreamOption{AddField("repository", func(*HttpContext) any { return map[string]int{"n": 1} })}, `{"id":1,"repository":{"n":1}}`},
		{"add field to an empty record", `{}`, []StreamOption{AddField("k", func(*HttpContext) any { return 9007199254740993 })}, `{"k":9007199254740993}`},
		{"add raw gjson", `{"id":1}`, []StreamOption{AddField("p", func(*HttpContext) any { return gjson.Parse(`{"big":9007199254740993}`) })}, `{"id":1,"p":{"big":9007199254740993}}`},
		{"add missing gjson is null", `{"id":1}`, []StreamOption{AddField("p", func(c *HttpContext) any { return c.Parent().Get("x") })}, `{"id":1,"p":null}`},
		{"add unencodable is null", `{"id":1}`, []StreamOption{AddField("p", func(*HttpContext) any { return func() {} })}, `{"id":1,"p":null}`},
		{"add field with a name to escape", `{"id":1}`, []StreamOption{AddField("a\"b\n", func(*HttpContext) any { return true })}, `{"id":1,"a\"b\n":true}`},
		{"filter keeps", `{"id":1}`, []StreamOption{Filter(func(r gjson.Result) bool { return !r.Get("pull_request").Exists() })}, `{"id":1}`},
		{"filter drops", `{"id":1,"pull_request":{}}`, []StreamOption{Filter(func(r gjson.Result) bool { return !r.Get("pull_request").Exists() })}, "DROPPED"},
		{"composed in order", jsonAPI, []StreamOption{Flatten("attributes"), Drop("links", "nested", "type"), AddField("source", func(*HttpContext) any { return "klaviyo" }),
			Filter(func(r gjson.Result) bool { return r.Get("email").String() != "" })},
			`{"id":"p1","email":"a@b.c","updated":"2024-01-02T00:00:00Z","n":9007199254740993,"source":"klaviyo"}`},
		{"a pretty-printed record", "{\n  \"id\": 1,\n  \"attributes\": {\"a\": 2}\n}", []StreamOption{Flatten("attributes")}, `{"id":1,"a":2}`},
		{"custom transform", `{"id":1}`, []StreamOption{Transform(func(rec gjson.Result, _ *HttpContext, dst []byte) ([]byte, bool) {
			return fmt.Appendf(dst, `{"id2":%d}`, rec.Get("id").Int()*2), true
		})}, `{"id2":2}`},
		{"custom transform returning garbage", `{"id":1}`, []StreamOption{Transform(func(_ gjson.Result, _ *HttpContext, dst []byte) ([]byte, bool) {
			return append(dst, `{"id":`...), true
		})}, `INVALID: stream "s": a transform returned something other than one JSON object: {"id":: a record transform returned invalid output`},
		{"custom transform returning an array", `{"id":1}`, []StreamOption{Transform(func(_ gjson.Result, _ *HttpContext, dst []byte) ([]byte, bool) {
			return append(dst, `[1]`...), true
		})}, `INVALID: stream "s": a transform returned something other than one JSON object: [1]: a record transform returned invalid output`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := applyTransforms(t, tt.in, tt.opts...); got != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

// issuesAPI serves GitHub-like issues, two per page, where every third
// entry is a pull request.
func issuesAPI(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Query().Get("page")
		switch page {
		case "", "1":
			w.Header().Set("Link", `<`+"http://"+r.Host+`/issues?page=2>; rel="next"`)
			fmt.Fprint(w, `[{"number":1,"title":"ünï \"q\""},{"number":2,"pull_request":{"url":"x"}}]`)
		default:
			fmt.Fprint(w, `[{"number":3,"title":"big","n":9007199254740993}]`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTransformsThroughEmitPages(t *testing.T) {
	srv := issuesAPI(t)
	type issue struct {
		Number     int    `json:"number"`
		Title      string `json:"title"`
		Repository string `json:"repository"`
	}
	run := func(c *HttpContext) error {
		return c.EmitPages(requests.New(srv.URL+"/issues"), requests.LinkHeader())
	}
	src := NewSource("gh", eventsConfig{}, WithStreams(NewStream("issues", issue{}, run, PrimaryKey("number"),
		Filter(func(r gjson.Result) bool { return !r.Get("pull_request").Exists() }),
		AddField("repository", func(c *HttpContext) any { return c.Stream() + "/repo" }),
	)))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	out, err := runSync(t, src, srv.URL, nil, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`REC issues {"number":1,"title":"ünï \"q\"","repository":"issues/repo"}`,
		`REC issues {"number":3,"title":"big","n":9007199254740993,"repository":"issues/repo"}`,
	}
	if got := lines(out, "REC "); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func BenchmarkRecordPathTransformed(b *testing.B) {
	rec := []byte(`{"type":"profile","id":"p1","attributes":{"email":"a@b.c","updated":"2024-01-02T00:00:00Z","n":9007199254740993}}`)
	s := NewStream("s", nil, func(*HttpContext) error { return nil }, Flatten("attributes"))
	s.Schema = &Schema{}
	r := &streamWriter{info: &StreamPlan{Stream: s}, enc: discardEncoder{}, e: &engine{}}
	c := &HttpContext{w: r}
	b.ReportAllocs()
	for b.Loop() {
		c.record(rec)
		r.buf = r.buf[:0]
	}
}

// A child stream's transform sees its invocation's parent (GitHub: add the
// repository to each issue), through EmitObject.
func TestTransformOnChildStreamSeesItsParent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/repos":
			fmt.Fprint(w, `[{"full_name":"octo/cat"},{"full_name":"octo/dog"}]`)
		default:
			fmt.Fprintf(w, `{"number":1,"path":%q,"pull_request":null}`, r.URL.Path)
		}
	}))
	t.Cleanup(srv.Close)
	type repo struct {
		FullName string `json:"full_name"`
	}
	type issue struct {
		Number     int    `json:"number"`
		Path       string `json:"path"`
		Repository string `json:"repository"`
	}
	repos := NewStream("repos", repo{}, func(c *HttpContext) error {
		return c.EmitBatch(requests.New(srv.URL+"/repos"), nil)
	}, PrimaryKey("full_name"))
	issues := NewStream("issues", issue{}, func(c *HttpContext) error {
		return c.EmitObject(requests.New(srv.URL + "/repos/" + c.Parent().Get("full_name").String() + "/issues/1"))
	}, ChildOf("repos"), Drop("pull_request"), AddField("repository", func(c *HttpContext) any { return c.Parent().Get("full_name") }))
	src := NewSource("gh", eventsConfig{}, WithStreams(repos, issues))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	out, err := runSync(t, src, srv.URL, &Catalog{Streams: []CatalogStream{{Name: "issues"}}}, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := `REC issues {"number":1,"path":"/repos/octo/cat/issues/1","repository":"octo/cat"}` + "\n" +
		`REC issues {"number":1,"path":"/repos/octo/dog/issues/1","repository":"octo/dog"}`
	if got := strings.Join(lines(out, "REC "), "\n"); got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

// A custom transform may write indented JSON: the record still goes out on
// one line.
func TestCustomTransformOutputIsPutOnOneLine(t *testing.T) {
	srv := issuesAPI(t)
	run := func(c *HttpContext) error {
		return c.EmitPages(requests.New(srv.URL+"/issues"), requests.LinkHeader())
	}
	indent := Transform(func(rec gjson.Result, _ *HttpContext, dst []byte) ([]byte, bool) {
		b, _ := json.MarshalIndent(map[string]any{"number": rec.Get("number").Int()}, "", "  ")
		return append(dst, b...), true
	})
	src := NewSource("gh", eventsConfig{}, WithStreams(NewStream("issues", nil, run, JSONSchema(json.RawMessage(`{"type":"object"}`)), indent)))
	out, err := runSync(t, src, srv.URL, nil, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := "REC issues {\"number\":1}\nREC issues {\"number\":2}\nREC issues {\"number\":3}"
	if got := strings.Join(lines(out, "REC "), "\n"); got != want {
		t.Errorf("\n got: %q\nwant: %q", got, want)
	}
}
