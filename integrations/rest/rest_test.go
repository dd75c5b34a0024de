package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/internal/golden"
	"github.com/integ/integ/requests"
)

const postSchema = `"schema": {"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "updated_at": {"type": "string", "format": "date-time"}}}`

func seq(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func TestPagination(t *testing.T) {
	tests := []struct {
		name    string
		posts   int
		stream  string
		queries []string // query strings of the requests, in order
		records int      // records synced, when not every post
	}{
		{
			name:    "none",
			posts:   25,
			stream:  `"path": "/all"`,
			queries: []string{""},
		},
		{
			name:    "explicit none",
			posts:   3,
			stream:  `"path": "all", "pagination": {"type": "none"}`,
			queries: []string{""},
		},
		{
			name:    "page, short last page ends the list when asked",
			posts:   25,
			stream:  `"path": "/page", "records_path": "data", "pagination": {"type": "page", "page_param": "page", "size_param": "per_page", "size": 10, "short_page_ends": true}`,
			queries: []string{"page=1&per_page=10", "page=2&per_page=10", "page=3&per_page=10"},
		},
		{
			// GitHub's per_page and Klaviyo's page[size] are caps: a
			// short page is not the last unless the config says so.
			name:    "page, a short page is followed by default",
			posts:   25,
			stream:  `"path": "/page", "records_path": "data", "pagination": {"type": "page", "page_param": "page", "size_param": "per_page", "size": 10}`,
			queries: []string{"page=1&per_page=10", "page=2&per_page=10", "page=3&per_page=10", "page=4&per_page=10"},
		},
		{
			name:    "page, empty last page",
			posts:   20,
			stream:  `"path": "/page", "records_path": "data", "pagination": {"type": "page", "size_param": "per_page", "size": 10}`,
			queries: []string{"page=1&per_page=10", "page=2&per_page=10", "page=3&per_page=10"},
		},
		{
			name:    "page from 0 with params",
			posts:   12,
			stream:  `"path": "/page0", "params": {"sort": "id", "n": 5}, "pagination": {"type": "page", "page_param": "p", "start": 0}`,
			queries: []string{"n=5&sort=id&p=0", "n=5&sort=id&p=1", "n=5&sort=id&p=2", "n=5&sort=id&p=3"},
		},
		{
			name:    "offset with default parameter names",
			posts:   25,
			stream:  `"path": "/offset", "records_path": "results", "pagination": {"type": "offset", "size": 10}`,
			queries: []string{"offset=0&limit=10", "offset=10&limit=10", "offset=20&limit=10", "offset=25&limit=10"},
		},
		{
			name:    "offset with named parameters",
			posts:   10,
			stream:  `"path": "/offset", "records_path": "results", "pagination": {"type": "offset", "offset_param": "offset", "limit_param": "limit", "size": 5}`,
			queries: []string{"offset=0&limit=5", "offset=5&limit=5", "offset=10&limit=5"},
		},
		{
			name:    "link_header",
			posts:   25,
			stream:  `"path": "/link", "params": {"_limit": "10", "_page": "1"}, "pagination": {"type": "link_header"}`,
			queries: []string{"_limit=10&_page=1", "_limit=10&_page=2", "_limit=10&_page=3"},
		},
		{
			name:    "link_header with a size",
			posts:   20,
			stream:  `"path": "/link", "pagination": {"type": "link_header", "size_param": "_limit", "size": 10}`,
			queries: []string{"_limit=10", "_limit=10&_page=2"},
		},
		{
			name:    "next_url, relative",
			posts:   25,
			stream:  `"path": "/next", "records_path": "items", "pagination": {"type": "next_url", "path": "links.next"}`,
			queries: []string{"", "after=7", "after=14", "after=21"},
		},
		{
			name:    "a short page ends paging, next link or not",
			posts:   25,
			stream:  `"path": "/next", "records_path": "items", "pagination": {"type": "next_url", "path": "links.next", "size": 10, "short_page_ends": true}`,
			queries: []string{""},
			records: 7,
		},
		{
			name:    "cursor",
			posts:   25,
			stream:  `"path": "/cursor", "records_path": "data.posts", "pagination": {"type": "cursor", "path": "meta.next_cursor", "param": "cursor", "size_param": "limit", "size": 10}`,
			queries: []string{"limit=10", "limit=10&cursor=MTA", "limit=10&cursor=MjA"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, srv := newFakeAPI(t, tt.posts)
			res, err := runSync(t, config(srv, tt.stream+", "+postSchema), nil)
			if err != nil {
				t.Fatal(err)
			}
			n := tt.posts
			if tt.records > 0 {
				n = tt.records
			}
			if got, want := res.ids(), seq(1, n); !slices.Equal(got, want) {
				t.Errorf("record ids = %v\nwant %v", got, want)
			}
			var got []string
			for _, uri := range api.log() {
				got = append(got, queryOf(uri))
			}
			if !slices.Equal(got, tt.queries) {
				t.Errorf("requests = %q\nwant %q", got, tt.queries)
			}
		})
	}
}

func TestIncremental(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		// wantQuery is the second sync's first query string.
		wantQuery string
	}{
		{
			name:      "the API filters",
			stream:    `"path": "/page", "records_path": "data", "replication_key": "updated_at", "incremental_param": "updated_since", "sorted": true, "pagination": {"type": "page", "size_param": "per_page", "size": 10}`,
			wantQuery: "updated_since=2024-01-01T00%3A25%3A00Z&page=1&per_page=10",
		},
		{
			name:      "the connector filters",
			stream:    `"path": "/all", "replication_key": "updated_at"`,
			wantQuery: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, srv := newFakeAPI(t, 25)
			cfg := config(srv, tt.stream+", "+postSchema)
			first, err := runSync(t, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(first.Records) != 25 {
				t.Fatalf("first sync: %d records, want 25", len(first.Records))
			}
			const bookmark = `{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:25:00Z"}`
			if got := string(first.State.Stream("posts")); got != bookmark {
				t.Fatalf("first sync state = %s, want %s", got, bookmark)
			}

			changed := time.Date(2024, 2, 1, 12, 0, 0, 0, time.UTC)
			api.touch(3, changed)
			api.touch(7, changed)
			n := len(api.log())
			second, err := runSync(t, cfg, first.State)
			if err != nil {
				t.Fatal(err)
			}
			// Post 25 is at the bookmark (resume is inclusive); 3 and 7 changed.
			if got, want := second.ids(), []string{"25", "3", "7"}; !slices.Equal(got, want) {
				t.Errorf("second sync ids = %v, want %v", got, want)
			}
			if got := queryOf(api.log()[n]); got != tt.wantQuery {
				t.Errorf("second sync's first request query = %q, want %q", got, tt.wantQuery)
			}
			want := `{"replication_key":"updated_at","replication_key_value":"2024-02-01T12:00:00Z"}`
			if got := string(second.State.Stream("posts")); got != want {
				t.Errorf("second sync state = %s, want %s", got, want)
			}
		})
	}
}

