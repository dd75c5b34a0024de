package integ

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/requests"
)

func TestSplitJoinKey(t *testing.T) {
	tests := []struct {
		key  string
		segs []string
	}{
		{"updated_at", []string{"updated_at"}},
		{"attributes.updated", []string{"attributes", "updated"}},
		{"commit.committer.date", []string{"commit", "committer", "date"}},
		{`meta\.updated`, []string{"meta.updated"}},
		{`a\\.b`, []string{`a\`, "b"}},
		{`a.b\.c.d`, []string{"a", "b.c", "d"}},
		{"", []string{""}},
	}
	for _, tt := range tests {
		if got := SplitKey(tt.key); !reflect.DeepEqual(got, tt.segs) {
			t.Errorf("SplitKey(%q) = %q, want %q", tt.key, got, tt.segs)
		}
		if got := JoinKey(tt.segs...); got != tt.key {
			t.Errorf("JoinKey(%q) = %q, want %q", tt.segs, got, tt.key)
		}
	}
}

func FuzzSplitJoinKey(f *testing.F) {
	for _, s := range []string{"a.b", `a\.b`, `\\`, `a\`, "..", `\x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		segs := SplitKey(key)
		if again := SplitKey(JoinKey(segs...)); !reflect.DeepEqual(again, segs) {
			t.Fatalf("SplitKey(JoinKey(%q)) = %q", segs, again)
		}
	})
}

const nestedSchema = `{"type":"object","properties":{
	"id":{"type":"string"},
	"type":{"type":"string"},
	"attributes":{"type":"object","properties":{"updated":{"type":"string","format":"date-time"},"email":{"type":"string"},"meta.data":{"type":"object","properties":{"at":{"type":"integer"}}}}},
	"raw":{"type":"object"}}}`

func TestNestedReplicationKeyValidation(t *testing.T) {
	run := func(*HttpContext) error { return nil }
	tests := []struct{ key, wantErr string }{
		{"attributes.updated", ""},
		{`attributes.meta\.data.at`, ""},
		{"raw.anything.below", ""}, // an open object: nothing to check
		{"attributes.updatd", `replication key "attributes.updatd": "attributes" has no property "updatd"`},
		{"attributes.meta.data.at", `"attributes" has no property "meta"`},
		{`attributes.meta\.data.when`, `"attributes.meta\\.data" has no property "when"`},
		{"id.x", `"id" has no property "x"`},
		{"nope.x", `replication key "nope.x" is not a property of its schema`},
	}
	for _, tt := range tests {
		src := NewSource("x", eventsConfig{}, WithStreams(NewStream("s", nil, run, JSONSchema(json.RawMessage(nestedSchema)), Incremental(tt.key))))
		err := src.Err()
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.key, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want %q", tt.key, err, tt.wantErr)
		}
	}
}

