package airbyte_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integrations/pokeapi"
	"github.com/integ/integ/internal/pokeserver"
	"github.com/integ/integ/internal/testsource"
	"github.com/integ/integ/protocol/airbyte"
	"github.com/integ/integ/requests"
)

// secretToken is the testsource API key: no output may ever contain it.
const secretToken = "s3cr3t-T0KEN-do-not-print"

// fixture is a source, its server and a directory for the files of a run.
type fixture struct {
	t      *testing.T
	src    *integ.Source
	dir    string
	config string // path of a good config
	now    func() time.Time
	events *testsource.Server // nil for pokeapi
	srv    *httptest.Server
}

func newPokeFixture(t *testing.T, count int) *fixture {
	t.Helper()
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithCount(count)))
	t.Cleanup(srv.Close)
	f := &fixture{t: t, src: pokeapi.Source(), dir: t.TempDir(), srv: srv}
	f.config = f.write("config.json", map[string]any{"base_url": srv.URL + "/api/v2", "page_size": 2})
	return f
}

// base is the time of the first test event.
var base = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func newEventsFixture(t *testing.T, events int) *fixture {
	t.Helper()
	s := testsource.NewServer(testsource.WithToken(secretToken))
	for i := range events {
		s.Add("event-"+string(rune('a'+i)), base.Add(time.Duration(i)*time.Minute))
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, src: testsource.Source(), dir: t.TempDir(), events: s, srv: srv}
	f.config = f.write("config.json", map[string]any{"base_url": srv.URL, "api_key": secretToken})
	return f
}

// write stores v (JSON-encoded unless it is a string or []byte) in the
// fixture's directory and returns the path.
func (f *fixture) write(name string, v any) string {
	f.t.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			f.t.Fatal(err)
		}
	}
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// run runs one command and returns its validated messages, its raw stdout
// and its error.
func (f *fixture) run(o airbyte.Options) ([]msg, []byte, error) {
	f.t.Helper()
	var out bytes.Buffer
	o.Stdout = &out
	o.Sync.HTTP.Retry = requests.RetryOptions{MaxAttempts: 1}
	o.Sync.Now = f.now
	o.LogLevel = -8 // everything: logs must stay valid and secret-free too
	// A deadline: a sync that loops fails its test instead of hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := airbyte.Run(ctx, f.src, o)
	if bytes.Contains(out.Bytes(), []byte(secretToken)) {
		f.t.Fatalf("stdout holds the secret:\n%s", out.Bytes())
	}
	return messages(f.t, out.Bytes()), out.Bytes(), err
}

// discover returns the discovered catalog.
func (f *fixture) discover() airbyte.Catalog {
	f.t.Helper()
	msgs, _, err := f.run(airbyte.Options{Command: airbyte.CommandDiscover, ConfigPath: f.config})
	if err != nil {
		f.t.Fatalf("discover: %v", err)
	}
	for _, m := range msgs {
		if m.Type == "CATALOG" {
			var c airbyte.Catalog
			if err := json.Unmarshal(m.Catalog, &c); err != nil {
				f.t.Fatal(err)
			}
			return c
		}
	}
	f.t.Fatal("discover wrote no CATALOG")
	return airbyte.Catalog{}
}

// configured turns a discovered catalog into a configured one: every stream
// the source selects by default, in mode (or full_refresh where the stream
// has only that).
func (f *fixture) configured(c airbyte.Catalog, mode integ.SyncMode) map[string]any {
	var streams []map[string]any
	for _, s := range c.Streams {
		if st := f.src.Stream(s.Name); st == nil || st.NotSelectedByDefault {
			continue
		}
		m := mode
		if !slices.Contains(s.SupportedSyncModes, m) {
			m = integ.ModeFullRefresh
		}
		cs := map[string]any{"stream": s, "sync_mode": m, "destination_sync_mode": "append"}
		if m == integ.ModeIncremental {
			cs["cursor_field"] = s.DefaultCursorField
		}
		streams = append(streams, cs)
	}
	return map[string]any{"streams": streams}
}

// read runs read with a configured catalog and optional state (nil: none).
func (f *fixture) read(catalog any, state any) ([]msg, []byte, error) {
	f.t.Helper()
	o := airbyte.Options{Command: airbyte.CommandRead, ConfigPath: f.config, CatalogPath: f.write("catalog.json", catalog)}
	if state != nil {
		o.StatePath = f.write("state.json", state)
	}
	return f.run(o)
}

// of filters messages by type.
func of(msgs []msg, typ string) []msg {
	var out []msg
	for _, m := range msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// records groups record data by stream.
func records(msgs []msg) map[string][]json.RawMessage {
	out := map[string][]json.RawMessage{}
	for _, m := range of(msgs, "RECORD") {
		out[m.Record.Stream] = append(out[m.Record.Stream], m.Record.Data)
	}
	return out
}

// stateArray is what the platform passes back to the next read: the last
// STREAM state of each stream.
func stateArray(t *testing.T, msgs []msg) []json.RawMessage {
	t.Helper()
	last := map[string]json.RawMessage{}
	var order []string
	for _, m := range of(msgs, "STATE") {
		var whole struct {
			State json.RawMessage `json:"state"`
		}
		if err := json.Unmarshal([]byte(m.Line), &whole); err != nil {
			t.Fatal(err)
		}
		name := m.State.Stream.StreamDescriptor.Name
		if _, ok := last[name]; !ok {
			order = append(order, name)
		}
		last[name] = whole.State
	}
	var out []json.RawMessage
	for _, n := range order {
		out = append(out, last[n])
	}
	return out
}

// traceErrors returns the TRACE ERROR messages.
func traceErrors(msgs []msg) []msg {
	var out []msg
	for _, m := range of(msgs, "TRACE") {
		if m.Trace.Error != nil {
			out = append(out, m)
		}
	}
	return out
}
