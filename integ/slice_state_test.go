package integ

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var s0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// at is s0 plus n hours.
func at(n int) time.Time { return s0.Add(time.Duration(n) * time.Hour) }

func ranges(s *sliceState) string {
	var b strings.Builder
	for _, d := range s.done {
		fmt.Fprintf(&b, "[%d,%d)", int(d.lo.Sub(s0).Hours()), int(d.hi.Sub(s0).Hours()))
	}
	return b.String()
}

// Completed windows merge with their neighbours and into the low-water
// mark, whatever order they complete in, so the state stays as small as
// the number of windows still running.
func TestSliceStateAdd(t *testing.T) {
	cases := []struct {
		name string
		low  int // -1: none
		add  [][2]int
		want int // the low-water mark after
		rest string
	}{
		{"in order", 0, [][2]int{{0, 1}, {1, 2}, {2, 3}}, 3, ""},
		{"out of order", 0, [][2]int{{2, 3}, {1, 2}, {4, 5}, {0, 1}}, 3, "[4,5)"},
		{"a gap stays", 0, [][2]int{{1, 2}, {3, 4}}, 0, "[1,2)[3,4)"},
		{"the gap filled", 0, [][2]int{{1, 2}, {3, 4}, {2, 3}}, 0, "[1,4)"},
		{"overlapping", 0, [][2]int{{1, 5}, {2, 3}, {4, 8}}, 0, "[1,8)"},
		{"below the mark", 5, [][2]int{{1, 2}, {3, 6}}, 6, ""},
		{"touching the mark", 5, [][2]int{{5, 7}}, 7, ""},
		{"no mark", -1, [][2]int{{1, 2}, {2, 3}}, -1, "[1,3)"},
		{"reversed inserts", 0, [][2]int{{9, 10}, {7, 8}, {5, 6}, {3, 4}}, 0, "[3,4)[5,6)[7,8)[9,10)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &sliceState{track: true}
			if c.low >= 0 {
				s.low = at(c.low)
			}
			for _, r := range c.add {
				s.add(timeRange{at(r[0]), at(r[1])})
			}
			want := time.Time{}
			if c.want >= 0 {
				want = at(c.want)
			}
			if !s.low.Equal(want) || ranges(s) != c.rest {
				t.Errorf("low %v, done %s; want %v, %s", s.low, ranges(s), want, c.rest)
			}
		})
	}
}

// A sync plans the windows between the mark (or the start, when later) and
// its end that no earlier sync completed, oldest first.
func TestSliceStateTodo(t *testing.T) {
	cases := []struct {
		name       string
		low        int // -1: none
		done       [][2]int
		start, end int // start -1: none
		step       int
		want       string
	}{
		{"first sync", -1, nil, 0, 5, 2, "[0,2)[2,4)[4,5)"},
		{"from the mark", 3, nil, 0, 7, 2, "[3,5)[5,7)"},
		{"a later start wins", 1, nil, 4, 7, 10, "[4,7)"},
		{"around completed ones", 0, [][2]int{{2, 3}, {5, 6}}, 0, 8, 2, "[0,2)[3,5)[6,8)"},
		{"a gap cut by step", 0, [][2]int{{7, 8}}, 0, 8, 3, "[0,3)[3,6)[6,7)"},
		{"done to the end", 0, [][2]int{{1, 9}}, 0, 9, 2, "[0,1)"},
		{"nothing left", 9, nil, 0, 9, 2, ""},
		{"past the end", 10, nil, 0, 9, 2, ""},
		{"completed beyond the end", 0, [][2]int{{12, 13}}, 0, 4, 2, "[0,2)[2,4)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &sliceState{track: true}
			if c.low >= 0 {
				s.low = at(c.low)
			}
			for _, r := range c.done {
				s.add(timeRange{at(r[0]), at(r[1])})
			}
			var start time.Time
			if c.start >= 0 {
				start = at(c.start)
			}
			ws, err := s.todo(start, at(c.end), time.Duration(c.step)*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if got := ranges(&sliceState{done: ws}); got != c.want {
				t.Errorf("windows %s, want %s", got, c.want)
			}
		})
	}
	// With no start and nothing read, the open range is one window.
	s := &sliceState{}
	ws, _ := s.todo(time.Time{}, at(5), time.Hour)
	if len(ws) != 1 || !ws[0].lo.IsZero() || !ws[0].hi.Equal(at(5)) {
		t.Errorf("no start: %v", ws)
	}
	s.add(ws[0])
	if !s.low.Equal(at(5)) || len(s.done) != 0 {
		t.Errorf("after the open window: low %v, done %v", s.low, s.done)
	}
	if _, err := (&sliceState{}).todo(at(0), at(24*365), time.Millisecond); err == nil {
		t.Error("a year in milliseconds: no error")
	}
}

