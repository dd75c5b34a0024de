package integ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

// lineProtocol is a tiny third wire format used by the engine's tests: one
// readable line per event. It doubles as proof that a protocol plugs in
// without touching an integration.
type lineProtocol struct{}

func (lineProtocol) Stream(run *driver.Stream) driver.StreamEncoder {
	return &lineEncoder{name: run.Name}
}

type lineEncoder struct{ name string }

func (e *lineEncoder) Start(dst []byte) []byte { return fmt.Appendf(dst, "START %s\n", e.name) }
func (e *lineEncoder) Page(dst []byte, _ time.Time) []byte {
	return dst
}
func (e *lineEncoder) Record(dst, rec []byte) []byte {
	dst = fmt.Appendf(dst, "REC %s ", e.name)
	dst = append(dst, rec...)
	return append(dst, '\n')
}
func (e *lineEncoder) State(dst []byte, cp *driver.Checkpoint) []byte {
	return fmt.Appendf(dst, "STATE %s %s records=%d final=%v\n", cp.Stream, cp.Value, cp.Records, cp.Final)
}
func (e *lineEncoder) End(dst []byte, res *driver.StreamResult) []byte {
	status := "ok"
	if res.Err != nil {
		status = "failed"
	}
	return fmt.Appendf(dst, "END %s %s records=%d\n", e.name, status, res.Records)
}
func (e *lineEncoder) Estimate(dst []byte, rows int64) []byte {
	return fmt.Appendf(dst, "ESTIMATE %s %d\n", e.name, rows)
}

// eventsAPI serves /events?since=&page= sorted by updated_at, 3 per page.
func eventsAPI(t testing.TB, n int, ignoreFilter bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		since := r.URL.Query().Get("since")
		var all []string
		for i := 1; i <= n; i++ {
			ts := time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC).Format(time.RFC3339)
			if !ignoreFilter && since != "" && ts < since {
				continue
			}
			all = append(all, fmt.Sprintf(`{"id":%d,"big":9007199254740993,"updated_at":%q,"note":"n%d"}`, i, ts, i))
		}
		lo, hi := page*3, page*3+3
		if lo > len(all) {
			lo = len(all)
		}
		if hi > len(all) {
			hi = len(all)
		}
		next := "null"
		if hi < len(all) {
			next = strconv.Itoa(page + 1)
		}
		fmt.Fprintf(w, `{"total":%d,"data":[%s],"next":%s}`, len(all), strings.Join(all[lo:hi], ","), next)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type eventsConfig struct {
	BaseURL string `json:"base_url"`
}

type event struct {
	ID        int       `json:"id"`
	Big       int64     `json:"big"`
	UpdatedAt time.Time `json:"updated_at"`
	Note      string    `json:"note"`
}

func eventsRunner(c *HttpContext) error {
	var cfg eventsConfig
	if err := c.Load(&cfg, nil); err != nil {
		return err
	}
	var resp requests.JSONResponse
	for page := 0; ; page++ {
		req := requests.New(cfg.BaseURL+"/events").Query("page", strconv.Itoa(page))
		if b := c.Bookmark(); b.Exists() {
			req = req.Query("since", b.String())
		}
		if err := c.EmitBatch(req, &resp, "data"); err != nil {
			return err
		}
		if resp.Get("next").Type == 0 || resp.Get("next").Raw == "null" {
			return nil
		}
	}
}

func eventsSource(t testing.TB, opts ...StreamOption) *Source {
	opts = append([]StreamOption{PrimaryKey("id"), Incremental("updated_at"), EstimateFrom("total")}, opts...)
	src := NewSource("events", eventsConfig{}, WithStreams(NewStream("events", event{}, eventsRunner, opts...)))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return src
}

func runSync(t testing.TB, src *Source, baseURL string, cat *Catalog, st *State, every int64) (string, error) {
	t.Helper()
	cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"` + baseURL + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = src.Sync(context.Background(), SyncOptions{
		Config: cfg, Catalog: cat, State: st, Protocol: lineProtocol{}, Output: driver.NewOutput(&out),
		CheckpointRecords: every,
		Now:               func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) },
		HTTP:              HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: 1}},
	})
	return out.String(), err
}

func lines(out, prefix string) []string {
	var l []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, prefix) {
			l = append(l, line)
		}
	}
	return l
}

