package integ_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/testsource"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

var sliceBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// minute is sliceBase plus n minutes.
func minute(n int) time.Time { return sliceBase.Add(time.Duration(n) * time.Minute) }

// eventsEvery returns a test API with n events, one a minute from
// sliceBase, three to a page.
func eventsEvery(n int) *testsource.Server {
	s := testsource.NewServer(testsource.WithPageSize(3))
	for i := range n {
		s.Add(fmt.Sprintf("event %d", i), minute(i))
	}
	return s
}

func slicedConfig(srv *integtest.Server, extra ...any) map[string]any {
	c := map[string]any{"base_url": srv.URL, "start_date": sliceBase.Format(time.RFC3339)}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i].(string)] = extra[i+1]
	}
	return c
}

// streamState is the events stream's state in a checkpoint of either
// protocol (nil when it has none).
func streamState(state []byte) gjson.Result {
	if v := gjson.GetBytes(state, "bookmarks.events"); v.Exists() {
		return v
	}
	for _, s := range gjson.ParseBytes(state).Array() {
		if s.Get("stream.stream_descriptor.name").String() == "events" {
			return s.Get("stream.stream_state")
		}
	}
	return gjson.Result{}
}

// claims reports whether a stream state says the time t is read.
func claims(st gjson.Result, t time.Time) bool {
	if low, err := time.Parse(time.RFC3339Nano, st.Get("replication_key_value").String()); err == nil && t.Before(low) {
		return true
	}
	for _, w := range st.Get("slices").Array() {
		lo, _ := time.Parse(time.RFC3339Nano, w.Get("start").String())
		hi, _ := time.Parse(time.RFC3339Nano, w.Get("end").String())
		if !t.Before(lo) && t.Before(hi) {
			return true
		}
	}
	return false
}

// checkClaims: no state message claims an event that is not written
// before it (or claimed by the state the run started from, prior).
func checkClaims(t *testing.T, res *integtest.Result, events []testsource.Event, prior ...[]byte) {
	t.Helper()
	recs := res.AllRecords()
	for i, cp := range res.Checkpoints() {
		st := streamState(cp.State)
		written := map[int64]bool{}
		for _, r := range recs[:cp.Records] {
			if r.Stream == "events" {
				written[gjson.GetBytes(r.Data, "id").Int()] = true
			}
		}
		for _, e := range events {
			if claims(st, e.UpdatedAt) && !written[e.ID] && (len(prior) == 0 || !claims(streamState(prior[0]), e.UpdatedAt)) {
				t.Fatalf("state %d (%s, after %d records) claims event %d (%s), not written before it", i, st.Raw, cp.Records, e.ID, e.UpdatedAt.Format(time.TimeOnly))
			}
		}
	}
}

// ids counts the events' records by id.
func ids(recs []json.RawMessage) map[int64]int {
	out := map[int64]int{}
	for _, r := range recs {
		out[gjson.GetBytes(r, "id").Int()]++
	}
	return out
}

