package singer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	goldenfile "github.com/integ/integ/internal/golden"
)

// golden compares got with testdata/name (go test -update rewrites it).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

type item struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Note      *string   `json:"note"`
	UpdatedAt time.Time `json:"updated_at"`
}

// fixedSource emits the given records (raw) from an incremental stream and a
// full-refresh stream.
func fixedSource(records ...string) *integ.Source {
	run := func(c *integ.HttpContext) error {
		for _, r := range records {
			if err := c.EmitRaw([]byte(r)); err != nil {
				return err
			}
		}
		return nil
	}
	type cfg struct {
		Token integ.Secret `json:"token"`
	}
	return integ.NewSource("fixed", cfg{}, integ.WithStreams(
		integ.NewStream("items", item{}, run, integ.PrimaryKey("id"), integ.Incremental("updated_at"), integ.Sorted()),
		integ.NewStream("plain", item{}, run, integ.PrimaryKey("id")),
		integ.NewStream("hidden", item{}, run, integ.NotSelectedByDefault()),
	))
}

var sample = []string{
	`{"id":9007199254740993,"name":"a","note":null,"updated_at":"2024-01-01T00:00:00Z"}`,
	`{"id":2,"name":"b \"quoted\" ü","note":"x","updated_at":"2024-01-02T00:00:00Z"}`,
}