// authServer answers 200 with one record when ok accepts the request and
// 401 otherwise.
func authServer(t *testing.T, ok func(r *http.Request) bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ok(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="test"`)
			http.Error(w, `{"error": "unauthorized"}`, http.StatusUnauthorized)
			return
		}
		writeJSON(w, []map[string]any{{"id": 1}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name   string
		auth   string // the config's "auth" value
		secret string // the secret in it, which must never show
		ok     func(r *http.Request) bool
	}{
		{
			name: "none",
			auth: `{"type": "none"}`,
			ok:   func(r *http.Request) bool { return r.Header.Get("Authorization") == "" },
		},
		{
			name: "absent",
			auth: `null`,
			ok:   func(r *http.Request) bool { return r.Header.Get("Authorization") == "" },
		},
		{
			name:   "bearer",
			auth:   `{"type": "bearer", "token": "tok-123"}`,
			secret: "tok-123",
			ok:     func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer tok-123" },
		},
		{
			name:   "basic",
			auth:   `{"type": "basic", "username": "ann", "password": "pw-456"}`,
			secret: "pw-456",
			ok: func(r *http.Request) bool {
				u, p, ok := r.BasicAuth()
				return ok && u == "ann" && p == "pw-456"
			},
		},
		{
			name:   "api_key in a header (the default)",
			auth:   `{"type": "api_key", "name": "X-API-Key", "value": "key-789"}`,
			secret: "key-789",
			ok:     func(r *http.Request) bool { return r.Header.Get("X-API-Key") == "key-789" },
		},
		{
			name:   "api_key in the query",
			auth:   `{"type": "api_key", "name": "access", "value": "key-012", "in": "query"}`,
			secret: "key-012",
			ok: func(r *http.Request) bool {
				return r.URL.Query().Get("access") == "key-012" && r.Header.Get("Authorization") == ""
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := authServer(t, tt.ok)
			cfg := `{"base_url": "` + srv.URL + `", "auth": ` + strings.Replace(tt.auth, "null", `{}`, 1) + `, "streams": [{"name": "things", "path": "/things"}]}`
			if tt.auth == "null" {
				cfg = `{"base_url": "` + srv.URL + `", "streams": [{"name": "things", "path": "/things"}]}`
			}
			res, err := runSync(t, cfg, nil)
			if err != nil {
				t.Fatalf("sync with the right credentials: %v", err)
			}
			if len(res.Records) != 1 {
				t.Errorf("%d records, want 1", len(res.Records))
			}
			if tt.secret == "" {
				return
			}

			// The secret is declared, so protocols redact it from every log line.
			_, parsed, err := resolve(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(parsed.Secrets(), tt.secret) {
				t.Errorf("config secrets %d values, missing the auth secret", len(parsed.Secrets()))
			}

			// Wrong credentials: a config error. Its text may hold the secret
			// (an API key in a query parameter whose name does not look
			// secret), and protocols redact the config's secrets from it.
			wrong := strings.Replace(cfg, tt.secret, "wrong-"+tt.secret, 1)
			wrongCfg, err := Source().ParseConfig(json.RawMessage(wrong))
			if err != nil {
				t.Fatal(err)
			}
			_, err = runSync(t, wrong, nil)
			if err == nil {
				t.Fatal("sync with wrong credentials succeeded")
			}
			if k := integ.KindOf(err); k != integ.ConfigFailure {
				t.Errorf("kind = %v, want config_error: %v", k, err)
			}
			mustContain(t, err, "401")
			if shown := requests.Redact(err.Error(), wrongCfg.Secrets()...); strings.Contains(shown, tt.secret) {
				t.Errorf("redacted error shows the secret: %s", shown)
			}
		})
	}
}

func TestAuthDeclarationErrors(t *testing.T) {
	tests := []struct {
		auth string
		want string
	}{
		{`{"type": "bearer"}`, `auth.token is required when auth.type is "bearer"`},
		{`{"type": "basic", "password": "x"}`, `auth.username is required when auth.type is "basic"`},
		{`{"type": "api_key", "value": "x"}`, `auth.name is required when auth.type is "api_key"`},
		{`{"type": "api_key", "name": "k"}`, `auth.value is required when auth.type is "api_key"`},
		{`{"type": "api_key", "name": "bad name", "value": "x"}`, `auth.name: header name "bad name" is not a valid HTTP header name`},
		{`{"type": "oauth"}`, `field "auth.type"`},
		{`{"type": "api_key", "name": "k", "value": "x", "in": "body"}`, `field "auth.in"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			raw := `{"base_url": "http://127.0.0.1:9", "auth": ` + tt.auth + `, "streams": [{"name": "s", "path": "/s", "schema": {}}]}`
			_, _, err := resolve(t, raw)
			mustContain(t, err, tt.want)
			if k := integ.KindOf(err); k != integ.ConfigFailure {
				t.Errorf("kind = %v, want config_error", k)
			}
			if msg := integ.UserMessage(err); !strings.Contains(msg, tt.want) {
				t.Errorf("user message %q lacks %q", msg, tt.want)
			}
			// The middleware itself refuses the block, with the same words.
			cfg, err := Source().ParseConfig(json.RawMessage(raw))
			if err != nil {
				return // caught by the config schema
			}
			_, err = httpMiddleware(cfg)
			mustContain(t, err, tt.want)
		})
	}
}

