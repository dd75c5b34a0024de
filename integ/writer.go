package integ

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/integ/integ/integ/driver"
)

// newStreamWriter prepares one stream's emit path.
func (e *engine) newStreamWriter(run *StreamPlan) *streamWriter {
	name := run.Stream.Name
	r := &streamWriter{
		e: e, info: run,
		prevState:      e.opts.State.Stream(name),
		lastCheckpoint: e.now(),
		logger:         e.logger.With("stream", name),
	}
	r.enc = e.opts.Protocol.Stream(run.describe(r.logger))
	if run.Incremental() {
		r.bookmark = newBookmark(run.Stream.ReplicationKey, r.prevState, e.signpost)
		r.bookmark.lookBack(run.Stream.lookback)
	} else {
		r.prevState = stripBookmark(r.prevState)
	}
	if v, err := newRecordValidator(run, e.settings.validate); err != nil {
		r.failed = err
	} else {
		r.validator = v
	}
	if run.Fields != nil {
		r.keep = make(map[string]bool, len(run.Fields))
		for _, f := range run.Fields {
			r.keep[f] = true
		}
	}
	return r
}

// finish writes a stream's last records and state and ends it. Whatever
// happened, the records read so far go out with a state that covers exactly
// them, so a resume loses nothing.
func (r *streamWriter) finish(runErr error) error {
	if runErr == nil || r.sinceCP > 0 || r.stateDirty {
		if err := r.checkpoint(true, runErr == nil && !r.partial); err != nil && runErr == nil {
			runErr = err
		}
	}
	res := &driver.StreamResult{Records: r.total, Skipped: r.skipped, Duration: r.e.now().Sub(r.start), Err: runErr}
	r.buf = r.enc.End(r.buf[:0], res)
	if err := r.e.opts.Output.Write(r.buf); err != nil && runErr == nil {
		runErr = fmt.Errorf("stream %q: writing output: %w", r.info.Stream.Name, err)
	}
	r.buf = r.buf[:0]
	if r.skipped > 0 {
		r.logger.Warn("dropped records older than the bookmark (the API ignored the filter)", "count", r.skipped)
	}
	if b := r.bookmark; b != nil && b.missing > 0 {
		r.bookmark.warnMissing(r.logger, r.info.Stream.ReplicationKey)
	}
	return runErr
}

// streamWriter is the emit path of one stream: records are appended to buf by
// the protocol's encoder and buf goes to the output in whole lines.
type streamWriter struct {
	e         *engine
	info      *StreamPlan
	enc       driver.StreamEncoder
	buf       []byte
	scratch   []byte
	mid       []byte          // a Framer's suffix then prefix: the bytes between two records of a page
	recs      []string        // the current page's raw records
	xbuf      [2][]byte       // transform outputs, reused record to record
	keep      map[string]bool // selected fields, nil when all are
	checkOnly bool

	prevState      json.RawMessage
	bookmark       *bookmark
	custom         json.RawMessage // runner state from EmitState
	stateDirty     bool
	total          int64
	skipped        int64
	sinceCP        int64
	lastCheckpoint time.Time
	inPage         bool
	estimated      bool
	start          time.Time
	logger         *slog.Logger
	silent         bool // a parent run only to feed its children

	children []*childStream // child streams fed by this stream's records
	pool     *partitionPool // a top-level stream's running partitions
	parents  [][]byte       // this page's records, waiting for the children
	part     *partition     // for a child invocation: its partition
	window   *sliceWindow   // for a sliced stream's invocation: its window
	parts    *childStream   // for a child stream: its partition states
	failed   error          // a child stream's first error
	partial  bool           // skipped by the error policy: ends well, but its bookmark must not move to the end

	multiline bool             // the current page's records may span lines
	compacted bytes.Buffer     // a multi-line record, put on one line
	validator *recordValidator // nil unless validate_records asks
	invalid   error            // the first invalid record in fail mode
}

func (r *streamWriter) beginPage() {
	r.buf = r.enc.Page(r.buf, r.e.now())
	r.inPage = true
}

