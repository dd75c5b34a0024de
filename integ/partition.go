package integ

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// How partitions run: a parent page's records become one partition each
// per child stream, read concurrently (bounded). Each child stream's output
// stays in parent order: the partitions of one stream form a chain in which
// each waits for the one before it to finish. The head of the chain writes
// its pages straight through; the others hold at most maxQueuedPages pages
// and then wait, so memory does not grow with a partition's size.
//
// State: a child stream's state object holds one state per partition,
//
//	{"partitions": {"acme/one": {"replication_key": "updated_at", "replication_key_value": "..."}}}
//
// written (checkpointed) as each partition completes, once its records are
// out. Partitions of the previous state that this run does not see are
// kept. A Sorted child also checkpoints a partition's progress as its pages
// go out.

// maxQueuedPages is how many pages a partition that is not at the head of
// its stream holds before it waits.
const maxQueuedPages = 4

// statePartitions is the key of the per-partition states in a child
// stream's state object.
const statePartitions = "partitions"

// errStreamStopped ends partitions of a child stream that has failed.
var errStreamStopped = errors.New("the stream has stopped")

// childStream is one child stream of a sync: its output and state, shared
// by all its partitions (and fed by every invocation of its parent).
type childStream struct {
	run      *streamWriter // the stream's emit path and state; guarded by mu
	parent   *Stream
	children []*childStream
	silent   bool // not selected: its records only feed its children

	ctx    context.Context // ends when the stream fails
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	parts  map[string]json.RawMessage // partition states: the previous run's, updated as partitions complete
	slices *sliceState                // a sliced stream's windows (its "partitions"; see Slices)
	failed error
}

func (e *engine) newChildStream(ctx context.Context, run *StreamPlan, silent bool) *childStream {
	cs := &childStream{run: e.newStreamWriter(run), parent: e.src.Stream(run.Stream.Parent), silent: silent}
	cs.ctx, cs.cancel = context.WithCancelCause(ctx)
	r := cs.run
	r.bookmark = nil // a bookmark per partition, not per stream
	// A bookmark shared by all partitions (an older integ's state) would
	// hide the history of every partition it does not belong to.
	r.prevState = stripBookmark(r.prevState)
	r.parts = cs
	if silent {
		r.enc, r.silent = discardEncoder{}, true
	}
	cs.parts = loadPartitions(r.prevState)
	if r.failed != nil {
		cs.failed = r.failed
	}
	return cs
}

// loadPartitions reads the partition states of a child stream's state.
func loadPartitions(prev json.RawMessage) map[string]json.RawMessage {
	parts := map[string]json.RawMessage{}
	if p := gjson.GetBytes(prev, statePartitions); p.IsObject() {
		p.ForEach(func(k, v gjson.Result) bool {
			if v.IsObject() {
				parts[validKey(k.String())] = json.RawMessage(v.Raw)
			}
			return true
		})
	}
	return parts
}

// fail stops the stream with its first error.
func (cs *childStream) fail(err error) {
	cs.mu.Lock()
	if cs.failed == nil {
		cs.failed = err
		cs.run.failed = err
	}
	cs.mu.Unlock()
	cs.cancel(err)
}

func (cs *childStream) err() error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.failed
}

// stateValue is the child stream's state object: base with the partition
// states in it. Called with mu held (from checkpoint).
func (cs *childStream) stateValue(base json.RawMessage) (json.RawMessage, error) {
	if cs.slices != nil {
		return cs.slices.stateValue(cs.run.info.Stream.Name, base)
	}
	if len(cs.parts) == 0 {
		return base, nil
	}
	m := map[string]json.RawMessage{}
	if base != nil {
		if err := json.Unmarshal(base, &m); err != nil {
			return nil, fmt.Errorf("stream %q: state: %w", cs.run.info.Stream.Name, err)
		}
	}
	m[statePartitions] = marshalOrdered(cs.parts)
	return marshalOrdered(m), nil
}

