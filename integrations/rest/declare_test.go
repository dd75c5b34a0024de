package rest

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
)

// TestBadDeclarations checks that each mistake in a stream declaration fails
// before any request (the base URL has no server) with a config error that
// names the stream and the field.
func TestBadDeclarations(t *testing.T) {
	tests := []struct {
		name    string
		streams string
		want    []string
	}{
		{"unknown pagination type",
			`{"name": "posts", "path": "/posts", "pagination": {"type": "pages"}}`,
			[]string{`stream "posts": pagination.type "pages" is unknown; did you mean "page"? (use none, page, offset, link_header, next_url, cursor, last_record, body_cursor)`}},
		{"missing path",
			`{"name": "posts", "schema": {}}`,
			[]string{`stream "posts": path is missing`}},
		{"blank path",
			`{"name": "posts", "path": "  "}`,
			[]string{`stream "posts": path is missing`}},
		{"path with a space",
			`{"name": "posts", "path": "/my posts"}`,
			[]string{`stream "posts": path "/my posts" contains white space`}},
		{"records_path with an empty part",
			`{"name": "posts", "path": "/p", "records_path": "data..items"}`,
			[]string{`stream "posts": records_path "data..items" is not a valid gjson path: it has an empty part at offset 5`}},
		{"records_path with an unclosed query",
			`{"name": "posts", "path": "/p", "records_path": "data.#(id>1"}`,
			[]string{`stream "posts": records_path "data.#(id>1" is not a valid gjson path: '(' is never closed`}},
		{"records_path with an unknown modifier",
			`{"name": "posts", "path": "/p", "records_path": "@nope"}`,
			[]string{`stream "posts": records_path "@nope" is not a valid gjson path: @nope is not a gjson modifier`}},
		{"incremental_param without replication_key",
			`{"name": "posts", "path": "/p", "incremental_param": "since"}`,
			[]string{`stream "posts": incremental_param "since" needs a replication_key`}},
		{"sorted without replication_key",
			`{"name": "posts", "path": "/p", "sorted": true}`,
			[]string{`stream "posts": sorted needs a replication_key`}},
		{"a field the pagination type does not use",
			`{"name": "posts", "path": "/p", "pagination": {"type": "page", "path": "next"}}`,
			[]string{`stream "posts": pagination.path is not used by pagination.type "page"`}},
		{"a field of none",
			`{"name": "posts", "path": "/p", "pagination": {"size": 10}}`,
			[]string{`stream "posts": pagination.size is not used by pagination.type "none"`}},
		{"cursor without param and path",
			`{"name": "posts", "path": "/p", "pagination": {"type": "cursor"}}`,
			[]string{`stream "posts": pagination.path is required for pagination.type "cursor"`, `stream "posts": pagination.param is required for pagination.type "cursor"`}},
		{"next_url with a bad path",
			`{"name": "posts", "path": "/p", "pagination": {"type": "next_url", "path": "links.next."}}`,
			[]string{`stream "posts": pagination.path "links.next." is not a valid gjson path: it ends with '.'`}},
		{"size_param without size",
			`{"name": "posts", "path": "/p", "pagination": {"type": "page", "size_param": "limit"}}`,
			[]string{`stream "posts": pagination.size_param "limit" needs pagination.size`}},
		{"negative size and start",
			`{"name": "posts", "path": "/p", "pagination": {"type": "page", "size": -1, "start": -1}}`,
			[]string{`stream "posts": pagination.size -1 is negative`, `stream "posts": pagination.start -1 is negative`}},
		{"schema of arrays",
			`{"name": "posts", "path": "/p", "schema": {"type": "array"}}`,
			[]string{`stream "posts": schema: records are objects, but the schema's type is [array]`}},
		{"schema that is not one",
			`{"name": "posts", "path": "/p", "schema": 5}`,
			[]string{`stream "posts": schema: invalid JSON schema`}},
		{"primary key not in the schema",
			`{"name": "posts", "path": "/p", "primary_key": ["uuid"], "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}`,
			[]string{`stream "posts": primary_key "uuid" is not a property of the stream's schema`}},
		{"empty primary key field",
			`{"name": "posts", "path": "/p", "primary_key": [""]}`,
			[]string{`stream "posts": primary_key[0] is empty`}},
		{"replication key not in the schema",
			`{"name": "posts", "path": "/p", "replication_key": "updated", "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}`,
			[]string{`stream "posts": replication_key "updated" is not a property of the stream's schema`}},
		{"empty name",
			`{"name": "", "path": "/p"}`,
			[]string{`streams[0]: name is empty`}},
		{"duplicate names",
			`{"name": "posts", "path": "/a", "schema": {}}, {"name": "posts", "path": "/b", "schema": {}}`,
			[]string{`stream "posts": name is used by another stream too`}},
		{"every stream's mistakes at once",
			`{"name": "a", "path": "/a", "pagination": {"type": "pages"}}, {"name": "b", "records_path": "x."}`,
			[]string{`stream "a": pagination.type "pages"`, `stream "b": path is missing`, `stream "b": records_path "x." is not a valid gjson path`}},
		{"no streams",
			``,
			[]string{`streams: the config declares no streams`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := resolve(t, `{"base_url": "http://127.0.0.1:9", "streams": [`+tt.streams+`]}`)
			mustContain(t, err, tt.want...)
			if k := integ.KindOf(err); k != integ.ConfigFailure {
				t.Errorf("kind = %v, want config_error: %v", k, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(integ.UserMessage(err), w) {
					t.Errorf("user message %q lacks %q", integ.UserMessage(err), w)
				}
			}
		})
	}
}

func TestGoodDeclarations(t *testing.T) {
	tests := []struct {
		name   string
		base   string
		stream string
		url    string // the first request
	}{
		{"relative path", "http://h/api/", `"path": "/posts"`, "http://h/api/posts"},
		{"path without slash", "http://h/api", `"path": "posts"`, "http://h/api/posts"},
		{"absolute path", "http://h/api", `"path": "https://other/x?a=1"`, "https://other/x?a=1"},
		{"page defaults", "http://h", `"path": "/p", "pagination": {"type": "page"}`, "http://h/p?page=1"},
		{"page with size", "http://h", `"path": "/p", "pagination": {"type": "page", "size_param": "n", "size": 5, "start": 0}`, "http://h/p?page=0&n=5"},
		{"offset defaults", "http://h", `"path": "/p", "pagination": {"type": "offset", "size": 5}`, "http://h/p?offset=0&limit=5"},
		{"offset without size", "http://h", `"path": "/p", "pagination": {"type": "offset"}`, "http://h/p?offset=0"},
		{"cursor with size", "http://h", `"path": "/p", "pagination": {"type": "cursor", "path": "next", "param": "c", "size_param": "n", "size": 3}`, "http://h/p?n=3"},
		{"params sorted", "http://h", `"path": "/p?x=1", "params": {"b": "2", "a": 1}`, "http://h/p?x=1&a=1&b=2"},
		{"a param the pagination overrides", "http://h", `"path": "/p", "params": {"page": "7"}, "pagination": {"type": "page"}`, "http://h/p?page=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			raw := `{"base_url": "` + tt.base + `", "streams": [{"name": "s", ` + tt.stream + `}]}`
			if err := json.Unmarshal([]byte(raw), &c); err != nil {
				t.Fatal(err)
			}
			decls, err := declare(&c)
			if err != nil {
				t.Fatal(err)
			}
			if got := firstURL(t, decls[0]); got != tt.url {
				t.Errorf("first request = %s, want %s", got, tt.url)
			}
		})
	}
}