func (r *streamWriter) beginPageIfNeeded() {
	if !r.inPage {
		r.beginPage()
	}
}

// record is the hot path: no allocation unless fields are deselected.
func (r *streamWriter) record(rec []byte) {
	// Validate before the bookmark sees the record: a record that is not
	// emitted must never move the bookmark past itself.
	if r.validator != nil && (r.invalid != nil || !r.validate(rec)) {
		return
	}
	if r.window != nil && !r.window.keep(rec) {
		r.skipped++
		return
	}
	if r.bookmark != nil && !r.bookmark.observe(rec) {
		r.skipped++
		return
	}
	if r.children != nil {
		r.parents = append(r.parents, append([]byte(nil), rec...))
		if r.silent {
			return
		}
	}
	if r.multiline && (bytes.IndexByte(rec, '\n') >= 0 || bytes.IndexByte(rec, '\r') >= 0) {
		// A pretty-printed record: newlines can only be whitespace in
		// JSON, and a JSON-lines protocol cannot carry them.
		r.compacted.Reset()
		if json.Compact(&r.compacted, rec) == nil {
			rec = r.compacted.Bytes()
		}
	}
	if r.keep != nil {
		r.scratch = selectFields(r.scratch[:0], rec, r.keep)
		rec = r.scratch
	}

	r.buf = r.enc.Record(r.buf, rec)
	r.total++
	r.sinceCP++
	if r.bookmark != nil {
		r.stateDirty = true
	}
}

// framePage writes a page's records in one loop when nothing is done to
// them one by one (no transform, validation, window, bookmark, children,
// field selection or multi-line record) and the encoder frames every
// record alike: a full refresh of a list, the commonest stream. It reports
// false, having written nothing, when the page needs the general path.
func (r *streamWriter) framePage(recs []string) bool {
	f, ok := r.enc.(driver.Framer)
	if !ok || len(recs) == 0 || len(r.info.Stream.transforms) > 0 || r.validator != nil || r.window != nil || r.bookmark != nil ||
		r.children != nil || r.keep != nil || r.multiline || r.invalid != nil {
		return false
	}
	prefix, suffix := f.Frame()
	n := len(recs) * (len(prefix) + len(suffix))
	for _, rec := range recs {
		n += len(rec)
	}
	// Between two records go the first's suffix and the second's prefix:
	// joined, they are one copy, not two (most of a page's copies are
	// this short).
	r.mid = append(append(r.mid[:0], suffix...), prefix...)
	if len(r.mid) <= len(midBlock{}) {
		r.buf = framePageBlocks(r.buf, n, prefix, suffix, r.mid, recs)
	} else {
		buf := append(slices.Grow(r.buf, n), prefix...)
		for i, rec := range recs {
			if i > 0 {
				buf = append(buf, r.mid...)
			}
			buf = append(buf, rec...)
		}
		r.buf = append(buf, suffix...)
	}
	r.total += int64(len(recs))
	r.sinceCP += int64(len(recs))
	return true
}

// midBlock holds a suffix and prefix joined, copied whole between two
// records: a copy of a constant size is a few vector moves the compiler
// writes in place, where append calls memmove for every record.
type midBlock [128]byte

// framePageBlocks is framePage's loop for a mid of at most a midBlock: each
// record's mid is written as a whole block, the bytes past the mid
// overwritten by the record after it (or left past len), so buf keeps a
// block's room at its end.
func framePageBlocks(buf []byte, n int, prefix, suffix, mid []byte, recs []string) []byte {
	var m midBlock
	copy(m[:], mid)
	buf = append(slices.Grow(buf, n+len(m)), prefix...)
	for i, rec := range recs {
		if i > 0 {
			l := len(buf)
			*(*midBlock)(buf[l : l+len(m)]) = m
			buf = buf[:l+len(mid)]
		}
		buf = append(buf, rec...)
	}
	return append(buf, suffix...)
}