// profilesAPI serves JSON:API profiles sorted by attributes.updated, two per
// page, honouring a since filter.
func profilesAPI(t *testing.T, n int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		since := r.URL.Query().Get("since")
		var all []string
		for i := 1; i <= n; i++ {
			ts := time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC).Format(time.RFC3339)
			if since != "" && ts < since {
				continue
			}
			all = append(all, fmt.Sprintf(`{"type":"profile","id":"p%d","attributes":{"updated":%q,"email":"p%d@x.io","meta.data":{"at":%d}}}`, i, ts, i, 9007199254740990+i))
		}
		fmt.Fprintf(w, `{"data":[%s]}`, strings.Join(all, ","))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func nestedSource(t *testing.T, srv *httptest.Server, key, schema string, opts ...StreamOption) *Source {
	run := func(c *HttpContext) error {
		req := requests.New(srv.URL + "/profiles")
		if b := c.Bookmark(); b.Exists() && b.Type == 3 {
			req = req.Query("since", b.String())
		}
		return c.EmitBatch(req, nil, "data")
	}
	opts = append([]StreamOption{JSONSchema(json.RawMessage(schema)), PrimaryKey("id"), Incremental(key), Sorted()}, opts...)
	src := NewSource("klaviyo", eventsConfig{}, WithStreams(NewStream("profiles", nil, run, opts...)))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestNestedReplicationKeySync(t *testing.T) {
	srv := profilesAPI(t, 4)
	for _, tc := range []struct{ name, key, schema, wantValue string }{
		{"declared", "attributes.updated", nestedSchema, `"2024-01-01T00:00:04Z"`},
		{"property-less schema", "attributes.updated", `{"type":"object"}`, `"2024-01-01T00:00:04Z"`},
		{"escaped dot, big integer", `attributes.meta\.data.at`, nestedSchema, `9007199254740994`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := nestedSource(t, srv, tc.key, tc.schema)
			out, err := runSync(t, src, srv.URL, nil, nil, 2)
			if err != nil {
				t.Fatal(err)
			}
			states := lines(out, "STATE ")
			key, _ := json.Marshal(tc.key)
			want := fmt.Sprintf(`STATE profiles {"replication_key":%s,"replication_key_value":%s}`, key, tc.wantValue)
			if len(states) == 0 || !strings.HasPrefix(states[len(states)-1], want) {
				t.Fatalf("final state:\n%s\nwant prefix %s", strings.Join(states, "\n"), want)
			}
			// Resume from the state: older records are filtered out even
			// though the API (for the integer key) ignores the filter.
			var st State
			st.Streams = map[string]json.RawMessage{"profiles": json.RawMessage(strings.Fields(states[len(states)-1])[2])}
			out, err = runSync(t, src, srv.URL, nil, &st, 2)
			if err != nil {
				t.Fatal(err)
			}
			if recs := lines(out, "REC "); len(recs) != 1 || !strings.Contains(recs[0], `"id":"p4"`) {
				t.Errorf("resume: %s", strings.Join(recs, "\n"))
			}
		})
	}
}

func TestNestedKeyFieldSelectionKeepsItsTopLevelField(t *testing.T) {
	srv := profilesAPI(t, 2)
	src := nestedSource(t, srv, "attributes.updated", nestedSchema)
	if got := src.Streams[0].AutomaticFields(); !slices.Equal(got, []string{"id", "attributes"}) {
		t.Errorf("automatic fields %q", got)
	}
	cat := &Catalog{Streams: []CatalogStream{{Name: "profiles", Mode: ModeIncremental, Fields: []string{"type"}}}}
	out, err := runSync(t, src, srv.URL, cat, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	recs := lines(out, "REC ")
	if len(recs) != 2 || !strings.HasPrefix(recs[0], `REC profiles {"type":"profile","id":"p1","attributes":{"updated"`) {
		t.Errorf("records: %s", strings.Join(recs, "\n"))
	}
	if !strings.Contains(out, `"replication_key_value":"2024-01-01T00:00:02Z"`) {
		t.Errorf("state: %s", out)
	}
}

// Transforms run before the bookmark: a key that only exists once
// "attributes" is flattened still drives state.
func TestFlattenThenIncrementalOnLiftedKey(t *testing.T) {
	srv := profilesAPI(t, 3)
	flat := `{"type":"object","properties":{"id":{"type":"string"},"type":{"type":"string"},"updated":{"type":"string"},"email":{"type":"string"},"meta.data":{"type":"object"}}}`
	src := nestedSource(t, srv, "updated", flat, Flatten("attributes"), Drop("type"))
	cat := &Catalog{Streams: []CatalogStream{{Name: "profiles", Mode: ModeIncremental, Fields: []string{"email"}}}}
	out, err := runSync(t, src, srv.URL, cat, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	recs := lines(out, "REC ")
	if len(recs) != 3 || recs[0] != `REC profiles {"id":"p1","updated":"2024-01-01T00:00:01Z","email":"p1@x.io"}` {
		t.Errorf("records: %s", strings.Join(recs, "\n"))
	}
	if !strings.Contains(out, `{"replication_key":"updated","replication_key_value":"2024-01-01T00:00:03Z"}`) {
		t.Errorf("state: %s", out)
	}
}