func TestHeadersAndParams(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		writeJSON(w, []map[string]any{{"id": 1}})
	}))
	defer srv.Close()
	cfg := `{"base_url": "` + srv.URL + `/v1/", "headers": {"Accept": "application/json", "X-Version": 2, "User-Agent": "me"},
		"streams": [{"name": "s", "path": "things", "params": {"active": true, "limit": 50, "q": "a b"}}]}`
	if _, err := runSync(t, cfg, nil); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"Accept": "application/json", "X-Version": "2", "User-Agent": "me"} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	if got.URL.Path != "/v1/things" || got.URL.RawQuery != "active=true&limit=50&q=a+b" {
		t.Errorf("request = %s, want /v1/things?active=true&limit=50&q=a+b", got.URL.RequestURI())
	}

	_, _, err := resolve(t, `{"base_url": "http://127.0.0.1:9", "headers": {"X": {"a": 1}}, "streams": [{"name": "s", "path": "/s"}]}`)
	mustContain(t, err, `the value of "X" must be a string, a number or a boolean`)
	_, _, err = resolve(t, `{"base_url": "http://127.0.0.1:9", "headers": {"Bad:Name": "v"}, "streams": [{"name": "s", "path": "/s"}]}`)
	mustContain(t, err, `headers: header name "Bad:Name" is not a valid HTTP header name`)
}