func TestValuesUnmarshal(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{`{"a": "x", "b": 1, "c": 2.5, "d": true, "e": false}`, `a=x b=1 c=2.5 d=true e=false`, ""},
		{`{}`, ``, ""},
		{`null`, ``, ""},
		{`{"a": null}`, ``, `the value of "a" must be a string, a number or a boolean`},
		{`{"a": [1]}`, ``, `the value of "a" must be a string, a number or a boolean`},
		{`[1]`, ``, `must be an object of strings`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var v Values
			err := json.Unmarshal([]byte(tt.in), &v)
			if tt.err != "" {
				mustContain(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, k := range v.sortedKeys() {
				parts = append(parts, k+"="+v[k])
			}
			if got := strings.Join(parts, " "); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzDeclare feeds arbitrary stream declarations through the checks: they
// must return problems, never panic, and a declaration they accept must
// build its first request and paginator.
func FuzzDeclare(f *testing.F) {
	f.Add(`{"name": "s", "path": "/p", "records_path": "data", "pagination": {"type": "page", "size_param": "n", "size": 5}}`)
	f.Add(`{"name": "s", "path": "/p", "pagination": {"type": "cursor", "path": "meta.#(a==\"b\").c", "param": "c"}}`)
	f.Add(`{"name": "s", "path": "http://x/y?z", "replication_key": "u", "incremental_param": "since", "sorted": true, "schema": {"type": "object"}}`)
	f.Add(`{"name": "s", "path": "/p", "pagination": {"type": "offset", "start": 3}, "schema": {"properties": 1}}`)
	f.Fuzz(func(t *testing.T, stream string) {
		var sc StreamConfig
		if json.Unmarshal([]byte(stream), &sc) != nil {
			return
		}
		c := Config{BaseURL: "http://127.0.0.1:9", Streams: []StreamConfig{sc}}
		decls, err := declare(&c)
		if err != nil {
			if !strings.Contains(err.Error(), "stream") {
				t.Errorf("error %q names no stream", err)
			}
			return
		}
		for _, d := range decls {
			if req, err := d.firstRequest(&tmplEnv{}); err == nil {
				_ = req.URL()
			}
			if d.pager != nil {
				_ = d.newPager(slog.New(slog.DiscardHandler), "")
			}
		}
	})
}

// firstURL is the URL of a stream's first request on a first sync.
func firstURL(t *testing.T, d *stream) string {
	t.Helper()
	req, err := d.firstRequest(&tmplEnv{start: d.startDate})
	if err != nil {
		t.Fatal(err)
	}
	return req.URL()
}