func TestSyncIncrementalSortedCheckpointsEveryPage(t *testing.T) {
	srv := eventsAPI(t, 7, false)
	out, err := runSync(t, eventsSource(t, Sorted()), srv.URL, nil, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sync_sorted.txt", []byte(out))
	if n := len(lines(out, "REC ")); n != 7 {
		t.Errorf("%d records, want 7", n)
	}
	if !strings.Contains(out, `"big":9007199254740993`) {
		t.Error("big integers must pass through byte for byte")
	}
	// A state line never precedes the records it covers.
	seen := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "REC ") {
			seen++
		}
		if strings.HasPrefix(l, "STATE ") && strings.Contains(l, "replication_key_value") {
			var id int
			fmt.Sscanf(l[strings.Index(l, `"2024-01-01T00:00:0`)+19:], "%d", &id)
			if id > seen {
				t.Errorf("state %q is ahead of the %d records written", l, seen)
			}
		}
	}
}

func TestSyncResumeFromEveryStateLosesNothing(t *testing.T) {
	srv := eventsAPI(t, 7, false)
	src := eventsSource(t, Sorted())
	full, err := runSync(t, src, srv.URL, nil, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	recs := lines(full, "REC ")
	for _, stLine := range lines(full, "STATE ") {
		value := strings.Fields(stLine)[2]
		st := NewState()
		if err := st.Set("events", json.RawMessage(value)); err != nil {
			t.Fatal(err)
		}
		covered := 0 // records up to this state, in the full run
		for _, l := range strings.Split(full, "\n") {
			if l == stLine {
				break
			}
			if strings.HasPrefix(l, "REC ") {
				covered++
			}
		}
		out, err := runSync(t, src, srv.URL, nil, st, 1)
		if err != nil {
			t.Fatal(err)
		}
		got := lines(out, "REC ")
		// Inclusive resume: the boundary record comes again, nothing is lost.
		want := recs[max(covered-1, 0):]
		if covered == 0 {
			want = recs
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("resume from %s:\n got %d records %v\nwant %d", value, len(got), got, len(want))
		}
	}
}

func TestSyncUnsortedMovesBookmarkOnlyAtTheEnd(t *testing.T) {
	srv := eventsAPI(t, 7, false)
	out, err := runSync(t, eventsSource(t), srv.URL, nil, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	states := lines(out, "STATE ")
	for _, s := range states[:len(states)-1] {
		if strings.Contains(s, "replication_key_value") {
			t.Errorf("unsorted stream advanced its bookmark mid-stream: %s", s)
		}
	}
	if last := states[len(states)-1]; !strings.Contains(last, `"2024-01-01T00:00:07Z"`) || !strings.Contains(last, "final=true") {
		t.Errorf("final state = %s", last)
	}
}

func TestSyncDropsRecordsOlderThanBookmark(t *testing.T) {
	srv := eventsAPI(t, 7, true) // the API ignores the filter
	st := NewState()
	st.Set("events", json.RawMessage(`{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:00:05Z"}`))
	out, err := runSync(t, eventsSource(t, Sorted()), srv.URL, nil, st, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := lines(out, "REC "); len(got) != 3 {
		t.Errorf("got %d records, want 3 (ids 5, 6, 7):\n%s", len(got), out)
	}
}

func TestSyncSignpostCapsBookmark(t *testing.T) {
	srv := eventsAPI(t, 3, false)
	src := eventsSource(t, Sorted())
	cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
	var out bytes.Buffer
	start := time.Date(2024, 1, 1, 0, 0, 2, 0, time.UTC) // the sync "started" before record 3 was updated
	err := src.Sync(context.Background(), SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&out), Now: func() time.Time { return start }})
	if err != nil {
		t.Fatal(err)
	}
	last := lines(out.String(), "STATE ")
	if l := last[len(last)-1]; !strings.Contains(l, `"2024-01-01T00:00:02Z"`) {
		t.Errorf("bookmark must stop at the signpost: %s", l)
	}
}

func TestSyncFieldSelectionAndFullRefresh(t *testing.T) {
	srv := eventsAPI(t, 4, false)
	st := NewState()
	st.Set("events", json.RawMessage(`{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:00:03Z"}`))
	cat := &Catalog{Streams: []CatalogStream{{Name: "events", Mode: ModeFullRefresh, Fields: []string{"note"}}}}
	out, err := runSync(t, eventsSource(t, Sorted()), srv.URL, cat, st, 1)
	if err != nil {
		t.Fatal(err)
	}
	recs := lines(out, "REC ")
	if len(recs) != 4 {
		t.Fatalf("full refresh ignores the bookmark: got %d records", len(recs))
	}
	// id is the primary key and updated_at the replication key: always kept.
	if recs[0] != `REC events {"id":1,"updated_at":"2024-01-01T00:00:01Z","note":"n1"}` {
		t.Errorf("selected record = %s", recs[0])
	}
}

func TestSyncCatalogErrors(t *testing.T) {
	srv := eventsAPI(t, 1, false)
	src := eventsSource(t)
	cases := []struct {
		cat  *Catalog
		want string
	}{
		{&Catalog{Streams: []CatalogStream{{Name: "nope"}}}, `"nope"`},
		{&Catalog{Streams: []CatalogStream{{Name: "events", Mode: "append"}}}, `"append"`},
		{&Catalog{Streams: []CatalogStream{{Name: "events", Mode: ModeIncremental, Cursor: "id"}}}, `cursor field "id"`},
		{&Catalog{Streams: []CatalogStream{{Name: "events"}, {Name: "events"}}}, "twice"},
	}
	for _, c := range cases {
		out, err := runSync(t, src, srv.URL, c.cat, nil, 1)
		if err == nil || !errors.Is(err, ErrCatalog) || !strings.Contains(err.Error(), c.want) || KindOf(err) != ConfigFailure {
			t.Errorf("%+v: err = %v", c.cat, err)
		}
		if out != "" {
			t.Errorf("a bad catalog must write nothing, wrote %q", out)
		}
	}
}

func TestSyncBadStateIsRejectedBeforeAnyRequest(t *testing.T) {
	src := eventsSource(t)
	st := NewState()
	st.Streams["events"] = json.RawMessage(`{"replication_key":"id","replication_key_value":3}`)
	_, err := runSync(t, src, "http://127.0.0.1:1", nil, st, 1)
	if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), `"id"`) {
		t.Errorf("err = %v", err)
	}
}

