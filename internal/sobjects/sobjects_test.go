package sobjects_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/internal/golden"
	"github.com/integ/integ/internal/sobjects"
	"github.com/integ/integ/protocol/airbyte"
	"github.com/integ/integ/protocol/singer"
	"github.com/integ/integ/requests"
)

// objects is the size of the org: Salesforce orgs have hundreds.
const objects = 800

const token = "tok-DO-NOT-PRINT"

// fixture is an org, a config for it and a directory for a run's files.
type fixture struct {
	t      testing.TB
	server *sobjects.Server
	dir    string
	config string
	url    string
}

func newFixture(t testing.TB, n int) *fixture {
	t.Helper()
	s := sobjects.NewServer(n)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, server: s, dir: t.TempDir(), url: srv.URL}
	f.config = f.write("config.json", map[string]any{"instance_url": srv.URL, "access_token": token})
	return f
}

func (f *fixture) write(name string, v any) string {
	f.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// noRetry fails a 500 at once: the tests count requests.
var noRetry = integ.HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: 1}}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// airbyteRun runs one Airbyte command and returns its messages.
func (f *fixture) airbyteRun(cmd airbyte.Command, catalog string) ([]map[string]any, error) {
	f.t.Helper()
	msgs, _, err := f.airbyteRaw(cmd, catalog)
	return msgs, err
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// airbyteRaw is airbyteRun with stdout too.
func (f *fixture) airbyteRaw(cmd airbyte.Command, catalog string) ([]map[string]any, []byte, error) {
	f.t.Helper()
	var out bytes.Buffer
	err := airbyte.Run(ctx(f.t), sobjects.Source(), airbyte.Options{
		Command: cmd, ConfigPath: f.config, CatalogPath: catalog, Stdout: &out,
		Sync: integ.SyncOptions{HTTP: noRetry, Now: func() time.Time { return t0 }},
	})
	if strings.Contains(out.String(), token) {
		f.t.Errorf("the token is in the output")
	}
	var msgs []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			f.t.Fatalf("stdout line %q is not a message: %v", line, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, out.Bytes(), err
}

// singerRun runs the tap and returns stdout and stderr.
func (f *fixture) singerRun(discover bool, catalog string) (string, string, error) {
	f.t.Helper()
	var out, errb bytes.Buffer
	err := singer.Run(ctx(f.t), sobjects.Source(), singer.Options{
		ConfigPaths: []string{f.config}, Discover: discover, CatalogPath: catalog,
		Stdout: &out, Stderr: &errb, Sync: integ.SyncOptions{HTTP: noRetry},
	})
	if strings.Contains(out.String()+errb.String(), token) {
		f.t.Errorf("the token is in the output")
	}
	return out.String(), errb.String(), err
}

func ofType(msgs []map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, m := range msgs {
		if m["type"] == typ {
			out = append(out, m)
		}
	}
	return out
}

// airbyteCatalog returns the streams of the one CATALOG message by name.
func airbyteCatalog(t testing.TB, msgs []map[string]any) map[string]map[string]any {
	t.Helper()
	cats := ofType(msgs, "CATALOG")
	if len(cats) != 1 {
		t.Fatalf("%d CATALOG messages, want 1", len(cats))
	}
	out := map[string]map[string]any{}
	for _, s := range cats[0]["catalog"].(map[string]any)["streams"].([]any) {
		s := s.(map[string]any)
		out[s["name"].(string)] = s
	}
	return out
}

func propertyNames(schema any) []string {
	props, _ := schema.(map[string]any)["properties"].(map[string]any)
	var out []string
	for k := range props {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func fieldNames(fields []sobjects.Field) []string {
	var out []string
	for _, f := range fields {
		out = append(out, f.Name)
	}
	slices.Sort(out)
	return out
}

// checkDiscovered checks a catalog (stream name to schema) against the org:
// the static stream and every object with its describe's fields.
func checkDiscovered(t *testing.T, f *fixture, schemas map[string]any, missing string) {
	t.Helper()
	want := objects + 1
	if missing != "" {
		want--
	}
	if len(schemas) != want {
		t.Errorf("catalog has %d streams, want %d", len(schemas), want)
	}
	if _, ok := schemas["limits"]; !ok {
		t.Errorf("the static stream limits is not in the catalog")
	}
	for _, name := range f.server.Objects() {
		sch, ok := schemas[name]
		if name == missing {
			if ok {
				t.Errorf("stream %s, whose describe fails, is in the catalog", name)
			}
			continue
		}
		if !ok {
			t.Errorf("stream %s is not in the catalog", name)
			continue
		}
		if got, want := propertyNames(sch), fieldNames(f.server.Fields(name)); !slices.Equal(got, want) {
			t.Errorf("stream %s: properties %v, want the describe's fields %v", name, got, want)
		}
	}
}

func checkDiscoverCalls(t *testing.T, c sobjects.Counts, wantDescribes int) {
	t.Helper()
	if c.Lists != 1 {
		t.Errorf("%d list calls, want 1", c.Lists)
	}
	if n := c.TotalDescribes(); n != wantDescribes {
		t.Errorf("%d describe calls, want %d", n, wantDescribes)
	}
	for name, n := range c.Describes {
		if n > 1 {
			t.Errorf("%s described %d times", name, n)
		}
	}
}

func TestDiscoverAirbyte(t *testing.T) {
	for _, failing := range []string{"", "Contact"} {
		t.Run("failing="+failing, func(t *testing.T) {
			f := newFixture(t, objects)
			if failing != "" {
				f.server.FailDescribe(failing)
			}
			msgs, err := f.airbyteRun(airbyte.CommandDiscover, "")
			if err != nil {
				t.Fatalf("discover: %v (one failing stream must not fail the others)", err)
			}
			streams := airbyteCatalog(t, msgs)
			schemas := map[string]any{}
			for name, s := range streams {
				schemas[name] = s["json_schema"]
			}
			checkDiscovered(t, f, schemas, failing)
			checkDiscoverCalls(t, f.server.Counts(), objects)
			if s := streams["Account"]; s != nil {
				if pk, _ := json.Marshal(s["source_defined_primary_key"]); string(pk) != `[["Id"]]` {
					t.Errorf("Account primary key %s", pk)
				}
			}
			var logs []string
			for _, m := range ofType(msgs, "LOG") {
				logs = append(logs, m["log"].(map[string]any)["message"].(string))
			}
			if !slices.ContainsFunc(logs, func(s string) bool { return strings.Contains(s, "resolving the schemas of 800 streams") }) {
				t.Errorf("no discovery log in %q", logs)
			}
			traces := ofType(msgs, "TRACE")
			if failing == "" {
				if len(traces) != 0 {
					t.Errorf("traces %v, want none", traces)
				}
				return
			}
			if len(traces) != 1 {
				t.Fatalf("%d TRACE messages, want 1 naming %s: %v", len(traces), failing, traces)
			}
			e := traces[0]["trace"].(map[string]any)["error"].(map[string]any)
			desc, _ := e["stream_descriptor"].(map[string]any)
			if desc["name"] != failing || !strings.Contains(e["message"].(string), failing) || !strings.Contains(e["internal_message"].(string), "500") {
				t.Errorf("trace error %v does not name %s and its 500", e, failing)
			}
		})
	}
}

func TestDiscoverSinger(t *testing.T) {
	for _, failing := range []string{"", "Contact"} {
		t.Run("failing="+failing, func(t *testing.T) {
			f := newFixture(t, objects)
			if failing != "" {
				f.server.FailDescribe(failing)
			}
			stdout, stderr, err := f.singerRun(true, "")
			if err != nil {
				t.Fatalf("discover: %v\n%s", err, stderr)
			}
			var cat singer.Catalog
			if err := json.Unmarshal([]byte(stdout), &cat); err != nil {
				t.Fatal(err)
			}
			schemas := map[string]any{}
			for _, e := range cat.Streams {
				b, _ := json.Marshal(e.Schema)
				var v any
				_ = json.Unmarshal(b, &v)
				schemas[e.TapStreamID] = v
			}
			checkDiscovered(t, f, schemas, failing)
			checkDiscoverCalls(t, f.server.Counts(), objects)
			if !strings.Contains(stderr, "resolving the schemas of 800 streams") {
				t.Errorf("no discovery log on stderr:\n%s", stderr)
			}
			line := ""
			for _, l := range strings.Split(stderr, "\n") {
				if strings.HasPrefix(l, "ERROR") || strings.HasPrefix(l, "CRITICAL") {
					line += l + "\n"
				}
			}
			switch {
			case failing == "" && line != "":
				t.Errorf("error lines %q, want none", line)
			case failing != "" && (!strings.Contains(line, `"`+failing+`"`) || !strings.Contains(line, "500") || strings.Contains(line, "CRITICAL")):
				t.Errorf("error lines %q do not name %s and its 500 (or are CRITICAL)", line, failing)
			}
		})
	}
}

// airbyteDiscover returns the discovered AirbyteStreams by name.
func (f *fixture) airbyteDiscover() map[string]map[string]any {
	f.t.Helper()
	msgs, err := f.airbyteRun(airbyte.CommandDiscover, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return airbyteCatalog(f.t, msgs)
}

// delta is what the server answered between two snapshots.
func delta(before, after sobjects.Counts) sobjects.Counts {
	d := sobjects.Counts{Lists: after.Lists - before.Lists, Describes: map[string]int{}, Queries: map[string]int{}}
	for k, v := range after.Describes {
		if n := v - before.Describes[k]; n > 0 {
			d.Describes[k] = n
		}
	}
	for k, v := range after.Queries {
		if n := v - before.Queries[k]; n > 0 {
			d.Queries[k] = n
		}
	}
	return d
}

// checkReadCalls: one list call, describes only of want, and queries of
// the selected object only.
func checkReadCalls(t *testing.T, d sobjects.Counts, selected string, describes int) {
	t.Helper()
	if d.Lists != 1 {
		t.Errorf("%d list calls, want 1", d.Lists)
	}
	if d.TotalDescribes() != describes || describes == 1 && d.Describes[selected] != 1 {
		t.Errorf("describe calls %v, want %d of %s only", d.Describes, describes, selected)
	}
	if len(d.Queries) != 1 || d.Queries[selected] != 2 {
		t.Errorf("queries %v, want the 2 pages of %s", d.Queries, selected)
	}
}

func recordsOf(t *testing.T, lines []map[string]any, stream string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range lines {
		if m["type"] != "RECORD" {
			continue
		}
		var rec map[string]any
		switch {
		case m["stream"] == nil: // Airbyte
			r := m["record"].(map[string]any)
			if r["stream"] != stream {
				t.Errorf("record of stream %v", r["stream"])
			}
			rec = r["data"].(map[string]any)
		default: // Singer
			if m["stream"] != stream {
				t.Errorf("record of stream %v", m["stream"])
			}
			rec = m["record"].(map[string]any)
		}
		out = append(out, rec)
	}
	return out
}

func TestReadOneStreamAirbyte(t *testing.T) {
	const selected = "Opportunity"
	for _, tt := range []struct {
		name       string
		withSchema bool
		describes  int
	}{
		{"catalog with schema", true, 0},
		{"catalog without schema", false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, objects)
			stream := f.airbyteDiscover()[selected]
			if !tt.withSchema {
				stream["json_schema"] = map[string]any{}
			}
			catalog := f.write("catalog.json", map[string]any{"streams": []any{map[string]any{
				"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite",
			}}})
			before := f.server.Counts()
			msgs, err := f.airbyteRun(airbyte.CommandRead, catalog)
			if err != nil {
				t.Fatalf("read: %v\n%v", err, msgs)
			}
			checkReadCalls(t, delta(before, f.server.Counts()), selected, tt.describes)
			recs := recordsOf(t, msgs, selected)
			if len(recs) != 3 {
				t.Fatalf("%d records, want 3", len(recs))
			}
			if got, want := len(recs[0])-1, len(f.server.Fields(selected)); got != want { // -1: attributes
				t.Errorf("record has %d fields, want %d: %v", got, want, recs[0])
			}
		})
	}
}

func TestReadOneStreamSinger(t *testing.T) {
	const selected = "Opportunity"
	for _, tt := range []struct {
		name       string
		withSchema bool
		describes  int
	}{
		{"catalog with schema", true, 0},
		{"catalog without schema", false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, objects)
			stdout, stderr, err := f.singerRun(true, "")
			if err != nil {
				t.Fatalf("discover: %v\n%s", err, stderr)
			}
			var cat map[string]any
			if err := json.Unmarshal([]byte(stdout), &cat); err != nil {
				t.Fatal(err)
			}
			// The whole catalog, only one stream selected.
			for _, e := range cat["streams"].([]any) {
				e := e.(map[string]any)
				md := e["metadata"].([]any)[0].(map[string]any)["metadata"].(map[string]any)
				md["selected"] = e["tap_stream_id"] == selected
				if e["tap_stream_id"] == selected && !tt.withSchema {
					delete(e, "schema")
				}
			}
			catalog := f.write("catalog.json", cat)
			before := f.server.Counts()
			stdout, stderr, err = f.singerRun(false, catalog)
			if err != nil {
				t.Fatalf("sync: %v\n%s", err, stderr)
			}
			checkReadCalls(t, delta(before, f.server.Counts()), selected, tt.describes)
			var lines []map[string]any
			for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				lines = append(lines, m)
			}
			if recs := recordsOf(t, lines, selected); len(recs) != 3 {
				t.Fatalf("%d records, want 3", len(recs))
			}
		})
	}
}