// windowsOf lists the windows a run asked for, as [since, before) minutes.
func windowsOf(srv *integtest.Server) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range srv.Requests() {
		lo, _ := time.Parse(time.RFC3339, r.Query.Get("updated_since"))
		hi, _ := time.Parse(time.RFC3339, r.Query.Get("updated_before"))
		w := fmt.Sprintf("[%d,%d)", int(lo.Sub(sliceBase).Minutes()), int(hi.Sub(sliceBase).Minutes()))
		if r.Query.Get("updated_since") == "" {
			w = fmt.Sprintf("[-,%d)", int(hi.Sub(sliceBase).Minutes()))
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out
}

// A first sync reads its windows in parallel, every record once, and ends
// with the mark at the sync's start; no state claims a record before it is
// written, in either protocol.
func TestSlicedSync(t *testing.T) {
	for _, p := range []integtest.Protocol{integtest.Singer, integtest.Airbyte} {
		t.Run(string(p), func(t *testing.T) {
			api := eventsEvery(60)
			srv := integtest.NewServer(t, api)
			res := integtest.Sync(t, testsource.SlicedSource(), slicedConfig(srv), integtest.WithProtocol(p),
				integtest.WithClock(func() time.Time { return minute(60) }), integtest.WithCheckpointRecords(2))
			got := ids(res.Records("events"))
			if len(got) != 60 {
				t.Errorf("%d distinct events, want 60", len(got))
			}
			for id, n := range got {
				if n != 1 {
					t.Errorf("event %d written %d times", id, n)
				}
			}
			want := []string{"[0,10)", "[10,20)", "[20,30)", "[30,40)", "[40,50)", "[50,60)"}
			if w := windowsOf(srv); !slices.Equal(w, want) {
				t.Errorf("windows %v, want %v", w, want)
			}
			if n := len(srv.Requests()); n != 6*4 { // 10 events a window, 3 a page
				t.Errorf("%d requests, want 24", n)
			}
			final := streamState(res.FinalState())
			if final.Raw != `{"replication_key":"updated_at","replication_key_value":"2024-01-01T01:00:00Z"}` {
				t.Errorf("final state %s", final.Raw)
			}
			checkClaims(t, res, api.Events())
			if len(res.Checkpoints()) < 6 {
				t.Errorf("%d checkpoints; every window's completion is one", len(res.Checkpoints()))
			}
		})
	}
}

// failWindow fails every request for the window starting at minute lo
// after its first page, until it is told to stop.
type failWindow struct {
	h    http.Handler
	lo   time.Time
	mu   sync.Mutex
	stop bool
}

func (f *failWindow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	stop := f.stop
	f.mu.Unlock()
	if !stop && r.URL.Query().Get("updated_since") == f.lo.Format(time.RFC3339Nano) && r.URL.Query().Get("page") == "2" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":"injected"}`))
		return
	}
	f.h.ServeHTTP(w, r)
}

// A window that fails ends the stream with the windows that completed in
// its state, and the failed one's progress (a Sorted stream's); the resume
// reads only the rest, and the two runs together hold every record.
func TestSlicedResumeAfterFailure(t *testing.T) {
	for _, p := range []integtest.Protocol{integtest.Singer, integtest.Airbyte} {
		t.Run(string(p), func(t *testing.T) {
			api := eventsEvery(60)
			fw := &failWindow{h: api, lo: minute(20)}
			srv := integtest.NewServer(t, fw)
			clock := integtest.WithClock(func() time.Time { return minute(60) })
			cfg := slicedConfig(srv, "max_attempts", 1)
			first := integtest.Sync(t, testsource.SlicedSource(), cfg, integtest.WithProtocol(p), clock, integtest.WithExpectedFailure())
			if !strings.Contains(first.Failure(), "500") || !strings.Contains(first.Failure(), "injected") {
				t.Errorf("failure %q", first.Failure())
			}
			checkClaims(t, first, api.Events())
			st := streamState(first.FinalState())
			// Events are sorted in a window: its first page (20, 21, 22)
			// is claimed up to its greatest value, which more may share.
			if !claims(st, minute(21)) || claims(st, minute(22)) || claims(st, minute(29)) {
				t.Fatalf("the failed window's claim is not [20,22): %s", st.Raw)
			}
			fw.mu.Lock()
			fw.stop = true
			fw.mu.Unlock()
			srv.Reset()
			second := integtest.Sync(t, testsource.SlicedSource(), cfg, integtest.WithProtocol(p), clock, integtest.WithState(first.FinalState()))
			checkClaims(t, second, api.Events(), first.FinalState())
			// A window's first page says where the resume starts it. (A
			// later page of the first run's windows, cancelled when the run
			// failed, may still reach the server after the Reset.)
			for _, r := range srv.Requests() {
				if p := r.Query.Get("page"); p != "" && p != "1" {
					continue
				}
				lo, _ := time.Parse(time.RFC3339, r.Query.Get("updated_since"))
				if claims(st, lo) {
					t.Errorf("the resume read from %s again; the state had it: %s", lo.Format(time.TimeOnly), st.Raw)
				}
			}
			all := ids(append(first.Records("events"), second.Records("events")...))
			if len(all) != 60 {
				t.Errorf("%d distinct events over both runs, want 60", len(all))
			}
			if got := streamState(second.FinalState()).Raw; got != `{"replication_key":"updated_at","replication_key_value":"2024-01-01T01:00:00Z"}` {
				t.Errorf("final state %s", got)
			}
		})
	}
}