func TestSyncStreamFailureKeepsOtherStreamsAndReportsKind(t *testing.T) {
	srv := eventsAPI(t, 2, false)
	fail := NewStream("broken", event{}, func(c *HttpContext) error {
		return c.EmitBatch(requests.New(srv.URL+"/events"), nil, "missing")
	})
	boom := NewStream("panics", event{}, func(c *HttpContext) error { panic("boom") })
	src := NewSource("mixed", eventsConfig{}, WithStreams(fail, boom, NewStream("events", event{}, eventsRunner)))
	out, err := runSync(t, src, srv.URL, nil, nil, 1)
	if err == nil {
		t.Fatal("want an error")
	}
	if !strings.Contains(err.Error(), `has no "missing"`) || !strings.Contains(err.Error(), "failed unexpectedly") {
		t.Errorf("err = %v", err)
	}
	if n := len(lines(out, "REC events")); n != 2 {
		t.Errorf("the healthy stream must still sync: %d records\n%s", n, out)
	}
	if !strings.Contains(out, "END broken failed") || !strings.Contains(out, "END panics failed") {
		t.Errorf("failed streams must end failed:\n%s", out)
	}
}

func TestSyncEstimate(t *testing.T) {
	srv := eventsAPI(t, 5, false)
	out, _ := runSync(t, eventsSource(t), srv.URL, nil, nil, 100)
	if !strings.Contains(out, "ESTIMATE events 5\n") {
		t.Errorf("no estimate:\n%s", out)
	}
}

func TestCheckReadsOnlyTheFirstPage(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		fmt.Fprint(w, `{"data":[{"id":1}],"next":1}`)
	}))
	defer srv.Close()
	src := eventsSource(t)
	cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
	if err := src.Check(context.Background(), cfg, nil, HTTPOptions{}); err != nil {
		t.Fatal(err)
	}
	if hits != 1 {
		t.Errorf("check made %d requests, want 1", hits)
	}
	cfg, _ = src.ParseConfig(json.RawMessage(`{"base_url":"http://127.0.0.1:1"}`))
	err := src.Check(context.Background(), cfg, nil, HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: 1}})
	if err == nil || KindOf(err) != TransientFailure {
		t.Errorf("unreachable API: %v (kind %v)", err, KindOf(err))
	}
}