// partition is one invocation of a child stream's runner.
type partition struct {
	cs     *childStream
	ctx    context.Context
	parent gjson.Result
	key    string   // the child's own key
	scope  []string // ancestors' keys and key
	name   string   // scopedKey(scope): the key in the stream's state
	prev   <-chan struct{}
	enc    *rawEncoder
	queue  []rawPage
}

// rawPage is a page of records a partition read before its turn to write.
type rawPage struct {
	at   time.Time
	data []byte
	ends []int // end offset of each record in data
}

// rawEncoder keeps a partition's records as they are, for the stream's own
// encoder to write them in order.
type rawEncoder struct {
	at   time.Time
	ends []int
}

func (e *rawEncoder) Start(dst []byte) []byte                       { return dst }
func (e *rawEncoder) Page(dst []byte, at time.Time) []byte          { e.at = at; return dst }
func (e *rawEncoder) State(dst []byte, _ *driver.Checkpoint) []byte { return dst }
func (e *rawEncoder) End(dst []byte, _ *driver.StreamResult) []byte { return dst }
func (e *rawEncoder) Record(dst, rec []byte) []byte {
	dst = append(dst, rec...)
	e.ends = append(e.ends, len(dst))
	return dst
}

// turn reports whether every partition before p has finished.
func (p *partition) turn() bool {
	select {
	case <-p.prev:
		return true
	default:
		return false
	}
}

// waitTurn blocks until p is the head of its stream.
func (p *partition) waitTurn() error {
	select {
	case <-p.prev:
		return nil
	case <-p.ctx.Done():
		return context.Cause(p.ctx)
	}
}

// feedChildren runs every child stream's partitions for the parent records
// of the page just read. A top-level stream hands them to its pool and goes
// on reading; a partition's own children run before it goes on.
func (r *streamWriter) feedChildren() error {
	parents := r.parents
	r.parents = r.parents[:0]
	if len(parents) == 0 {
		return nil
	}
	if r.pool != nil {
		return r.poolChildren(parents)
	}
	ctx, ready, scope := r.e.ctx, (<-chan struct{})(closedChan), []string(nil)
	if r.part != nil {
		ctx, ready, scope = r.part.ctx, r.part.prev, r.part.scope
	}
	var tasks []func(context.Context) error
	for _, cs := range r.children {
		if cs.err() != nil {
			continue
		}
		prev := ready
		for _, rec := range parents {
			done := make(chan struct{})
			tasks = append(tasks, cs.task(rec, scope, prev, done))
			prev = done
		}
	}
	return conc.DoCtx(ctx, r.e.partitionParallelism(), tasks...)
}