// The state of an unsliced sync (a plain bookmark) is the mark a sliced
// one starts from; a later sync after a complete one reads only the windows
// since its end.
func TestSlicedFromBookmarkThenLater(t *testing.T) {
	api := eventsEvery(60)
	srv := integtest.NewServer(t, api)
	old := `{"bookmarks":{"events":{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:35:00Z"}}}`
	first := integtest.Sync(t, testsource.SlicedSource(), slicedConfig(srv), integtest.WithState(json.RawMessage(old)),
		integtest.WithClock(func() time.Time { return minute(60) }))
	if w, want := windowsOf(srv), []string{"[35,45)", "[45,55)", "[55,60)"}; !slices.Equal(w, want) {
		t.Errorf("windows %v, want %v", w, want)
	}
	if n := len(ids(first.Records("events"))); n != 25 {
		t.Errorf("%d events, want the 25 since the bookmark", n)
	}
	for i := 60; i < 75; i++ {
		api.Add(fmt.Sprintf("later %d", i), minute(i))
	}
	srv.Reset()
	second := integtest.Sync(t, testsource.SlicedSource(), slicedConfig(srv), integtest.WithState(first.FinalState()),
		integtest.WithClock(func() time.Time { return minute(80) }))
	if w, want := windowsOf(srv), []string{"[60,70)", "[70,80)"}; !slices.Equal(w, want) {
		t.Errorf("windows %v, want %v", w, want)
	}
	if n := len(ids(second.Records("events"))); n != 15 {
		t.Errorf("%d events, want the 15 added", n)
	}
}

// With no start date and no state the open range is read as one window.
func TestSlicedWithoutStart(t *testing.T) {
	api := eventsEvery(7)
	srv := integtest.NewServer(t, api)
	res := integtest.Sync(t, testsource.SlicedSource(), map[string]any{"base_url": srv.URL},
		integtest.WithClock(func() time.Time { return minute(60) }))
	if w := windowsOf(srv); !slices.Equal(w, []string{"[-,60)"}) {
		t.Errorf("windows %v", w)
	}
	if n := len(res.Records("events")); n != 7 {
		t.Errorf("%d events", n)
	}
	if got := streamState(res.FinalState()).Get("replication_key_value").String(); got != "2024-01-01T01:00:00Z" {
		t.Errorf("mark %q", got)
	}
}

// Records outside their window (an API that ignores the filter) are
// dropped, so each is written once.
func TestSlicedDropsOutsideWindow(t *testing.T) {
	api := eventsEvery(30)
	srv := integtest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Del("updated_since")
		q.Del("updated_before")
		r.URL.RawQuery = q.Encode()
		api.ServeHTTP(w, r)
	}))
	res := integtest.Sync(t, testsource.SlicedSource(), slicedConfig(srv), integtest.WithClock(func() time.Time { return minute(30) }))
	got := ids(res.Records("events"))
	for id, n := range got {
		if n != 1 {
			t.Errorf("event %d written %d times", id, n)
		}
	}
	if len(got) != 30 {
		t.Errorf("%d events", len(got))
	}
}

func TestSlicesDeclaration(t *testing.T) {
	run := func(c *integ.HttpContext) error { return nil }
	type rec struct {
		ID int       `json:"id"`
		At time.Time `json:"at"`
	}
	cases := []struct {
		name string
		st   []*integ.Stream
		says string
	}{
		{"no replication key", []*integ.Stream{integ.NewStream("a", rec{}, run, integ.Slices(time.Hour, nil))}, "needs an Incremental stream"},
		{"no step", []*integ.Stream{integ.NewStream("a", rec{}, run, integ.Incremental("at"), integ.Slices(0, nil))}, "positive step"},
		{"a child", []*integ.Stream{integ.NewStream("p", rec{}, run), integ.NewStream("a", rec{}, run, integ.ChildOf("p"), integ.Incremental("at"), integ.Slices(time.Hour, nil))}, "child stream cannot be sliced"},
		{"a parent", []*integ.Stream{integ.NewStream("a", rec{}, run, integ.Incremental("at"), integ.Slices(time.Hour, nil)), integ.NewStream("c", rec{}, run, integ.ChildOf("a"))}, "cannot have child streams"},
	}
	for _, c := range cases {
		err := integ.NewSource("s", struct{}{}, integ.WithStreams(c.st...)).Err()
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want %q", c.name, err, c.says)
		}
	}
}