func TestParallelStreamsMatchSerialRun(t *testing.T) {
	srv := eventsAPI(t, 40, false)
	var streams []*Stream
	for _, name := range []string{"a", "b", "c", "d"} {
		streams = append(streams, NewStream(name, event{}, eventsRunner, PrimaryKey("id"), Incremental("updated_at"), Sorted()))
	}
	src := NewSource("multi", eventsConfig{}, WithStreams(streams...))
	perStream := func(parallel int) map[string][]string {
		cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
		var out bytes.Buffer
		err := src.Sync(context.Background(), SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&out), Parallelism: parallel, CheckpointRecords: 1})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		written := map[string]int{}
		for _, l := range strings.Split(out.String(), "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			got[f[1]] = append(got[f[1]], l)
			switch f[0] {
			case "REC":
				written[f[1]]++
			case "STATE":
				// The bookmark's second counts the records it covers.
				var sec int
				if i := strings.Index(l, `"2024-01-01T00:00:`); i >= 0 {
					fmt.Sscanf(l[i+18:], "%d", &sec)
				}
				if sec > written[f[1]] {
					t.Errorf("parallel=%d: %s is ahead of %d records", parallel, l, written[f[1]])
				}
			}
		}
		return got
	}
	serial, parallel := perStream(1), perStream(4)
	for name, lines := range serial {
		if strings.Join(lines, "\n") != strings.Join(parallel[name], "\n") {
			t.Errorf("stream %s differs between serial and parallel runs", name)
		}
	}
}

func TestValidateRecords(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":[{"id":1,"note":"ok"},{"id":"two","note":"bad id"},{"id":3,"note":"ok"}],"next":null}`)
	}))
	defer srv.Close()
	src := eventsSource(t)
	for _, c := range []struct {
		mode    string
		records int
		wantErr bool
	}{{"off", 3, false}, {"warn", 3, false}, {"fail", 1, true}} {
		cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `","validate_records":"` + c.mode + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		var out, logs bytes.Buffer
		err = src.Sync(context.Background(), SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&out),
			Logger: slog.New(slog.NewTextHandler(&logs, nil)), Catalog: &Catalog{Streams: []CatalogStream{{Name: "events", Mode: ModeFullRefresh}}}})
		if got := len(lines(out.String(), "REC ")); got != c.records {
			t.Errorf("%s: %d records, want %d", c.mode, got, c.records)
		}
		if (err != nil) != c.wantErr || (c.wantErr && !errors.Is(err, ErrRecordInvalid)) {
			t.Errorf("%s: err = %v", c.mode, err)
		}
		if c.wantErr && !strings.Contains(err.Error(), `"id"`) {
			t.Errorf("the error must name the field: %v", err)
		}
		if c.mode == "warn" && !strings.Contains(logs.String(), "does not match") {
			t.Errorf("warn mode must log: %s", logs.String())
		}
	}
}

// lineCheckingWriter fails the test if a write does not end a line: whatever
// kills the process between two writes, stdout holds only whole messages.
type lineCheckingWriter struct {
	t      *testing.T
	writes int
	buf    bytes.Buffer
}

func (w *lineCheckingWriter) Write(p []byte) (int, error) {
	if len(p) > 0 && p[len(p)-1] != '\n' {
		w.t.Errorf("write %d does not end a line: ...%q", w.writes, p[max(0, len(p)-40):])
	}
	w.writes++
	return w.buf.Write(p)
}

func TestCheckpointIntervalAndWholeLines(t *testing.T) {
	srv := eventsAPI(t, 30, false) // 10 pages of 3
	src := eventsSource(t, Sorted())
	cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(time.Second); return clock } // each call is a second later
	w := &lineCheckingWriter{t: t}
	err := src.Sync(context.Background(), SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(w), Now: now,
		CheckpointRecords: 1_000_000, CheckpointInterval: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	states := lines(w.buf.String(), "STATE ")
	if len(states) < 3 || len(states) > 10 {
		t.Errorf("a 5 s interval on a clock that ticks a second a call should checkpoint a few times, got %d:\n%s", len(states), w.buf.String())
	}
}

func TestOutputKeepsTheFirstWriteError(t *testing.T) {
	src := eventsSource(t)
	srv := eventsAPI(t, 5, false)
	cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
	err := src.Sync(context.Background(), SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(failingWriter{})})
	if err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("a closed stdout must fail the sync: %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("write |1: broken pipe") }

func TestPrettyPrintedRecordsStayOnOneLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "{\r\n  \"data\": [\n    {\n      \"id\": 1,\n      \"note\": \"a\\nb\"\n    }\n  ],\n  \"next\": null\n}")
	}))
	defer srv.Close()
	out, err := runSync(t, eventsSource(t), srv.URL, &Catalog{Streams: []CatalogStream{{Name: "events", Mode: ModeFullRefresh}}}, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if recs := lines(out, "REC "); len(recs) != 1 || recs[0] != `REC events {"id":1,"note":"a\nb"}` {
		t.Errorf("records = %q", recs)
	}
}