// poolChildren starts the partitions of a top-level stream's page on its
// pool, each after the previous partition of its child stream.
func (r *streamWriter) poolChildren(parents [][]byte) error {
	for _, rec := range parents {
		for _, cs := range r.children {
			if cs.err() != nil {
				continue
			}
			done := make(chan struct{})
			task := cs.task(rec, nil, r.pool.tail(cs), done)
			if err := r.pool.submit(task); err != nil {
				return err
			}
			r.pool.tails[cs] = done
		}
	}
	return nil
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// task reads one partition. Errors the stream's policy handles (Skip, Fail)
// stay in the child stream; only an Abort, an interruption or a broken
// output reach the parent.
func (cs *childStream) task(rec []byte, scope []string, prev <-chan struct{}, done chan struct{}) func(context.Context) error {
	return func(ctx context.Context) error {
		defer close(done)
		ctx, cancel := context.WithCancelCause(requests.WithFlow(ctx, cs.run.info.Stream.Name))
		defer cancel(nil)
		stop := context.AfterFunc(cs.ctx, func() { cancel(context.Cause(cs.ctx)) })
		defer stop()

		st := cs.run.info.Stream
		pr := gjson.ParseBytes(rec)
		key := partitionKey(st, cs.parent, pr)
		p := &partition{cs: cs, ctx: ctx, parent: pr, key: key, prev: prev, enc: &rawEncoder{}}
		p.scope = append(append([]string(nil), scope...), key)
		p.name = scopedKey(p.scope)
		inv := cs.invocation(p)
		c := &HttpContext{ctx: ctx, cfg: inv.e.opts.Config, http: inv.e.http, logger: inv.logger, w: inv}
		var err error
		if key == "" && inv.bookmark != nil {
			// Every such partition would share one bookmark.
			err = &Error{Kind: SystemFailure, Msg: fmt.Sprintf("stream %q: the partition key of parent record %s is empty: PartitionBy must name each parent record", st.Name, excerpt(rec, 80))}
		} else {
			err = safeRun(st.Runner, c)
		}
		if err == nil {
			err = p.complete(inv, true)
		}
		if err == nil {
			return nil
		}
		if cs.err() != nil {
			return nil // the stream failed in another partition: reported there
		}
		if ctx.Err() != nil {
			return fmt.Errorf("stream %q: partition %q: %w: %w", st.Name, p.name, ErrInterrupted, context.Cause(ctx))
		}
		err = partitionError(st.Name, p.name, err)
		var wErr *outputError
		action := Fail
		if !errors.As(err, &wErr) {
			action = inv.e.src.decide(st, err)
		}
		switch action {
		case Skip:
			attrs := []any{"stream", st.Name, "partition", p.name, "error", UserMessage(err)}
			var se *requests.StatusError
			if errors.As(err, &se) {
				attrs = append(attrs, "status", se.Status)
			}
			inv.e.logger.Warn("partition skipped", attrs...)
			if cerr := p.complete(inv, false); cerr != nil && cs.ctx.Err() == nil && ctx.Err() == nil {
				cs.fail(fmt.Errorf("stream %q: partition %q: %w", st.Name, p.name, cerr))
			}
			return nil
		case Abort:
			cs.fail(err)
			inv.e.aborted.CompareAndSwap(nil, &err)
			return err
		}
		if wErr != nil {
			cs.fail(err)
			return err // the output is gone: nothing else can be written
		}
		// Fail: what a serial run would have written goes out (the
		// partitions before this one, and this one's pages so far), then
		// the stream stops.
		_ = p.complete(inv, false)
		cs.fail(err)
		return nil
	}
}

// invocation is the emit path of one partition: records go through the
// stream's checks into the partition's pages.
func (cs *childStream) invocation(p *partition) *streamWriter {
	r := cs.run
	inv := &streamWriter{
		e: r.e, info: r.info, enc: p.enc, part: p,
		prevState: cs.partState(p.name),
		keep:      r.keep,
		logger:    r.logger.With("partition", p.name),
		silent:    cs.silent,
		children:  cs.children,
	}
	if r.info.Incremental() {
		inv.bookmark = newBookmark(r.info.Stream.ReplicationKey, inv.prevState, r.e.signpost)
		inv.bookmark.lookBack(r.info.Stream.lookback)
	}
	if r.validator != nil {
		inv.validator = &recordValidator{schema: r.validator.schema, fail: r.validator.fail}
	}
	return inv
}

func (cs *childStream) partState(name string) json.RawMessage {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.parts[name]
}

// pageDone takes a partition's page: written at once when the partition is
// the head of its stream, queued otherwise (and then waiting, once the
// queue is full).
func (p *partition) pageDone(inv *streamWriter) error {
	if inv.silent {
		return nil
	}
	if !p.turn() {
		p.hold(inv)
		if len(p.queue) < maxQueuedPages {
			return nil
		}
		if err := p.waitTurn(); err != nil {
			return err
		}
	}
	return p.flush(inv, false, false)
}

// hold queues the page just read; the partition gets a new buffer.
func (p *partition) hold(inv *streamWriter) {
	if len(p.enc.ends) > 0 {
		p.queue = append(p.queue, rawPage{at: p.enc.at, data: inv.buf, ends: p.enc.ends})
		inv.buf, p.enc.ends = nil, nil
	}
}

// complete ends a partition in its turn: its last pages go out, then its
// state. A partition that did not complete (skipped) keeps its previous
// state, or its progress when the stream is Sorted.
func (p *partition) complete(inv *streamWriter, completed bool) error {
	if err := p.waitTurn(); err != nil {
		return err
	}
	if inv.silent {
		return nil
	}
	return p.flush(inv, true, completed)
}

// outputError marks a failure to write the output.
type outputError struct{ err error }

func (e *outputError) Error() string { return "writing output: " + e.err.Error() }
func (e *outputError) Unwrap() error { return e.err }

// flush writes the queued pages through the stream's encoder, with the
// partition's state when it ends (or progresses, for a Sorted stream).
func (p *partition) flush(inv *streamWriter, end, completed bool) error {
	cs := p.cs
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.failed != nil {
		return errStreamStopped
	}
	if p.ctx.Err() != nil {
		return context.Cause(p.ctx)
	}
	r := cs.run
	// The queue, then the page just read (straight from the partition's
	// buffer, which it then reuses).
	pages := p.queue
	if len(p.enc.ends) > 0 {
		pages = append(pages, rawPage{at: p.enc.at, data: inv.buf, ends: p.enc.ends})
	}
	for _, pg := range pages {
		r.buf = r.enc.Page(r.buf, pg.at)
		start := 0
		for _, end := range pg.ends {
			r.buf = r.enc.Record(r.buf, pg.data[start:end])
			start = end
		}
		r.total += int64(len(pg.ends))
		r.sinceCP += int64(len(pg.ends))
		if len(r.buf) >= flushBytes {
			if err := r.e.opts.Output.Write(r.buf); err != nil {
				return &outputError{err}
			}
			r.buf = r.buf[:0]
		}
	}
	clear(p.queue)
	p.queue = p.queue[:0]
	inv.buf, p.enc.ends = inv.buf[:0], p.enc.ends[:0]
	if cs.slices != nil {
		// A window is claimed once its last records are out; a Sorted
		// one's start up to its greatest value written, as it goes.
		if cs.slices.progress(inv.window, end && completed, inv.info.Stream.Sorted) {
			r.stateDirty = true
		}
	} else if end || inv.info.Stream.Sorted {
		v, err := inv.stateValue(completed)
		if err != nil {
			return err
		}
		if v != nil && string(v) != string(cs.parts[p.name]) {
			cs.parts[p.name] = v
			r.stateDirty = true
		}
	}
	var err error
	if end && r.stateDirty {
		err = r.checkpoint(false, false)
	} else {
		err = r.maybeCheckpoint()
	}
	if err != nil {
		return &outputError{err}
	}
	return nil
}

// runStream runs one top-level stream and its descendants. A stream that
// is not selected itself runs silent: its records only feed its children.
// childErrs follow g.children.
func (e *engine) runStream(ctx context.Context, g *group) (childErrs []error, err error) {
	run := g.parent
	r := e.newStreamWriter(run)
	if g.silent {
		r.enc, r.silent = discardEncoder{}, true
	}
	byName := map[string]*childStream{}
	all := make([]*childStream, len(g.children))
	for i, ch := range g.children {
		cs := e.newChildStream(ctx, ch, g.childIndex[i] < 0)
		defer cs.cancel(nil)
		all[i] = cs
		byName[ch.Stream.Name] = cs
		if p, ok := byName[ch.Stream.Parent]; ok {
			p.children = append(p.children, cs)
		} else {
			r.children = append(r.children, cs)
		}
		if !cs.silent {
			cs.run.start = e.now()
			cs.run.buf = cs.run.enc.Start(cs.run.buf)
		}
	}
	if len(r.children) > 0 {
		r.pool = newPartitionPool(ctx, e.partitionParallelism())
		defer r.pool.cancel(nil)
	}
	// The stream's requests (not its partitions': they are their child
	// stream's) are one flow of the run's quota.
	c := &HttpContext{ctx: requests.WithFlow(ctx, run.Stream.Name), cfg: e.opts.Config, http: e.http, logger: r.logger, w: r}
	r.start = e.now()
	r.buf = r.enc.Start(r.buf)
	runErr := r.failed
	switch {
	case runErr != nil:
	case run.Stream.slices != nil:
		r.bookmark = nil // the windows are the bookmark
		runErr = e.runSlices(ctx, r, c)
	default:
		runErr = safeRun(run.Stream.Runner, c)
	}
	if r.pool != nil {
		// The partitions of the last pages finish before any stream ends.
		if err := r.pool.drain(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if runErr != nil && ctx.Err() != nil {
		runErr = fmt.Errorf("stream %q: %w: %w", run.Stream.Name, ErrInterrupted, context.Cause(ctx))
	}
	runErr, r.partial = e.settle(run, r.logger, runErr, r.total > 0)
	for _, cs := range all {
		childErr := cs.err()
		if childErr == nil && runErr != nil {
			childErr = fmt.Errorf("stream %q: its parent %q failed: %w", cs.run.info.Stream.Name, cs.parent.Name, runErr)
		}
		if cs.silent {
			childErrs = append(childErrs, nil)
			continue
		}
		childErrs = append(childErrs, cs.run.finish(childErr))
	}
	if g.silent {
		return childErrs, runErr
	}
	return childErrs, r.finish(runErr)
}

// checkPartitionState rejects a child stream's state whose partitions are
// not objects, or are bookmarked on another replication key.
func checkPartitionState(st *Stream, prev json.RawMessage) error {
	parts := gjson.GetBytes(prev, statePartitions)
	if !parts.Exists() {
		return nil
	}
	bad := func(msg string) error {
		return &Error{Kind: ConfigFailure, Msg: fmt.Sprintf("state of stream %q: %s; reset the stream's state", st.Name, msg), Err: ErrState}
	}
	if !parts.IsObject() {
		return bad(fmt.Sprintf("%q must be an object of partition to state, got %s", statePartitions, excerpt([]byte(parts.Raw), 60)))
	}
	var err error
	parts.ForEach(func(k, v gjson.Result) bool {
		switch key := v.Get(stateReplicationKey); {
		case !v.IsObject():
			err = bad(fmt.Sprintf("partition %q must be an object, got %s", k.String(), excerpt([]byte(v.Raw), 60)))
		case key.Exists() && key.String() != st.ReplicationKey:
			err = bad(fmt.Sprintf("partition %q has replication key %q but the stream's is %q", k.String(), key.String(), st.ReplicationKey))
		}
		return err == nil
	})
	return err
}

// partitionError names the partition in an error's message, the one people
// read (UserMessage).
func partitionError(stream, partition string, err error) error {
	err = explain(stream, err, true) // started: a partition's 404 is about its parent record, not the config
	prefix := fmt.Sprintf("stream %q", stream)
	if e, ok := err.(*Error); ok && e.Msg != "" {
		msg := e.Msg
		if strings.HasPrefix(msg, prefix) {
			msg = fmt.Sprintf("partition %q of %s", partition, msg)
		} else {
			msg = fmt.Sprintf("%s: partition %q: %s", prefix, partition, msg)
		}
		return &Error{Kind: e.Kind, Msg: msg, Err: e.Err}
	}
	if strings.HasPrefix(err.Error(), prefix) {
		return fmt.Errorf("partition %q of %w", partition, err)
	}
	return fmt.Errorf("%s: partition %q: %w", prefix, partition, err)
}
