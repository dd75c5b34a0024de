package airbyte_test

// The rules of Airbyte's connector acceptance tests that need no Docker,
// applied to the pokeapi connector and to the incremental test source.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/internal/third_party/jsonschema"
	"github.com/integ/integ/protocol/airbyte"
)

func compileJSONSchema(t *testing.T, name string, raw []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	if err := c.AddResource(name, doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	s, err := c.Compile(name)
	if err != nil {
		t.Fatalf("%s is not a valid JSON Schema: %v", name, err)
	}
	return s
}

func validAgainst(t *testing.T, s *jsonschema.Schema, doc []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("not JSON: %s", doc)
	}
	return s.Validate(inst)
}

func TestSpec(t *testing.T) {
	for _, f := range []*fixture{newPokeFixture(t, 3), newEventsFixture(t, 1)} {
		t.Run(f.src.Name, func(t *testing.T) {
			f.t = t
			msgs, _, err := f.run(airbyte.Options{Command: airbyte.CommandSpec})
			if err != nil || len(msgs) != 1 || msgs[0].Type != "SPEC" {
				t.Fatalf("spec: err %v, messages %v", err, msgs)
			}
			var spec struct {
				DocumentationURL    string          `json:"documentationUrl"`
				ConnectionSpec      json.RawMessage `json:"connectionSpecification"`
				SupportsIncremental *bool           `json:"supportsIncremental"`
				ProtocolVersion     string          `json:"protocol_version"`
			}
			if err := json.Unmarshal(msgs[0].Spec, &spec); err != nil {
				t.Fatal(err)
			}
			if spec.DocumentationURL != f.src.DocumentationURL || spec.ProtocolVersion != airbyte.ProtocolVersion {
				t.Errorf("documentationUrl %q, protocol_version %q", spec.DocumentationURL, spec.ProtocolVersion)
			}
			if spec.SupportsIncremental == nil || *spec.SupportsIncremental != f.src.SupportsIncremental() {
				t.Errorf("supportsIncremental = %v, want %v", spec.SupportsIncremental, f.src.SupportsIncremental())
			}
			// The config the tests use validates against the spec (CAT's
			// test_config_match_spec), and the spec is draft-07.
			s := compileJSONSchema(t, "spec.json", spec.ConnectionSpec)
			raw, err := readFile(f.config)
			if err != nil {
				t.Fatal(err)
			}
			if err := validAgainst(t, s, raw); err != nil {
				t.Errorf("the test config does not match the spec: %v", err)
			}
			var cs integ.Schema
			if err := cs.UnmarshalJSON(spec.ConnectionSpec); err != nil {
				t.Fatal(err)
			}
			if got := string(cs.Extra["$schema"]); !strings.Contains(got, "draft-07") {
				t.Errorf("$schema = %s, want draft-07", got)
			}
			for i, p := range cs.Properties {
				if p.Schema.Title == "" || p.Schema.Description == "" {
					t.Errorf("property %q has no title or description", p.Name)
				}
				if got := string(p.Schema.Extra["order"]); got != strconv.Itoa(i) {
					t.Errorf("property %q: order = %q, want %d", p.Name, got, i)
				}
				if ap := p.Schema.AdditionalProperties; ap != nil && !*ap {
					t.Errorf("property %q: additionalProperties false", p.Name)
				}
			}
			if f.events != nil && !cs.Property("api_key").Secret {
				t.Error("api_key is not marked airbyte_secret")
			}
			if f.events != nil && !bytes.Contains(msgs[0].Spec, []byte(`"airbyte_secret":true`)) {
				t.Error(`spec has no "airbyte_secret":true`)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	f := newEventsFixture(t, 3)
	down := newEventsFixture(t, 0)
	down.srv.Close() // unreachable
	tests := []struct {
		name    string
		config  string
		want    string
		message string // part of the FAILED message
	}{
		{"good config", f.config, airbyte.StatusSucceeded, ""},
		{"wrong API key", f.write("bad-key.json", map[string]any{"base_url": "URL", "api_key": "wrong"}), airbyte.StatusFailed, "401"},
		{"missing required field", f.write("missing.json", `{"api_key":"x"}`), airbyte.StatusFailed, "base_url"},
		{"wrong type", f.write("type.json", `{"base_url":"http://x","page_size":"ten"}`), airbyte.StatusFailed, "page_size"},
		{"not JSON", f.write("garbage.json", `{"base_url":`), airbyte.StatusFailed, "not a JSON object"},
		{"no such file", f.dir + "/nope.json", airbyte.StatusFailed, "cannot read config file \"" + f.dir + "/nope.json\": no such file or directory"},
		{"no config at all", "", airbyte.StatusFailed, "--config"},
		{"server unreachable", down.config, airbyte.StatusFailed, "connection check failed"},
	}
	// The wrong key needs the real URL.
	raw, _ := readFile(f.config)
	var good map[string]any
	json.Unmarshal(raw, &good)
	tests[1].config = f.write("bad-key.json", map[string]any{"base_url": good["base_url"], "api_key": "wrong"})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			msgs, _, err := f.run(airbyte.Options{Command: airbyte.CommandCheck, ConfigPath: tt.config})
			if err != nil {
				t.Fatalf("check must exit 0, got %v", err)
			}
			st := of(msgs, "CONNECTION_STATUS")
			if len(st) != 1 || len(msgs) != len(st)+len(of(msgs, "LOG")) {
				t.Fatalf("want one CONNECTION_STATUS (and logs), got %v", msgs)
			}
			cs := st[0].ConnectionStatus
			if cs.Status != tt.want || !strings.Contains(cs.Message, tt.message) {
				t.Fatalf("status %s %q, want %s containing %q", cs.Status, cs.Message, tt.want, tt.message)
			}
			if cs.Status == airbyte.StatusFailed && len(cs.Message) < 10 {
				t.Errorf("message %q is too short to act on", cs.Message)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	for _, f := range []*fixture{newPokeFixture(t, 3), newEventsFixture(t, 1)} {
		t.Run(f.src.Name, func(t *testing.T) {
			f.t = t
			c := f.discover()
			if len(c.Streams) != len(f.src.Streams) {
				t.Fatalf("%d streams, want %d", len(c.Streams), len(f.src.Streams))
			}
			for i, s := range c.Streams {
				st := f.src.Streams[i]
				if s.Name != st.Name || !slices.Equal(s.SupportedSyncModes, st.SyncModes()) {
					t.Errorf("stream %d: %q %v, want %q %v", i, s.Name, s.SupportedSyncModes, st.Name, st.SyncModes())
				}
				raw, _ := json.Marshal(s.JSONSchema)
				compileJSONSchema(t, s.Name+".json", raw)
				for _, pk := range s.SourceDefinedPrimaryKey {
					if len(pk) != 1 || s.JSONSchema.Property(pk[0]) == nil {
						t.Errorf("%s: primary key %v is not in the schema", s.Name, pk)
					}
				}
				incremental := st.ReplicationKey != ""
				if s.SourceDefinedCursor != incremental || s.IsResumable != incremental {
					t.Errorf("%s: source_defined_cursor %v, is_resumable %v, want %v", s.Name, s.SourceDefinedCursor, s.IsResumable, incremental)
				}
				if incremental && (len(s.DefaultCursorField) != 1 || s.JSONSchema.Property(s.DefaultCursorField[0]) == nil) {
					t.Errorf("%s: default_cursor_field %v is not in the schema", s.Name, s.DefaultCursorField)
				}
				if ap := s.JSONSchema.AdditionalProperties; ap != nil && !*ap {
					t.Errorf("%s: additionalProperties false", s.Name)
				}
			}
		})
	}
}

// checkRead applies the basic read rules and returns records by stream.
func checkRead(t *testing.T, f *fixture, catalog map[string]any, msgs []msg) map[string][]json.RawMessage {
	t.Helper()
	names := map[string]*jsonschema.Schema{}
	for _, cs := range catalog["streams"].([]map[string]any) {
		s := cs["stream"].(airbyte.Stream)
		raw, _ := json.Marshal(s.JSONSchema)
		names[s.Name] = compileJSONSchema(t, s.Name+".json", raw)
	}
	recs := records(msgs)
	now := time.Now().UnixMilli()
	for _, m := range of(msgs, "RECORD") {
		if err := validAgainst(t, names[m.Record.Stream], m.Record.Data); err != nil {
			t.Errorf("a %s record does not match its json_schema: %v\n%s", m.Record.Stream, err, m.Record.Data)
		}
		if f.now == nil && (m.Record.EmittedAt < now-3600_000 || m.Record.EmittedAt > now+1000) {
			t.Errorf("emitted_at %d is not epoch milliseconds of now (%d)", m.Record.EmittedAt, now)
		}
	}
	// Statuses: STARTED, RUNNING..., COMPLETE for every configured stream.
	statuses := map[string][]string{}
	for _, m := range of(msgs, "TRACE") {
		if ss := m.Trace.StreamState; ss != nil {
			statuses[ss.StreamDescriptor.Name] = append(statuses[ss.StreamDescriptor.Name], ss.Status)
		}
	}
	for name := range names {
		s := statuses[name]
		if len(s) < 3 || s[0] != "STARTED" || s[len(s)-1] != "COMPLETE" {
			t.Errorf("%s: statuses %v, want STARTED, RUNNING..., COMPLETE", name, s)
			continue
		}
		for _, x := range s[1 : len(s)-1] {
			if x != "RUNNING" {
				t.Errorf("%s: statuses %v", name, s)
			}
		}
	}
	checkStateCounts(t, msgs, names)
	return recs
}

// checkStateCounts: every stream has a state, and each state's recordCount
// is the number of that stream's records since its previous state.
func checkStateCounts(t *testing.T, msgs []msg, streams map[string]*jsonschema.Schema) {
	t.Helper()
	since := map[string]int{}
	seen := map[string]bool{}
	for _, m := range msgs {
		switch m.Type {
		case "RECORD":
			since[m.Record.Stream]++
		case "STATE":
			if m.State.Type != "STREAM" || m.State.Stream == nil || m.State.SourceStats == nil {
				t.Fatalf("not a STREAM state with sourceStats: %s", m.Line)
			}
			name := m.State.Stream.StreamDescriptor.Name
			if !strings.Contains(string(m.State.SourceStats.RecordCount), ".") {
				t.Errorf("recordCount %s has no decimal point", m.State.SourceStats.RecordCount)
			}
			n, _ := strconv.ParseFloat(string(m.State.SourceStats.RecordCount), 64)
			if int(n) != since[name] {
				t.Errorf("%s: recordCount %v, but %d records since the previous state", name, n, since[name])
			}
			since[name] = 0
			seen[name] = true
		}
	}
	for name := range streams {
		if !seen[name] {
			t.Errorf("%s: no state message", name)
		}
		if since[name] != 0 {
			t.Errorf("%s: %d records after the last state", name, since[name])
		}
	}
}

func TestBasicRead(t *testing.T) {
	for _, f := range []*fixture{newPokeFixture(t, 5), newEventsFixture(t, 5)} {
		t.Run(f.src.Name, func(t *testing.T) {
			f.t = t
			catalog := f.configured(f.discover(), integ.ModeIncremental)
			msgs, _, err := f.read(catalog, nil)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			recs := checkRead(t, f, catalog, msgs)
			for _, st := range f.src.Streams {
				if st.NotSelectedByDefault {
					continue
				}
				if len(recs[st.Name]) == 0 {
					t.Errorf("stream %s has no records", st.Name)
				}
			}
			if len(traceErrors(msgs)) > 0 {
				t.Errorf("trace errors in a good read: %v", traceErrors(msgs))
			}
			// Every stream whose API gives a total says so.
			est := 0
			for _, m := range of(msgs, "TRACE") {
				if e := m.Trace.Estimate; e != nil {
					est++
					if e.Type != "STREAM" || e.RowEstimate != int64(len(recs[e.Name])) {
						t.Errorf("estimate %+v, want STREAM %d", e, len(recs[e.Name]))
					}
				}
			}
			if est == 0 {
				t.Error("no ESTIMATE")
			}
		})
	}
}

func TestFullRefreshTwice(t *testing.T) {
	for _, f := range []*fixture{newPokeFixture(t, 7), newEventsFixture(t, 4)} {
		t.Run(f.src.Name, func(t *testing.T) {
			f.t = t
			catalog := f.configured(f.discover(), integ.ModeFullRefresh)
			first, _, err := f.read(catalog, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The second read gets the first's state, as on the platform.
			second, _, err := f.read(catalog, stateArray(t, first))
			if err != nil {
				t.Fatal(err)
			}
			checkRead(t, f, catalog, second)
			a, b := records(first), records(second)
			for name, recs := range a {
				if len(recs) == 0 || fmt.Sprint(recs) != fmt.Sprint(b[name]) {
					t.Errorf("%s: the two full refresh reads differ:\n%s\n%s", name, recs, b[name])
				}
			}
			for _, m := range of(first, "STATE") {
				if string(m.State.Stream.StreamState) != `{"__ab_no_cursor_state_message":true}` {
					t.Errorf("full refresh state %s", m.State.Stream.StreamState)
				}
			}
		})
	}
}

type eventRec struct {
	ID        int64     `json:"id"`
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

func eventsOf(t *testing.T, msgs []msg) []eventRec {
	t.Helper()
	var out []eventRec
	for _, d := range records(msgs)["events"] {
		var e eventRec
		if err := json.Unmarshal(d, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestTwoIncrementalReads(t *testing.T) {
	f := newEventsFixture(t, 5)
	catalog := f.configured(f.discover(), integ.ModeIncremental)
	first, _, err := f.read(catalog, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, f, catalog, first)
	if got := len(eventsOf(t, first)); got != 5 {
		t.Fatalf("first read: %d events, want 5", got)
	}
	// Between the reads: one new event, one update.
	f.events.Add("late", base.Add(time.Hour))
	f.events.Update(2, base.Add(2*time.Hour))
	second, _, err := f.read(catalog, stateArray(t, first))
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, f, catalog, second)
	got := eventsOf(t, second)
	read := map[[2]int64]bool{}
	for _, e := range eventsOf(t, first) {
		read[[2]int64{e.ID, int64(e.Version)}] = true
	}
	var fresh []int64
	for _, e := range got {
		if read[[2]int64{e.ID, int64(e.Version)}] {
			// Resume is inclusive: only the record at the bookmark itself
			// may come again.
			if !e.UpdatedAt.Equal(base.Add(4 * time.Minute)) {
				t.Errorf("second read returned event %d v%d, already read", e.ID, e.Version)
			}
			continue
		}
		fresh = append(fresh, e.ID)
	}
	if !slices.Equal(fresh, []int64{6, 2}) {
		t.Errorf("second read: new or updated events %v, want [6 2]", fresh)
	}
	// A third read with nothing new returns at most the bookmark's record.
	third, _, err := f.read(catalog, stateArray(t, second))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(eventsOf(t, third)); n > 1 {
		t.Errorf("third read: %d events, want at most the bookmark's", n)
	}
}

// Resuming from any intermediate state returns the records after it.
func TestIncrementalResumeFromEveryState(t *testing.T) {
	f := newEventsFixture(t, 7)
	catalog := f.configured(f.discover(), integ.ModeIncremental)
	catalog["streams"] = catalog["streams"].([]map[string]any)[:1] // events only
	o := airbyte.Options{Command: airbyte.CommandRead, ConfigPath: f.config, CatalogPath: f.write("catalog.json", catalog)}
	o.Sync.CheckpointRecords = 1 // a state after every page
	var out bytes.Buffer
	msgs := runWith(t, f, o, &out)
	states := of(msgs, "STATE")
	if len(states) < 3 {
		t.Fatalf("want several intermediate states, got %d", len(states))
	}
	all := f.events.Events()
	for i, st := range states {
		t.Run(fmt.Sprint("state ", i), func(t *testing.T) {
			f.t = t
			var whole struct {
				State json.RawMessage `json:"state"`
			}
			json.Unmarshal([]byte(st.Line), &whole)
			resumed, _, err := f.read(catalog, []json.RawMessage{whole.State})
			if err != nil {
				t.Fatal(err)
			}
			var bookmark struct {
				Value time.Time `json:"replication_key_value"`
			}
			if err := json.Unmarshal(st.State.Stream.StreamState, &bookmark); err != nil {
				t.Fatal(err)
			}
			var want []int64
			for _, e := range all {
				if !e.UpdatedAt.Before(bookmark.Value) {
					want = append(want, e.ID)
				}
			}
			var got []int64
			for _, e := range eventsOf(t, resumed) {
				got = append(got, e.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("resumed from %s: events %v, want %v", st.State.Stream.StreamState, got, want)
			}
		})
	}
}

func runWith(t *testing.T, f *fixture, o airbyte.Options, out *bytes.Buffer) []msg {
	t.Helper()
	o.Stdout = out
	if err := airbyte.Run(t.Context(), f.src, o); err != nil {
		t.Fatal(err)
	}
	return messages(t, out.Bytes())
}

func TestInvalidCatalog(t *testing.T) {
	f := newEventsFixture(t, 2)
	disc := f.discover()
	stream := func(name string) airbyte.Stream {
		for _, s := range disc.Streams {
			if s.Name == name {
				return s
			}
		}
		return airbyte.Stream{Name: name, JSONSchema: &integ.Schema{}}
	}
	entry := func(name, mode string, cursor ...string) map[string]any {
		e := map[string]any{"stream": stream(name), "sync_mode": mode, "destination_sync_mode": "append"}
		if cursor != nil {
			e["cursor_field"] = cursor
		}
		return e
	}
	tests := []struct {
		name    string
		catalog any
		message string
	}{
		{"unknown stream", map[string]any{"streams": []any{entry("orders", "full_refresh")}}, `"orders"`},
		{"unknown sync mode", map[string]any{"streams": []any{entry("events", "cdc")}}, `"cdc"`},
		{"incremental on a full refresh stream", map[string]any{"streams": []any{entry("users", "incremental")}}, "does not support"},
		{"another cursor", map[string]any{"streams": []any{entry("events", "incremental", "name")}}, "cursor field"},
		{"other nested cursor", map[string]any{"streams": []any{entry("events", "incremental", "a", "b")}}, `cursor field "a.b" is not supported`},
		{"twice", map[string]any{"streams": []any{entry("users", "full_refresh"), entry("users", "full_refresh")}}, "twice"},
		{"a bare list", []any{entry("users", "full_refresh")}, "expected a JSON object, got an array"},
		{"no streams", map[string]any{}, `"streams"`},
		{"stream without name", map[string]any{"streams": []any{map[string]any{"sync_mode": "full_refresh"}}}, "name"},
		{"not JSON", "{", "the JSON ends too early"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			msgs, _, err := f.read(tt.catalog, nil)
			if !errors.Is(err, airbyte.ErrReported) {
				t.Fatalf("want a reported error (non-zero exit), got %v", err)
			}
			errs := traceErrors(msgs)
			if len(errs) != 1 || len(of(msgs, "RECORD")) != 0 {
				t.Fatalf("want one TRACE ERROR and no records, got %v", msgs)
			}
			e := errs[0].Trace.Error
			if e.FailureType != "config_error" || !strings.Contains(e.Message, tt.message) || e.InternalMessage == "" {
				t.Errorf("error %+v, want config_error mentioning %q", e, tt.message)
			}
			if msgs[len(msgs)-1].Trace == nil || msgs[len(msgs)-1].Trace.Error == nil {
				t.Error("the read does not end with the TRACE ERROR")
			}
		})
	}
}

func TestReadFailures(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(f *fixture) (catalog any, state any)
		failure string
		stream  string // the failing stream, if any
		records int    // records read before the failure
	}{
		{"server error mid-stream", func(f *fixture) (any, any) {
			return f.configured(f.discover(), integ.ModeIncremental), nil
		}, "transient_error", "events", 2},
		{"bad state", func(f *fixture) (any, any) {
			return f.configured(f.discover(), integ.ModeIncremental), `{"type":"STREAM"}`
		}, "config_error", "", 0},
		{"state of another cursor", func(f *fixture) (any, any) {
			return f.configured(f.discover(), integ.ModeIncremental),
				[]any{map[string]any{"type": "STREAM", "stream": map[string]any{"stream_descriptor": map[string]any{"name": "events"}, "stream_state": map[string]any{"replication_key": "id", "replication_key_value": 3}}}}
		}, "config_error", "", 0},
		{"state file missing", func(f *fixture) (any, any) {
			return f.configured(f.discover(), integ.ModeIncremental), nil
		}, "config_error", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newEventsFixture(t, 4)
			catalog, state := tt.setup(f)
			var msgs []msg
			var err error
			switch tt.name {
			case "server error mid-stream":
				f.events.FailNext(0, 503) // the second page of events
				msgs, _, err = f.read(catalog, nil)
			case "state file missing":
				msgs, _, err = f.run(airbyte.Options{Command: airbyte.CommandRead, ConfigPath: f.config, CatalogPath: f.write("catalog.json", catalog), StatePath: f.dir + "/none.json"})
			default:
				msgs, _, err = f.read(catalog, state)
			}
			if !errors.Is(err, airbyte.ErrReported) {
				t.Fatalf("want a reported error, got %v", err)
			}
			errs := traceErrors(msgs)
			if len(errs) != 1 {
				t.Fatalf("want one TRACE ERROR, got %d:\n%v", len(errs), msgs)
			}
			e := errs[0].Trace.Error
			if e.FailureType != tt.failure || e.Message == "" || e.InternalMessage == "" {
				t.Errorf("error %+v, want %s", e, tt.failure)
			}
			if tt.stream != "" {
				if e.StreamDescriptor == nil || e.StreamDescriptor.Name != tt.stream {
					t.Errorf("error names stream %+v, want %s", e.StreamDescriptor, tt.stream)
				}
				var last string
				for _, m := range of(msgs, "TRACE") {
					if ss := m.Trace.StreamState; ss != nil && ss.StreamDescriptor.Name == tt.stream {
						last = ss.Status
					}
				}
				if last != "INCOMPLETE" {
					t.Errorf("last status of %s is %s, want INCOMPLETE", tt.stream, last)
				}
				// What was read is covered by a state with the right count.
				checkStateCounts(t, msgs, nil)
				if n := len(records(msgs)[tt.stream]); n != tt.records {
					t.Errorf("%d records before the failure, want %d", n, tt.records)
				}
			}
			if last := msgs[len(msgs)-1]; last.Trace == nil || last.Trace.Error == nil {
				t.Errorf("the read ends with %s, not the TRACE ERROR", last.Line)
			}
		})
	}
}

func TestInterruptedRead(t *testing.T) {
	f := newEventsFixture(t, 3)
	catalog := f.configured(f.discover(), integ.ModeIncremental)
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	o := airbyte.Options{Command: airbyte.CommandRead, ConfigPath: f.config, CatalogPath: f.write("catalog.json", catalog), Stdout: &out}
	err := airbyte.Run(ctx, f.src, o)
	if !errors.Is(err, airbyte.ErrReported) {
		t.Fatalf("want a reported error, got %v", err)
	}
	errs := traceErrors(messages(t, out.Bytes()))
	if len(errs) == 0 {
		t.Fatal("no TRACE ERROR")
	}
	for _, e := range errs {
		if e.Trace.Error.FailureType != "transient_error" {
			t.Errorf("interrupted: %+v, want transient_error", e.Trace.Error)
		}
	}
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }

// With streams read in parallel, every line stays whole and every stream's
// statuses and state counts stay right.
func TestParallelRead(t *testing.T) {
	f := newEventsFixture(t, 9)
	raw, _ := readFile(f.config)
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["max_parallel_streams"] = 2
	f.config = f.write("parallel.json", cfg)
	catalog := f.configured(f.discover(), integ.ModeIncremental)
	o := airbyte.Options{Command: airbyte.CommandRead, ConfigPath: f.config, CatalogPath: f.write("catalog.json", catalog)}
	o.Sync.CheckpointRecords = 1
	msgs, _, err := f.run(o)
	if err != nil {
		t.Fatal(err)
	}
	recs := checkRead(t, f, catalog, msgs)
	if len(recs["events"]) != 9 || len(recs["users"]) != 3 {
		t.Errorf("records: %d events, %d users", len(recs["events"]), len(recs["users"]))
	}
}