// BenchmarkSplitPage measures finding a page's records: validating the
// body, locating the array and slicing its elements, without copying them.
func BenchmarkSplitPage(b *testing.B) {
	var body bytes.Buffer
	body.WriteString(`{"count":1000,"next":"http://x/?offset=1000","results":[`)
	for i := range 1000 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"name":"pokemon-%d","url":"http://x/api/v2/pokemon/%d/"}`, i, i)
	}
	body.WriteString("]}")
	resp := &requests.JSONResponse{Body: body.Bytes()}
	c := &HttpContext{w: &streamWriter{info: &StreamPlan{Stream: &Stream{Name: "pokemon"}}}}
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		recs, err := c.split(resp, []string{"results"})
		if err != nil || len(recs) != 1000 {
			b.Fatal(err, len(recs))
		}
	}
}

// BenchmarkRecordPath measures the per-record work beyond the envelope:
// tracking an incremental bookmark and dropping deselected fields.
func BenchmarkRecordPath(b *testing.B) {
	rec := []byte(`{"id":12,"big":9007199254740993,"updated_at":"2024-01-01T00:00:12Z","note":"n12"}`)
	for _, c := range []struct {
		name   string
		mode   SyncMode
		fields []string
	}{{"full", ModeFullRefresh, nil}, {"incremental", ModeIncremental, nil}, {"selected", ModeFullRefresh, []string{"id", "note"}}} {
		b.Run(c.name, func(b *testing.B) {
			src := eventsSource(b, Sorted())
			cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"http://x"}`))
			e := &engine{opts: SyncOptions{Config: cfg, Protocol: lineProtocol{}}, logger: orDiscard(nil), now: time.Now, signpost: time.Now()}
			runs, err := src.Plan(&Catalog{Streams: []CatalogStream{{Name: "events", Mode: c.mode, Fields: c.fields}}})
			if err != nil {
				b.Fatal(err)
			}
			r := e.newStreamWriter(runs[0])
			r.enc = discardEncoder{}
			c := &HttpContext{w: r} // through the transform hook, as the emit calls go
			b.ReportAllocs()
			for b.Loop() {
				c.record(rec)
			}
		})
	}
}

func TestSyncEmptyCatalogWarns(t *testing.T) {
	src := eventsSource(t)
	cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"http://127.0.0.1:1"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out, logs bytes.Buffer
	err = src.Sync(context.Background(), SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&out),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Catalog: &Catalog{}})
	if err != nil || out.Len() != 0 {
		t.Errorf("err = %v, output %q: an empty catalog syncs nothing and succeeds", err, out.String())
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "selects no stream") {
		t.Errorf("logs = %q, want a warning that nothing is selected", logs.String())
	}
}

// TestRunsLetGoOfTheirConnections: a sync or check that builds its own
// HTTP client (no Doer given) closes that client's idle connections when
// it ends, so a program that runs them again and again holds no
// connection, and no goroutine, between runs.
func TestRunsLetGoOfTheirConnections(t *testing.T) {
	srv, open := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"total":1,"data":[{"id":1,"big":1,"updated_at":"2024-01-01T00:00:01Z","note":"n1"}],"next":null}`)
	}))
	src := eventsSource(t)
	cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		run  func() error
	}{
		{"sync", func() error { _, err := runSync(t, src, srv.URL, nil, nil, 0); return err }},
		{"check", func() error { return src.Check(context.Background(), cfg, nil, HTTPOptions{}) }},
	}
	for _, step := range steps {
		for range 3 {
			if err := step.run(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
		}
		if n := waitClosed(open); n != 0 {
			t.Errorf("%s: %d connections still open after three runs ended", step.name, n)
		}
	}
}

// countingServer serves h and counts its open connections.
func countingServer(t testing.TB, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	open := new(atomic.Int64)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, open
}

// waitClosed returns the connections still open once every one has
// closed or 5 seconds have passed: the server sees a client's close a
// moment later, and a connection left idle would stay open for the
// transport's 90 seconds.
func waitClosed(open *atomic.Int64) int64 {
	for deadline := time.Now().Add(5 * time.Second); open.Load() != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	return open.Load()
}
