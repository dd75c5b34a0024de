package integ

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// Slices makes an incremental stream read as time windows [Start, End) of
// step each, from where the stream's state says it got to (or from start
// on a first sync) up to the sync's start, several windows at once: a
// backfill of years of data then runs at the rate limit rather than at one
// request's latency. The runner reads its window with HttpContext.Slice and
// sends it as the API's filters (created[gte]/created[lt],
// updated_at_min/max, since/until); paging inside a window is the runner's
// usual EmitPages. Records outside the window (an API that ignored the
// filter) are dropped.
//
// The stream's replication key must be a time: an RFC 3339 string or Unix
// seconds (an integer in the stream's schema, as Stripe's "created"). start
// gives the first sync's lower bound, the config's start_date say; nil, or
// a zero time, reads everything before the first window's end as one
// window, since an open range cannot be cut.
//
// Windows run on the run's one request budget (max_concurrent_requests,
// requests_per_second). Their records may interleave in the output. The
// state holds a low-water mark below which everything is read (in
// replication_key_value, so a plain bookmark of an older sync is accepted as
// one) and the completed windows above it, merged:
//
//	{"replication_key": "created", "replication_key_value": 1714000000,
//	 "slices": [{"start": 1714086400, "end": 1714172800}]}
//
// A window is in the state only once all its records are written (a Sorted
// stream's, which come in ascending order, also up to its greatest value
// written, as its pages go out); a resumed sync reads only what is not in
// it. Lookback moves the mark back before the windows are planned. A window that fails ends the
// stream (after the OnError policy), keeping the windows that completed.
// A sliced stream cannot be a child stream, nor have children.
func Slices(step time.Duration, start func(c *HttpContext) (time.Time, error)) StreamOption {
	return func(s *Stream) { s.slices = &sliceSpec{step: step, start: start} }
}

// Sliced reports whether the stream is read in time windows (see Slices),
// whose records interleave: their order in the output is not the API's.
func (s *Stream) Sliced() bool { return s.slices != nil }

// sliceSpec is a stream's Slices declaration.
type sliceSpec struct {
	step  time.Duration
	start func(c *HttpContext) (time.Time, error)
}

// Slice is the time window a sliced stream's runner reads: records whose
// replication key is at or after Start and before End. A zero Start means
// no lower bound.
type Slice struct {
	Start, End time.Time
}

// String shows the window as [start, end).
func (s Slice) String() string {
	lo := "-inf"
	if !s.Start.IsZero() {
		lo = s.Start.UTC().Format(time.RFC3339Nano)
	}
	return "[" + lo + ", " + s.End.UTC().Format(time.RFC3339Nano) + ")"
}

// Slice is the window this invocation of a sliced stream's runner reads
// (see Slices); false for other streams, and in a check.
func (c *HttpContext) Slice() (Slice, bool) {
	if c.w == nil || c.w.window == nil {
		return Slice{}, false
	}
	return c.w.window.Slice, true
}

// sliceWindow is one window being read, with the stream's key to drop the
// records outside it.
type sliceWindow struct {
	Slice
	key  string // gjson path of the replication key
	unix bool

	written time.Time // the greatest value kept so far
	claimed time.Time // the end of the progress in the state
}

// keep reports whether a record belongs to the window. A record without a
// readable time stays: the window cannot tell where it belongs.
func (w *sliceWindow) keep(rec []byte) bool {
	v := gjson.Get(view(rec), w.key)
	t, ok := cursorTime(v)
	if !ok {
		return true
	}
	if w.unix {
		t = t.Truncate(time.Second)
	}
	if (!w.Start.IsZero() && t.Before(w.Start)) || !t.Before(w.End) {
		return false
	}
	if t.After(w.written) {
		w.written = t
	}
	return true
}

// cursorTime reads a replication value as a time: Unix seconds or a time
// string. Seconds outside years 1 to 9999 (which RFC 3339 cannot write) are
// not a time.
func cursorTime(v gjson.Result) (time.Time, bool) {
	const minUnix, maxUnix = -62135596800, 253402300799
	switch v.Type {
	case gjson.Number:
		if n, err := strconv.ParseInt(v.Raw, 10, 64); err == nil {
			if n < minUnix || n > maxUnix {
				return time.Time{}, false
			}
			return time.Unix(n, 0).UTC(), true
		}
		f := v.Float()
		if !(f >= minUnix && f <= maxUnix) { // NaN too
			return time.Time{}, false
		}
		sec := math.Floor(f)
		return time.Unix(int64(sec), int64((f-sec)*1e9)).UTC(), true
	case gjson.String:
		// The same years as the numbers: a state written as Unix seconds
		// must read back (year 0 parses as a date, not as seconds).
		t, ok := parseTime(v)
		if !ok || t.Unix() < minUnix || t.Unix() > maxUnix {
			return time.Time{}, false
		}
		return t, true
	}
	return time.Time{}, false
}