func TestCheckDescribesNothing(t *testing.T) {
	f := newFixture(t, objects)
	msgs, err := f.airbyteRun(airbyte.CommandCheck, "")
	if err != nil {
		t.Fatal(err)
	}
	st := ofType(msgs, "CONNECTION_STATUS")
	if len(st) != 1 || st[0]["connectionStatus"].(map[string]any)["status"] != "SUCCEEDED" {
		t.Fatalf("status %v", st)
	}
	if c := f.server.Counts(); c.Lists != 1 || c.TotalDescribes() != 0 {
		t.Errorf("check made %d list and %d describe calls, want 1 and 0", c.Lists, c.TotalDescribes())
	}
}

func TestListedStreamNamedLikeStatic(t *testing.T) {
	f := newFixture(t, 3)
	f.server.AddObject("limits")
	msgs, err := f.airbyteRun(airbyte.CommandDiscover, "")
	if !errors.Is(err, airbyte.ErrReported) || integ.KindOf(err) != integ.ConfigFailure {
		t.Fatalf("err = %v, want a reported config error", err)
	}
	tr := ofType(msgs, "TRACE")
	if len(tr) != 1 || !strings.Contains(tr[0]["trace"].(map[string]any)["error"].(map[string]any)["message"].(string), `listed stream "limits" has the name of a static stream`) {
		t.Errorf("traces %v", tr)
	}
	if n := f.server.Counts().TotalDescribes(); n != 0 {
		t.Errorf("%d describes after a bad list, want 0", n)
	}
}