// A state whose slices are broken is refused before any request.
func TestSlicedBadState(t *testing.T) {
	srv := integtest.NewServer(t, eventsEvery(3))
	res := integtest.Sync(t, testsource.SlicedSource(), slicedConfig(srv), integtest.WithProtocol(integtest.Airbyte),
		integtest.WithState(json.RawMessage(`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"events"},"stream_state":{"slices":[{"start":"2024-01-02T00:00:00Z","end":"2024-01-01T00:00:00Z"}]}}}]`)),
		integtest.WithExpectedFailure())
	if res.FailureType() != "config_error" || !strings.Contains(res.Failure(), "ends before it starts") {
		t.Errorf("%s: %s", res.FailureType(), res.Failure())
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

// A Sorted window's progress claims only what is before its greatest
// value: records sharing that value on the next page are read on resume.
func TestSlicedProgressKeepsTies(t *testing.T) {
	api := testsource.NewServer(testsource.WithPageSize(3))
	for i, m := range []int{0, 1, 2, 2, 2, 3, 4} {
		api.Add(fmt.Sprintf("event %d", i), minute(m))
	}
	fw := &failWindow{h: api, lo: minute(0)}
	srv := integtest.NewServer(t, fw)
	clock := integtest.WithClock(func() time.Time { return minute(10) })
	cfg := slicedConfig(srv, "max_attempts", 1)
	first := integtest.Sync(t, testsource.SlicedSource(), cfg, clock, integtest.WithExpectedFailure())
	st := streamState(first.FinalState())
	if !claims(st, minute(1)) || claims(st, minute(2)) {
		t.Errorf("state %s: want [0,2) claimed, 2 not (its page was cut after the first of three)", st.Raw)
	}
	fw.mu.Lock()
	fw.stop = true
	fw.mu.Unlock()
	second := integtest.Sync(t, testsource.SlicedSource(), cfg, clock, integtest.WithState(first.FinalState()))
	if got := ids(append(first.Records("events"), second.Records("events")...)); len(got) != 7 {
		t.Errorf("%d distinct events over both runs, want 7: %v", len(got), got)
	}
}

// Lookback moves a sliced stream's mark back before its windows are
// planned: late arrivals just below the mark are read again.
func TestSlicedLookback(t *testing.T) {
	api := eventsEvery(60)
	srv := integtest.NewServer(t, api)
	src := integ.NewSource("lookback", struct {
		BaseURL string `json:"base_url"`
	}{}, integ.WithStreams(integ.NewStream("events", testsource.Event{}, func(c *integ.HttpContext) error {
		w, _ := c.Slice()
		req := requests.New(srv.URL+"/events").
			Query("updated_since", w.Start.Format(time.RFC3339)).Query("updated_before", w.End.Format(time.RFC3339))
		return c.EmitPages(req, requests.PageNumber("page", "", 3, 1, requests.HasMore("next_page")), "data")
	}, integ.PrimaryKey("id"), integ.Incremental("updated_at"), integ.Lookback(5*time.Minute),
		integ.Slices(10*time.Minute, nil))))
	state := `{"bookmarks":{"events":{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:40:00Z"}}}`
	res := integtest.Sync(t, src, map[string]any{"base_url": srv.URL}, integtest.WithState(json.RawMessage(state)),
		integtest.WithClock(func() time.Time { return minute(60) }))
	if w, want := windowsOf(srv), []string{"[35,45)", "[45,55)", "[55,60)"}; !slices.Equal(w, want) {
		t.Errorf("windows %v, want %v", w, want)
	}
	if n := len(ids(res.Records("events"))); n != 25 {
		t.Errorf("%d events, want 25 (from 5 minutes before the mark)", n)
	}
}

// The kit's checks on a sliced source: resuming from every checkpoint of
// either protocol loses no record, and both protocols write the same ones.
func TestSlicedConformance(t *testing.T) {
	srv := integtest.NewServer(t, eventsEvery(25))
	integtest.Conformance(t, testsource.SlicedSource(), slicedConfig(srv), integtest.WithClock(func() time.Time { return minute(30) }))
}