// unixCursor reports whether a stream's replication key holds Unix seconds
// (a number in its declared schema, else in the plan's) rather than a time
// string.
func unixCursor(st *Stream, plan *Schema) bool {
	segs := SplitKey(st.ReplicationKey)
	for _, schema := range []*Schema{st.Schema, plan} {
		if schema == nil {
			continue
		}
		if p, missing := schema.PropertyPath(segs); missing < 0 && p != nil {
			return p.Type.Has("integer") || p.Type.Has("number")
		}
	}
	return false
}

// checkSlices rejects sliced streams that cannot be read by windows.
func checkSlices(streams []*Stream) []error {
	parents := map[string]bool{}
	for _, st := range streams {
		parents[st.Parent] = true
	}
	var errs []error
	for _, st := range streams {
		sp := st.slices
		switch {
		case sp == nil:
		case sp.step <= 0:
			errs = append(errs, fmt.Errorf("stream %q: Slices needs a positive step, got %v", st.Name, sp.step))
		case st.ReplicationKey == "":
			errs = append(errs, fmt.Errorf("stream %q: Slices needs an Incremental stream: windows are ranges of its replication key", st.Name))
		case st.Parent != "":
			errs = append(errs, fmt.Errorf("stream %q: a child stream cannot be sliced (its partitions are its parent's records)", st.Name))
		case parents[st.Name]:
			errs = append(errs, fmt.Errorf("stream %q: a sliced stream cannot have child streams", st.Name))
		}
	}
	return errs
}

// runSlices reads a sliced stream: its windows not yet done, several at
// once on one pool, each window's pages written as they come and its
// completion checkpointed once they are all out.
func (e *engine) runSlices(ctx context.Context, r *streamWriter, c *HttpContext) error {
	st := r.info.Stream
	unix := unixCursor(st, r.info.Schema)
	state := &sliceState{key: st.ReplicationKey, unix: unix}
	if r.info.Incremental() {
		var err error
		if state, err = parseSliceState(st.Name, st.ReplicationKey, r.prevState, unix); err != nil {
			return err
		}
		if !state.low.IsZero() && st.lookback > 0 {
			state.low = state.low.Add(-st.lookback) // read again: see Lookback
		}
	}
	var start time.Time
	if st.slices.start != nil {
		var err error
		if start, err = st.slices.start(c); err != nil {
			return err
		}
	}
	end := e.signpost
	if unix {
		start, end = start.Truncate(time.Second), end.Truncate(time.Second)
	}
	windows, err := state.todo(start, end, st.slices.step)
	if err != nil {
		return &Error{Kind: SystemFailure, Msg: fmt.Sprintf("stream %q: %v", st.Name, err)}
	}
	r.logger.Info("reading the stream in time windows", "windows", len(windows), "step", st.slices.step.String())

	cs := &childStream{run: r, parent: st, slices: state}
	cs.ctx, cs.cancel = context.WithCancelCause(ctx)
	defer cs.cancel(nil)
	r.parts = cs
	pool := newPartitionPool(ctx, e.partitionParallelism())
	defer pool.cancel(nil)
	for _, w := range windows {
		if err := pool.submit(cs.windowTask(w, unix)); err != nil {
			break // drain returns it: the windows not started are not read
		}
	}
	return pool.drain()
}

// windowTask reads one window. Its records go out as its pages come; its
// completion reaches the state after them.
func (cs *childStream) windowTask(w timeRange, unix bool) func(context.Context) error {
	return func(ctx context.Context) error {
		r := cs.run
		st := r.info.Stream
		win := &sliceWindow{Slice: Slice{Start: w.lo, End: w.hi}, key: keyPath(st.ReplicationKey), unix: unix}
		p := &partition{cs: cs, ctx: ctx, name: win.String(), prev: closedChan, enc: &rawEncoder{}}
		inv := &streamWriter{
			e: r.e, info: r.info, enc: p.enc, part: p, window: win,
			keep:   r.keep,
			logger: r.logger.With("slice", p.name),
		}
		if r.validator != nil {
			inv.validator = &recordValidator{schema: r.validator.schema, fail: r.validator.fail}
		}
		c := &HttpContext{ctx: ctx, cfg: r.e.opts.Config, http: r.e.http, logger: inv.logger, w: inv}
		err := safeRun(st.Runner, c)
		if err == nil {
			err = p.complete(inv, true)
		}
		if inv.skipped > 0 {
			inv.logger.Warn("dropped records outside the window (the API ignored the filter)", "count", inv.skipped)
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("stream %q: slice %s: %w: %w", st.Name, p.name, ErrInterrupted, context.Cause(ctx))
		}
		var wErr *outputError
		if !errors.As(err, &wErr) {
			// What this window wrote so far goes out (not claimed), then
			// the stream decides.
			_ = p.complete(inv, false)
		}
		return sliceError(st.Name, p.name, err)
	}
}

// sliceError names the window; the stream's error policy and explain
// (in settle) judge the error itself.
func sliceError(stream, window string, err error) error {
	return fmt.Errorf("stream %q: slice %s: %w", stream, window, err)
}