// The state's shape, both ways, and the states it refuses.
func TestParseSliceState(t *testing.T) {
	good := []struct {
		name, in string
		unix     bool
		out      string
	}{
		{"none", ``, false, ``},
		{"a plain bookmark (an unsliced sync's)", `{"replication_key":"updated_at","replication_key_value":"2024-01-01T03:00:00Z"}`, false,
			`{"replication_key":"updated_at","replication_key_value":"2024-01-01T03:00:00Z"}`},
		{"a plain Unix bookmark", `{"replication_key":"created","replication_key_value":1704078000}`, true,
			`{"replication_key":"updated_at","replication_key_value":1704078000}`},
		{"windows, merged", `{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:00:00Z","slices":[{"start":"2024-01-01T05:00:00Z","end":"2024-01-01T06:00:00Z"},{"start":"2024-01-01T02:00:00Z","end":"2024-01-01T03:00:00Z"},{"start":"2024-01-01T03:00:00Z","end":"2024-01-01T04:00:00Z"}]}`, false,
			`{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:00:00Z","slices":[{"start":"2024-01-01T02:00:00Z","end":"2024-01-01T04:00:00Z"},{"start":"2024-01-01T05:00:00Z","end":"2024-01-01T06:00:00Z"}]}`},
		{"a window at the mark is absorbed", `{"replication_key_value":1704067200,"slices":[{"start":1704067200,"end":1704070800}]}`, true,
			`{"replication_key":"updated_at","replication_key_value":1704070800}`},
		{"the runner's own keys stay", `{"cursor":"abc","replication_key_value":"2024-01-01T00:00:00Z","slices":null}`, false,
			`{"cursor":"abc","replication_key":"updated_at","replication_key_value":"2024-01-01T00:00:00Z"}`},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			var in []byte
			if c.in != "" {
				in = []byte(c.in)
			}
			s, err := parseSliceState("events", "updated_at", in, c.unix)
			if err != nil {
				t.Fatal(err)
			}
			base := json.RawMessage(nil)
			if c.in != "" {
				base = json.RawMessage(c.in)
			}
			out, err := s.stateValue("events", base)
			if err != nil || string(out) != c.out {
				t.Errorf("state %s (%v)\nwant %s", out, err, c.out)
			}
		})
	}
	bad := []struct{ in, says string }{
		{`{"replication_key_value":"yesterday"}`, "is not a time"},
		{`{"replication_key_value":true}`, "is not a time"},
		{`{"slices":{"start":1,"end":2}}`, "must be an array"},
		{`{"slices":[{"start":1}]}`, `must be {"start": time, "end": time}`},
		{`{"slices":[[1,2]]}`, `must be {"start": time, "end": time}`},
		{`{"slices":[{"start":5,"end":5}]}`, "ends before it starts"},
		{`{"slices":[{"start":"2024-01-02T00:00:00Z","end":"2024-01-01T00:00:00Z"}]}`, "ends before it starts"},
	}
	for _, c := range bad {
		_, err := parseSliceState("events", "updated_at", []byte(c.in), false)
		var ie *Error
		if !errors.As(err, &ie) || ie.Kind != ConfigFailure || !errors.Is(err, ErrState) || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "reset the stream's state") {
			t.Errorf("%s: %v, want a config error saying %q", c.in, err, c.says)
		}
	}
}

// FuzzSliceState: any state either is refused as a config error or reads
// back to itself once written, and plans windows that are disjoint,
// ordered, and cover exactly what it has not read.
func FuzzSliceState(f *testing.F) {
	f.Add([]byte(`{"replication_key":"created","replication_key_value":1704078000}`), true, int64(3600))
	f.Add([]byte(`{"replication_key_value":"2024-01-01T00:00:00Z","slices":[{"start":"2024-01-01T05:00:00Z","end":"2024-01-01T06:00:00Z"}]}`), false, int64(7200))
	f.Add([]byte(`{"slices":[{"start":1704067200,"end":1704070800},{"start":1704060000,"end":1704067300}]}`), true, int64(60))
	f.Add([]byte(`{"slices":[{"start":-1e300,"end":1e300}]}`), true, int64(1))
	f.Fuzz(func(t *testing.T, in []byte, unix bool, stepSeconds int64) {
		if !json.Valid(in) {
			return // Sync refuses it before (checkStateObject)
		}
		s, err := parseSliceState("events", "k", in, unix)
		if err != nil {
			var ie *Error
			if !errors.As(err, &ie) || ie.Kind != ConfigFailure {
				t.Fatalf("%s: %v is not a config error", in, err)
			}
			return
		}
		out, err := s.stateValue("events", nil)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseSliceState("events", "k", out, unix)
		if err != nil {
			t.Fatalf("%s read back from %s: %v", out, in, err)
		}
		out2, _ := again.stateValue("events", nil)
		if !unix && string(out2) != string(out) { // Unix seconds drop sub-second parts once
			t.Fatalf("not stable: %s then %s", out, out2)
		}
		step := time.Duration(max(1, stepSeconds%100_000)) * time.Minute
		end := s0.Add(1000 * time.Hour)
		ws, err := again.todo(s0, end, step)
		if err != nil {
			return // too many windows: refused, not planned
		}
		cur := time.Time{}
		for _, w := range ws {
			if !w.lo.Before(w.hi) || w.lo.Before(cur) || w.hi.After(end) {
				t.Fatalf("window [%v, %v) after %v, end %v", w.lo, w.hi, cur, end)
			}
			cur = w.hi
			again.add(w)
		}
		if len(ws) > 0 && again.low.Before(end) {
			t.Fatalf("after every window the mark is %v, not past %v (%s)", again.low, end, ranges(again))
		}
	})
}