func syncFixed(t *testing.T, catalog *integ.Catalog, state *integ.State) (stdout, stderr string, err error) {
	t.Helper()
	src := fixedSource(sample...)
	cfg, err := src.ParseConfig(json.RawMessage(`{"token":"tok-SECRET-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a loop fails, not hangs
	defer cancel()
	err = src.Sync(ctx, integ.SyncOptions{
		Config: cfg, Catalog: catalog, State: state,
		Protocol: NewProtocol(&errb), Output: driver.NewOutput(&out),
		Now:               func() time.Time { return time.Date(2030, 5, 6, 7, 8, 9, 123456789, time.UTC) },
		CheckpointRecords: 1,
	})
	return out.String(), errb.String(), err
}

func TestMessagesGolden(t *testing.T) {
	stdout, stderr, err := syncFixed(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sync.jsonl", []byte(stdout))
	durations := regexp.MustCompile(`"value": [0-9.]+, "tags": \{"endpoint": "(\w+)", "status"`)
	golden(t, "sync.stderr", []byte(durations.ReplaceAllString(stderr, `"value": 0, "tags": {"endpoint": "$1", "status"`)))
	checkMessages(t, stdout)
}

// checkMessages applies the Singer spec's rules to a tap's output, like
// singer-check-tap does: every line a known message with its required
// keys, a SCHEMA before a stream's records, records matching their schema's
// properties, STATE values that are objects.
func checkMessages(t *testing.T, stdout string) {
	t.Helper()
	schemas := map[string]map[string]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		var typ, stream string
		json.Unmarshal(m["type"], &typ)
		json.Unmarshal(m["stream"], &stream)
		switch typ {
		case "SCHEMA":
			var s struct {
				Schema        integ.Schema `json:"schema"`
				KeyProperties *[]string    `json:"key_properties"`
			}
			if err := json.Unmarshal([]byte(line), &s); err != nil || s.KeyProperties == nil || stream == "" {
				t.Errorf("line %d: bad SCHEMA (key_properties is required): %s", i+1, line)
			}
			props := map[string]bool{}
			for _, n := range s.Schema.PropertyNames() {
				props[n] = true
			}
			schemas[stream] = props
		case "RECORD":
			props, ok := schemas[stream]
			if !ok {
				t.Errorf("line %d: RECORD before SCHEMA for %q", i+1, stream)
			}
			var rec map[string]json.RawMessage
			if err := json.Unmarshal(m["record"], &rec); err != nil {
				t.Errorf("line %d: record is not an object", i+1)
			}
			for k := range rec {
				if !props[k] {
					t.Errorf("line %d: field %q is not in the stream's schema", i+1, k)
				}
			}
			var ts string
			json.Unmarshal(m["time_extracted"], &ts)
			if _, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "Z") {
				t.Errorf("line %d: time_extracted %q is not RFC 3339 UTC", i+1, ts)
			}
		case "STATE":
			var v map[string]any
			if err := json.Unmarshal(m["value"], &v); err != nil {
				t.Errorf("line %d: STATE value is not an object: %s", i+1, line)
			}
		default:
			t.Errorf("line %d: unknown message type %q", i+1, typ)
		}
	}
}

func TestCatalogSelectionIsHonoured(t *testing.T) {
	src := fixedSource()
	cat := Discover(src)
	raw, _ := json.Marshal(cat)
	golden(t, "catalog.json", raw)

	// Deselect the plain stream and the items stream's "note" field.
	var doc Catalog
	json.Unmarshal(raw, &doc)
	for i := range doc.Streams {
		s := &doc.Streams[i]
		for _, md := range s.Metadata {
			if len(md.Breadcrumb) == 0 && s.TapStreamID == "plain" {
				md.Metadata["selected"] = false
			}
			if len(md.Breadcrumb) == 2 && md.Breadcrumb[1] == "note" {
				md.Metadata["selected"] = false
			}
			if len(md.Breadcrumb) == 2 && md.Breadcrumb[1] == "id" {
				md.Metadata["selected"] = false // automatic: stays
			}
		}
	}
	edited, _ := json.Marshal(doc)
	parsed, err := ParseCatalog(edited)
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := syncFixed(t, parsed, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout, `"stream":"plain"`) || strings.Contains(stdout, `"stream":"hidden"`) {
		t.Error("deselected streams were synced")
	}
	if strings.Contains(stdout, `"note"`) {
		t.Error("a deselected field was synced")
	}
	if !strings.Contains(stdout, `"record":{"id":9007199254740993,"name":"a","updated_at":"2024-01-01T00:00:00Z"}`) {
		t.Errorf("automatic fields must stay:\n%s", stdout)
	}
	checkMessages(t, stdout)
}

func TestParseCatalogForms(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string // selected stream names
		wantErr  string
	}{
		{"metadata selected", `{"streams":[{"tap_stream_id":"a","metadata":[{"breadcrumb":[],"metadata":{"selected":true}}]},{"tap_stream_id":"b","metadata":[{"breadcrumb":[],"metadata":{"selected":false}}]}]}`, []string{"a"}, ""},
		{"selected-by-default", `{"streams":[{"tap_stream_id":"a","metadata":[{"breadcrumb":[],"metadata":{"selected-by-default":true}}]}]}`, []string{"a"}, ""},
		{"legacy stream flag", `{"streams":[{"stream":"a","selected":true,"metadata":[]}]}`, []string{"a"}, ""},
		{"legacy schema flag", `{"streams":[{"stream":"a","schema":{"selected":true,"properties":{}},"metadata":[]}]}`, []string{"a"}, ""},
		{"nothing selected", `{"streams":[{"stream":"a","metadata":[]}]}`, nil, ""},
		{"empty", ``, nil, "empty"},
		{"array", `[]`, nil, "object"},
		{"no streams", `{}`, nil, `no "streams"`},
		{"no name", `{"streams":[{"metadata":[]}]}`, nil, "neither"},
		{"bad selected", `{"streams":[{"stream":"a","metadata":[{"breadcrumb":[],"metadata":{"selected":"yes"}}]}]}`, nil, "true or false"},
		{"bad method", `{"streams":[{"stream":"a","metadata":[{"breadcrumb":[],"metadata":{"selected":true,"replication-method":"MAGIC"}}]}]}`, nil, "MAGIC"},
		{"bad breadcrumb", `{"streams":[{"stream":"a","metadata":[{"breadcrumb":["x"],"metadata":{}}]}]}`, nil, "breadcrumb"},
		{"trailing", `{"streams":[]} {}`, nil, "trailing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat, err := ParseCatalog([]byte(c.in))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !errors.Is(err, integ.ErrCatalog) {
					t.Fatalf("err = %v, want one mentioning %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range cat.Streams {
				names = append(names, s.Name)
			}
			if strings.Join(names, ",") != strings.Join(c.want, ",") {
				t.Errorf("selected %v, want %v", names, c.want)
			}
		})
	}
}

func TestParseStateForms(t *testing.T) {
	bm := `{"items":{"replication_key":"updated_at","replication_key_value":"2024-01-02T00:00:00Z"}}`
	for _, in := range []string{
		`{"bookmarks":` + bm + `}`,
		`{"value":{"bookmarks":` + bm + `}}`,
		`{"type":"STATE","value":{"bookmarks":` + bm + `}}`,
	} {
		st, err := ParseState([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := string(st.Stream("items")); !strings.Contains(got, "2024-01-02") {
			t.Errorf("%s: items state = %s", in, got)
		}
	}
	for _, in := range []string{``, `{}`, `null`, `{"bookmarks":null}`} {
		st, err := ParseState([]byte(in))
		if err != nil || len(st.Names()) != 0 {
			t.Errorf("%q: %v %v", in, st, err)
		}
	}
	for _, in := range []string{`[]`, `{"bookmarks":[]}`, `{"bookmarks":{"a":1}}`, `{"type":"RECORD","value":{}}`, `{"value":3}`, `{`} {
		if _, err := ParseState([]byte(in)); err == nil || !errors.Is(err, integ.ErrState) {
			t.Errorf("%q: err = %v", in, err)
		}
	}
}

func TestSecondRunFromFinalStateReadsNothingOld(t *testing.T) {
	stdout, _, err := syncFixed(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	states := regexp.MustCompile(`(?m)^\{"type":"STATE".*$`).FindAllString(stdout, -1)
	st, err := ParseState([]byte(states[len(states)-1]))
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := syncFixed(t, nil, st)
	if err != nil {
		t.Fatal(err)
	}
	// Inclusive resume: only the record at the bookmark comes again.
	if n := strings.Count(again, `"type":"RECORD","stream":"items"`); n != 1 {
		t.Errorf("second incremental run emitted %d items records, want 1 (the boundary):\n%s", n, again)
	}
	checkMessages(t, again)
}

func FuzzParseCatalog(f *testing.F) {
	raw, _ := json.Marshal(Discover(fixedSource()))
	f.Add(raw)
	f.Add([]byte(`{"streams":[{"stream":"a","selected":true,"metadata":[]}]}`))
	f.Add([]byte(`{"streams":[{"tap_stream_id":"a","schema":{"properties":{"x":{}}},"metadata":[{"breadcrumb":["properties","x"],"metadata":{"selected":false}}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cat, err := ParseCatalog(data)
		if err != nil {
			if !errors.Is(err, integ.ErrCatalog) {
				t.Fatalf("rejection is not ErrCatalog: %v", err)
			}
			return
		}
		for _, s := range cat.Streams {
			if s.Schema != nil && len(s.Schema.Properties) == 0 {
				t.Fatalf("stream %q: a schema with no properties is carried", s.Name)
			}
		}
		src := fixedSource()
		if _, err := src.Plan(cat); err != nil && !errors.Is(err, integ.ErrCatalog) {
			t.Fatalf("plan error is not ErrCatalog: %v", err)
		}
	})
}

func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"bookmarks":{"items":{"replication_key":"updated_at","replication_key_value":"2024-01-02T00:00:00Z"}}}`))
	f.Add([]byte(`{"type":"STATE","value":{"bookmarks":{}}}`))
	f.Add([]byte(`{"value":{"bookmarks":{"a":{"x":[1,2]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseState(data)
		if err != nil {
			if !errors.Is(err, integ.ErrState) {
				t.Fatalf("rejection is not ErrState: %v", err)
			}
			return
		}
		for _, n := range st.Names() {
			if !json.Valid(st.Stream(n)) {
				t.Fatalf("stream %q state is not JSON", n)
			}
		}
	})
}

func BenchmarkRecord(b *testing.B) {
	enc := NewProtocol(nil).Stream(&driver.Stream{Name: "items", PrimaryKey: []string{"id"}, Schema: json.RawMessage(`{}`)})
	buf := enc.Page(nil, time.Now())
	rec := []byte(sample[1])
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		buf = enc.Record(buf[:0], rec)
	}
}

// A stream that prefers a full refresh is discovered FULL_TABLE, with its
// replication key on offer; the catalog as discovered reads it whole, and
// a catalog that picks INCREMENTAL reads from the bookmark.
func TestDiscoverFullRefreshByDefault(t *testing.T) {
	type rec struct {
		ID int    `json:"id"`
		U  string `json:"u"`
	}
	src := integ.NewSource("x", struct{}{}, integ.WithStreams(integ.NewStream("s", rec{}, func(*integ.HttpContext) error { return nil },
		integ.PrimaryKey("id"), integ.Incremental("u"), integ.FullRefreshByDefault())))
	cat := Discover(src)
	md := cat.Streams[0].Metadata[0].Metadata
	if md["replication-method"] != "FULL_TABLE" || md["replication-key"] != "u" || md["forced-replication-method"] != nil {
		t.Errorf("stream metadata %v", md)
	}
	for _, method := range []string{"FULL_TABLE", "INCREMENTAL"} {
		md["replication-method"] = method
		raw, _ := json.Marshal(cat)
		parsed, err := ParseCatalog(raw)
		if err != nil {
			t.Fatal(err)
		}
		plans, err := src.Plan(parsed)
		if err != nil {
			t.Fatal(err)
		}
		if got := plans[0].Incremental(); got != (method == "INCREMENTAL") {
			t.Errorf("%s: incremental = %v", method, got)
		}
	}
}
