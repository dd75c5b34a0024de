package integ

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// stateSlices is the key of a sliced stream's completed windows above its
// low-water mark (replication_key_value).
const stateSlices = "slices"

// maxWindows bounds the windows of one sync: more is a step too short for
// the range, and a plan that would not fit in memory.
const maxWindows = 1_000_000

// timeRange is a half-open range of times [lo, hi); a zero lo is no lower
// bound.
type timeRange struct{ lo, hi time.Time }

// sliceState is what a sliced stream has read: everything before low, and
// the ranges in done (sorted, disjoint, not touching, all above low).
// Guarded by its childStream's mu during a sync.
type sliceState struct {
	key   string // the replication key, written with the mark
	unix  bool   // boundaries are Unix seconds in the state, not RFC 3339
	track bool   // an incremental run: completions reach the state
	low   time.Time
	done  []timeRange
}

// parseSliceState reads a sliced stream's state: the low-water mark from
// replication_key_value (a plain bookmark of an unsliced sync is one) and
// the completed windows from "slices". Anything else is a config error
// asking to reset the state.
func parseSliceState(stream, key string, prev []byte, unix bool) (*sliceState, error) {
	s := &sliceState{key: key, unix: unix, track: true}
	if len(prev) == 0 {
		return s, nil
	}
	bad := func(msg string) error {
		return &Error{Kind: ConfigFailure, Msg: fmt.Sprintf("state of stream %q: %s; reset the stream's state", stream, msg), Err: ErrState}
	}
	if v := gjson.GetBytes(prev, stateReplicationKeyValue); v.Exists() && v.Type != gjson.Null {
		t, ok := cursorTime(v)
		if !ok {
			return nil, bad(fmt.Sprintf("%s %s is not a time (RFC 3339 or Unix seconds)", stateReplicationKeyValue, excerpt([]byte(v.Raw), 60)))
		}
		s.low = t
	}
	sl := gjson.GetBytes(prev, stateSlices)
	if !sl.Exists() || sl.Type == gjson.Null {
		return s, nil
	}
	if !sl.IsArray() {
		return nil, bad(fmt.Sprintf("%q must be an array of {\"start\": ..., \"end\": ...}, got %s", stateSlices, excerpt([]byte(sl.Raw), 60)))
	}
	var err error
	sl.ForEach(func(_, w gjson.Result) bool {
		lo, ok1 := cursorTime(w.Get("start"))
		hi, ok2 := cursorTime(w.Get("end"))
		switch {
		case !w.IsObject() || !ok1 || !ok2:
			err = bad(fmt.Sprintf("slice %s must be {\"start\": time, \"end\": time}", excerpt([]byte(w.Raw), 80)))
		case !lo.Before(hi):
			err = bad(fmt.Sprintf("slice %s ends before it starts", excerpt([]byte(w.Raw), 80)))
		default:
			s.add(timeRange{lo, hi})
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// add merges a completed range into the state.
func (s *sliceState) add(r timeRange) {
	i, _ := slices.BinarySearchFunc(s.done, r, func(a, b timeRange) int { return a.lo.Compare(b.lo) })
	s.done = slices.Insert(s.done, i, r)
	out := s.done[:0]
	for _, d := range s.done {
		if n := len(out); n > 0 && !d.lo.After(out[n-1].hi) {
			if d.hi.After(out[n-1].hi) {
				out[n-1].hi = d.hi
			}
			continue
		}
		out = append(out, d)
	}
	s.done = out
	s.absorb()
}

// absorb moves ranges that reach the low-water mark into it.
func (s *sliceState) absorb() {
	n := 0
	for n < len(s.done) && !s.done[n].lo.After(s.low) {
		if s.done[n].hi.After(s.low) {
			s.low = s.done[n].hi
		}
		n++
	}
	s.done = slices.Delete(s.done, 0, n)
}

// todo plans the windows of a sync reading up to end: from the low-water
// mark or start, whichever is later, every gap between completed ranges cut
// into windows of step, oldest first. An unbounded gap (no start, nothing
// read) is one window.
func (s *sliceState) todo(start, end time.Time, step time.Duration) ([]timeRange, error) {
	if start.After(s.low) {
		s.low = start
		s.absorb()
	}
	if s.unix && step < time.Second {
		step = time.Second
	}
	var out []timeRange
	cut := func(lo, hi time.Time) error {
		if lo.IsZero() {
			out = append(out, timeRange{lo, hi})
			return nil
		}
		for lo.Before(hi) {
			if len(out) >= maxWindows || hi.Sub(lo)/step > maxWindows {
				return fmt.Errorf("more than %d windows of %v between %s and %s: the stream's Slices step is too short", maxWindows, step, start.Format(time.RFC3339), end.Format(time.RFC3339))
			}
			next := lo.Add(step)
			if next.After(hi) || !next.After(lo) {
				next = hi
			}
			out = append(out, timeRange{lo, next})
			lo = next
		}
		return nil
	}
	cur := s.low
	for _, d := range s.done {
		if !cur.Before(end) {
			break
		}
		if d.lo.After(cur) {
			if err := cut(cur, minTime(d.lo, end)); err != nil {
				return nil, err
			}
		}
		if d.hi.After(cur) {
			cur = d.hi
		}
	}
	if cur.Before(end) {
		if err := cut(cur, end); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// progress records what a window has written: all of it when it is
// complete, or, for a Sorted stream, everything before the greatest value
// it wrote (records of that value may still come). It reports whether the
// state changed.
func (s *sliceState) progress(w *sliceWindow, complete, sorted bool) bool {
	if !s.track || w == nil {
		return false
	}
	switch {
	case complete:
		s.add(timeRange{w.Start, w.End})
		return true
	case sorted && w.written.After(w.Start) && !w.written.After(w.End) && w.written.After(w.claimed):
		s.add(timeRange{w.Start, w.written})
		w.claimed = w.written
		return true
	}
	return false
}

// bound writes a boundary as the stream's replication values are written.
func (s *sliceState) bound(t time.Time) json.RawMessage {
	if s.unix {
		return json.RawMessage(strconv.FormatInt(t.Unix(), 10))
	}
	return json.RawMessage(strconv.Quote(t.UTC().Format(time.RFC3339Nano)))
}

// stateValue is the stream's state object: base (the runner's own state)
// with the low-water mark and the completed windows in it.
func (s *sliceState) stateValue(stream string, base json.RawMessage) (json.RawMessage, error) {
	if !s.track {
		return base, nil
	}
	m := map[string]json.RawMessage{}
	if base != nil {
		if err := json.Unmarshal(base, &m); err != nil {
			return nil, fmt.Errorf("stream %q: state: %w", stream, err)
		}
	}
	delete(m, stateReplicationKeyValue)
	delete(m, stateSlices)
	if !s.low.IsZero() {
		key, _ := json.Marshal(s.key)
		m[stateReplicationKey] = key
		m[stateReplicationKeyValue] = s.bound(s.low)
	}
	if len(s.done) > 0 {
		buf := []byte{'['}
		for i, d := range s.done {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"start":`...)
			buf = append(buf, s.bound(d.lo)...)
			buf = append(buf, `,"end":`...)
			buf = append(buf, s.bound(d.hi)...)
			buf = append(buf, '}')
		}
		m[stateSlices] = append(buf, ']')
	}
	if len(m) == 0 {
		return nil, nil
	}
	return marshalOrdered(m), nil
}