func TestCheck(t *testing.T) {
	_, srv := newFakeAPI(t, 30)
	src, cfg, err := resolve(t, config(srv, `"path": "/page", "records_path": "data", "pagination": {"type": "page", "size_param": "per_page", "size": 10}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Check(testContext(t), cfg, nil, fastRetry); err != nil {
		t.Errorf("check: %v", err)
	}

	src, cfg, err = resolve(t, config(srv, `"path": "/missing", `+postSchema))
	if err != nil {
		t.Fatal(err)
	}
	err = src.Check(testContext(t), cfg, nil, fastRetry)
	mustContain(t, err, "connection check failed", "404")
}

func TestInferOnResolve(t *testing.T) {
	api, srv := newFakeAPI(t, 150)
	src, _, err := resolve(t, config(srv, `"path": "/page", "records_path": "data", "replication_key": "updated_at", "incremental_param": "updated_since", "pagination": {"type": "page", "size_param": "per_page", "size": 120}`))
	if err != nil {
		t.Fatal(err)
	}
	st := src.Stream("posts")
	b, _ := json.Marshal(st.Schema)
	want := `{"type":"object","description":"Inferred by tap-rest from 150 records of 4 pages; records may hold fields it lacks.","properties":{"id":{"type":"integer"},"title":{"type":"string"},"updated_at":{"type":"string","format":"date-time"}}}`
	if string(b) != want {
		t.Errorf("inferred schema = %s\nwant %s", b, want)
	}
	if want := "GET " + srv.URL + "/page; schema inferred from a sample of records"; st.Description != want {
		t.Errorf("description = %q, want %q", st.Description, want)
	}
	// The sample: every page up to the empty one, without the bookmark.
	// Then one page of the newest records, from a bookmark 30 days ago.
	got := api.log()
	if len(got) != 4 || !slices.Equal(got[:3], []string{"/page?page=1&per_page=120", "/page?page=2&per_page=120", "/page?page=3&per_page=120"}) ||
		!strings.HasPrefix(got[3], "/page?updated_since="+url.QueryEscape(time.Now().UTC().Add(-recentWindow).Format("2006-01-02T"))) {
		t.Errorf("requests = %q", got)
	}
}

func TestInferErrors(t *testing.T) {
	_, srv := newFakeAPI(t, 5)
	tests := []struct {
		stream string
		want   []string
	}{
		{`"path": "/page", "records_path": "items"`, []string{`stream "posts": records_path "items" is not in the response from ` + srv.URL + `/page`}},
		{`"path": "/object"`, []string{`stream "posts": the body in the response from`, `is not an array of records (set records_path`}},
		{`"path": "/page", "records_path": "total"`, []string{`records_path "total" in the response`, "is not an array of records"}},
		{`"path": "/page", "records_path": "data.#.id"`, []string{`element 0 at records_path "data.#.id"`, "is not a JSON object"}},
		{`"path": "/page", "records_path": "data", "replication_key": "modified"`, []string{`stream "posts": replication_key "modified" is not a field of the records (none of the 5 read to infer the schema has it)`}},
		{`"path": "/nowhere"`, []string{`stream "posts": the server refused the request that reads records to infer the schema: GET ` + srv.URL + `/nowhere answered 404 Not Found`}},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			_, _, err := resolve(t, config(srv, tt.stream))
			mustContain(t, err, tt.want...)
			if k := integ.KindOf(err); k != integ.ConfigFailure {
				t.Errorf("kind = %v, want config_error", k)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	_, srv := newFakeAPI(t, 5)
	// With a schema given nothing is read before the sync, which then finds
	// the records path missing.
	_, err := runSync(t, config(srv, `"path": "/page", "records_path": "items", `+postSchema), nil)
	mustContain(t, err, `stream "posts"`, `has no "items"`)
}

func TestPrettyJSONRecordsStayOnOneLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("[\n  {\n    \"id\": 1,\n    \"text\": \"a\\nb\"\n  },\r\n  {\"id\": 2}\n]\n"))
	}))
	defer srv.Close()
	res, err := runSync(t, `{"base_url": "`+srv.URL+`", "streams": [{"name": "s", "path": "/", "schema": {}}]}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(res.Records))
	for i, r := range res.Records {
		got[i] = string(r)
	}
	// The framework compacts records that span lines; one-line records pass as they are.
	if want := []string{`{"id":1,"text":"a\nb"}`, `{"id": 2}`}; !slices.Equal(got, want) {
		t.Errorf("records = %q, want %q", got, want)
	}
}

func TestExampleConfig(t *testing.T) {
	raw, err := os.ReadFile("testdata/example-config.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Source().ParseConfig(raw)
	if err != nil {
		t.Fatalf("the example config does not validate against the spec: %v", err)
	}
	var c Config
	if err := cfg.Decode(&c); err != nil {
		t.Fatal(err)
	}
	decls, err := declare(&c)
	if err != nil {
		t.Fatal(err)
	}
	if got := firstURL(t, decls[0]); got != "http://127.0.0.1:3000/posts?_order=asc&_sort=updated_at&_page=1&_limit=100" {
		t.Errorf("first request = %s", got)
	}
	if unknown := Source().UnknownConfigKeys(cfg); len(unknown) > 0 {
		t.Errorf("unknown keys %v", unknown)
	}
}

func TestKindOfDeclarationErrors(t *testing.T) {
	_, _, err := resolve(t, `{"base_url": "http://127.0.0.1:9", "streams": [{"name": "s"}]}`)
	var e *integ.Error
	if !errors.As(err, &e) || e.Kind != integ.ConfigFailure {
		t.Fatalf("err = %#v, want an *integ.Error of kind config_error", err)
	}
	if msg := integ.UserMessage(err); !strings.Contains(msg, `stream "s": path is missing`) {
		t.Errorf("user message %q does not name the stream and field", msg)
	}
}

// TestSpecGolden pins the JSON Schema of the connector's own settings, the
// user-facing contract (go test -update rewrites testdata/spec.golden.json).
// The framework's run settings, which the spec adds to every config, are
// left out: they are integ's contract, not this connector's.
func TestSpecGolden(t *testing.T) {
	schema, err := integ.ConfigSchemaOf(Config{})
	if err != nil {
		t.Fatal(err)
	}
	describeValues(schema)
	got, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range schema.Properties {
		if Source().ConfigSchema().Property(p.Name) == nil {
			t.Errorf("the spec lacks the setting %q", p.Name)
		}
	}
	got = append(got, '\n')
	golden.Check(t, "testdata/spec.golden.json", got)
}

func TestPaginationLoop(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"data": []map[string]any{{"id": 1}}, "next": "same"})
	}))
	defer srv.Close()
	_, err := runSync(t, `{"base_url": "`+srv.URL+`", "streams": [{"name": "s", "path": "/", "records_path": "data", "schema": {},
		"pagination": {"type": "cursor", "path": "next", "param": "c"}}]}`, nil)
	mustContain(t, err, `stream "s"`, "pagination loop", "c=same")
}