// validate reports whether rec may go out; in fail mode the first invalid
// record stops the stream at the end of its page.
func (r *streamWriter) validate(rec []byte) bool {
	problem := r.validator.check(rec)
	if problem == "" {
		return true
	}
	if r.validator.fail {
		if r.invalid == nil {
			r.invalid = &Error{Kind: SystemFailure, Msg: fmt.Sprintf("stream %q: a record does not match the stream's schema: %s (record: %s)", r.info.Stream.Name, problem, excerpt(rec, 120)), Err: ErrRecordInvalid}
		}
		return false
	}
	if r.validator.warned < 10 { // enough to see the pattern without flooding the log
		r.logger.Warn("record does not match the stream's schema", "problem", problem, "record", excerpt(rec, 120))
	}
	r.validator.warned++
	return true
}

func (r *streamWriter) endPage() error {
	r.inPage = false
	if r.invalid != nil {
		return r.invalid
	}
	if r.children != nil {
		// Children first: a parent's checkpoint then covers them too.
		if err := r.feedChildren(); err != nil {
			return err
		}
	}
	if r.part != nil {
		return r.part.pageDone(r)
	}
	if err := r.maybeCheckpoint(); err != nil {
		return err
	}
	if len(r.buf) >= flushBytes {
		if err := r.e.opts.Output.Write(r.buf); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
		r.buf = r.buf[:0]
	}
	return nil
}

func (r *streamWriter) maybeCheckpoint() error {
	if r.checkOnly {
		return nil
	}
	if r.sinceCP >= r.e.opts.CheckpointRecords || r.e.now().Sub(r.lastCheckpoint) >= r.e.opts.CheckpointInterval {
		if r.pool != nil {
			// The parent's state must not cover parent records whose
			// partitions are still being read.
			if err := r.pool.drain(); err != nil {
				return err
			}
		}
		return r.checkpoint(false, false)
	}
	return nil
}

// checkpoint writes the buffered records, then the state covering them,
// under one lock so that no other stream's lines come between and the
// committed state never runs ahead of the records on the wire.
func (r *streamWriter) checkpoint(final, completed bool) error {
	if r.checkOnly || r.silent || r.part != nil {
		return nil
	}
	r.inPage = false
	value, err := r.stateValue(completed)
	if err != nil {
		return err
	}
	err = r.e.opts.Output.Locked(func(write func([]byte) error) error {
		if err := write(r.buf); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
		r.buf = r.buf[:0]
		name := r.info.Stream.Name
		if value != nil {
			r.e.committed.Streams[name] = value
		}
		cp := &driver.Checkpoint{Stream: name, Value: value, All: r.e.committed.Streams, Records: r.sinceCP, Final: final}
		r.buf = r.enc.State(r.buf, cp)
		if err := write(r.buf); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
		r.buf = r.buf[:0]
		return nil
	})
	if err != nil {
		return err
	}
	r.sinceCP = 0
	r.stateDirty = false
	r.lastCheckpoint = r.e.now()
	return nil
}

// stateValue is the stream's state object: the runner's own state with the
// framework bookmark merged in. An unsorted incremental stream only moves
// its bookmark once the stream has completed.
func (r *streamWriter) stateValue(completed bool) (json.RawMessage, error) {
	base := r.custom
	if base == nil {
		base = r.prevState
	}
	if r.parts != nil {
		return r.parts.stateValue(base)
	}
	if r.bookmark == nil {
		return base, nil
	}
	var bm json.RawMessage
	if r.info.Stream.Sorted || completed {
		bm = r.bookmark.value()
	} else if r.bookmark.hasStart {
		bm = json.RawMessage(r.bookmark.start.Raw)
	}
	if bm == nil {
		return base, nil
	}
	m := map[string]json.RawMessage{}
	if base != nil {
		if err := json.Unmarshal(base, &m); err != nil {
			return nil, fmt.Errorf("stream %q: state: %w", r.info.Stream.Name, err)
		}
	}
	key, _ := json.Marshal(r.info.Stream.ReplicationKey)
	m[stateReplicationKey] = key
	m[stateReplicationKeyValue] = bm
	return marshalOrdered(m), nil
}