// The cost of knowing 800 streams: discover describes each; a read of one
// stream whose catalog has its schema describes none.
func BenchmarkDiscover800(b *testing.B) {
	f := newFixture(b, objects)
	for b.Loop() {
		if _, err := f.airbyteRun(airbyte.CommandDiscover, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadOneOf800(b *testing.B) {
	f := newFixture(b, objects)
	stream := f.airbyteDiscover()["Opportunity"]
	catalog := f.write("catalog.json", map[string]any{"streams": []any{map[string]any{
		"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite",
	}}})
	for b.Loop() {
		if _, err := f.airbyteRun(airbyte.CommandRead, catalog); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDiscoverGolden pins the whole output of an Airbyte discover of a small
// org whose Contact describe fails: the logs, the TRACE naming Contact, and
// the catalog of the others.
func TestDiscoverGolden(t *testing.T) {
	f := newFixture(t, 3)
	f.server.FailDescribe("Contact")
	_, out, err := f.airbyteRaw(airbyte.CommandDiscover, "")
	if err != nil {
		t.Fatal(err)
	}
	out = bytes.ReplaceAll(out, []byte(f.url), []byte("http://api.test"))
	golden.Check(t, filepath.Join("testdata", "discover_one_failing.jsonl"), out)
}

// A Singer sync with no catalog resolves the schemas of every stream it
// reads. One object whose describe fails fails alone: the other 799 are
// synced, and the tap exits non-zero naming it.
func TestSingerNoCatalogOneDescribeFails(t *testing.T) {
	f := newFixture(t, objects)
	f.server.FailDescribe("Contact")
	stdout, stderr, err := f.singerRun(false, "")
	if err == nil || !strings.Contains(err.Error(), `"Contact"`) {
		t.Fatalf("sync error %v, want one naming Contact\n%s", err, stderr)
	}
	streams := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m struct{ Type, Stream string }
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if m.Type == "RECORD" {
			streams[m.Stream]++
		}
	}
	if len(streams) != objects-1+1 || streams["Contact"] != 0 || streams["Opportunity"] != 3 { // + the static stream
		t.Errorf("records of %d streams (Contact: %d, Opportunity: %d)", len(streams), streams["Contact"], streams["Opportunity"])
	}
	if !strings.Contains(stderr, "Contact") || !strings.Contains(stderr, "could not be resolved") {
		t.Errorf("stderr does not say which stream failed:\n%.2000s", stderr)
	}
}