// TestSpecObjectsNotEmpty is Airbyte's spec.objects_not_empty rule: every
// object in the spec says what it holds (properties, additionalProperties
// or oneOf), so the UI can render it. headers and params broke it.
func TestSpecObjectsNotEmpty(t *testing.T) {
	src := Source()
	raw, err := json.Marshal(src.ConfigSchema())
	if err != nil {
		t.Fatal(err)
	}
	var walk func(at string, v any)
	walk = func(at string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		typ := fmt.Sprint(m["type"])
		if strings.Contains(typ, "object") {
			props, _ := m["properties"].(map[string]any)
			if len(props) == 0 && m["additionalProperties"] == nil && m["oneOf"] == nil {
				if at != "streams[].schema" && at != "streams[].body" {
					t.Errorf("%s: an object schema that describes no member", at)
				}
			}
		}
		if props, ok := m["properties"].(map[string]any); ok {
			for k, p := range props {
				walk(strings.TrimPrefix(at+"."+k, "."), p)
			}
		}
		if items, ok := m["items"]; ok {
			walk(at+"[]", items)
		}
	}
	var doc any
	_ = json.Unmarshal(raw, &doc)
	walk("", doc)
	if src.DocumentationURL == "" {
		t.Error("no documentationUrl")
	}
}
