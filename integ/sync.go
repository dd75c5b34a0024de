package integ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// SyncOptions configures one sync. Config and Protocol are required.
type SyncOptions struct {
	Config   *Config
	Catalog  *Catalog // nil: every stream selected by default
	State    *State   // nil: a first sync
	Protocol Protocol
	Output   *Output
	Logger   *slog.Logger
	HTTP     HTTPOptions

	// A checkpoint (a state message) is written at the end of a page once
	// CheckpointRecords records or CheckpointInterval have passed since the
	// stream's previous one, and always when the stream ends.
	CheckpointRecords  int64         // default 10,000
	CheckpointInterval time.Duration // default 10s

	// Parallelism is how many streams run at once; 0 takes the config's
	// max_parallel_streams (default 1).
	Parallelism int

	// Now is the clock (tests fix it). Default time.Now.
	Now func() time.Time
}

// HTTPOptions tunes the HTTP stack of a run.
type HTTPOptions struct {
	// Doer is the innermost transport; default requests.DefaultClient().
	Doer             requests.Doer
	Retry            requests.RetryOptions
	Timeout          time.Duration // per request; default 5 minutes
	MaxResponseBytes int64         // default requests.DefaultMaxResponseBytes
	// RequestsPerSecond and Burst override the source's rate limit when
	// RequestsPerSecond is not zero.
	RequestsPerSecond float64
	Burst             int
	// Session is the process's session, shared by every step so that
	// credentials are built once; nil: a session for this call alone.
	Session *Session
}

const (
	defaultCheckpointRecords  = 10_000
	defaultCheckpointInterval = 10 * time.Second
	flushBytes                = 64 << 10 // write a stream's buffer once it holds this much
)

type httpEnv struct {
	doer     requests.Doer
	maxBytes int64
	session  *Session
}

// buildHTTP stacks the run's transports: retries outermost (each attempt is
// rate limited and timed out on its own), then the source's middleware.
func (s *Source) buildHTTP(cfg *Config, o HTTPOptions) (*httpEnv, error) {
	base := o.Doer
	if base == nil {
		base = requests.DefaultClient()
	}
	set := cfg.settings()
	retry := o.Retry.Merge(s.retry) // the source knows its API's limits
	if set.maxAttempts > 0 {
		retry.MaxAttempts = set.maxAttempts
	}
	maxBytes := o.MaxResponseBytes
	if maxBytes == 0 {
		maxBytes = requests.DefaultMaxResponseBytes
	}
	if retry.MaxBodyBytes == 0 {
		retry.MaxBodyBytes = maxBytes // Retry reads bodies ahead: hold no more than ReadJSON will take
	}
	var mws []requests.Middleware
	mws = append(mws, requests.Retry(retry))
	rps, burst := s.rps, s.burst
	if o.RequestsPerSecond != 0 {
		rps, burst = o.RequestsPerSecond, o.Burst
	}
	if set.rps > 0 {
		rps = set.rps
		if burst < 1 {
			burst = max(1, int(rps))
		}
	}
	if rps > 0 {
		if burst < 1 {
			burst = 1
		}
		mws = append(mws, requests.RateLimit(requests.NewLimiter(rps, burst)))
	}
	if s.adaptive != nil {
		mws = append(mws, requests.AdaptiveLimit(s.adaptive()))
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	mws = append(mws, requests.Timeout(timeout))
	ua := s.userAgent
	if ua == "" {
		ua = "integ-" + s.Name + "/" + s.Version
	}
	mws = append(mws, requests.UserAgent(ua))
	sess := o.Session
	if sess == nil {
		sess = NewSession()
		sess.SetConfig(cfg)
	}
	auth, err := sess.authMiddleware(s, cfg, o)
	if err != nil {
		return nil, err
	}
	mws = append(mws, auth...)
	return &httpEnv{doer: requests.Chain(base, mws...), maxBytes: maxBytes, session: sess}, nil
}

// Sync runs the selected streams and writes them through the protocol. It
// returns nil only if every stream completed. A stream that fails does not
// stop the others (unless the context ends); the returned error joins every
// stream's error, the first one first.
func (s *Source) Sync(ctx context.Context, o SyncOptions) error {
	if s.err != nil {
		return s.err
	}
	if o.Config == nil || o.Protocol == nil || o.Output == nil {
		return errors.New("integ: Sync needs Config, Protocol and Output")
	}
	runs, err := s.Plan(o.Catalog)
	if err != nil {
		return err
	}
	if err := s.checkState(o.State, runs); err != nil {
		return err
	}
	env, err := s.buildHTTP(o.Config, withRetryLog(o.HTTP, o.Logger))
	if err != nil {
		return err
	}
	e := &engine{
		ctx: ctx, src: s, opts: o, http: env,
		committed: o.State.Clone(),
		settings:  o.Config.settings(),
		logger:    orDiscard(o.Logger),
		now:       o.Now,
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.opts.CheckpointRecords <= 0 {
		e.opts.CheckpointRecords = defaultCheckpointRecords
	}
	if e.opts.CheckpointInterval <= 0 {
		e.opts.CheckpointInterval = defaultCheckpointInterval
	}
	e.signpost = e.now().UTC()
	if len(runs) == 0 {
		// Not an error (a catalog may deselect everything on purpose), but
		// an empty output is otherwise silent about why.
		e.logger.Warn("the catalog selects no stream, so there is nothing to sync")
	}

	parallel := o.Parallelism
	if parallel <= 0 {
		parallel = max(1, e.settings.parallel)
	}
	errs := make([]error, len(runs)) // by catalog position, so reports are stable
	var tasks []func() error
	for _, g := range groupRuns(s, runs) {
		tasks = append(tasks, func() error {
			if ctx.Err() != nil {
				for _, i := range g.indexes() {
					errs[i] = fmt.Errorf("stream %q not started: %w", runs[i].Stream.Name, ErrInterrupted)
				}
				return nil
			}
			if err := e.abortedBy(); err != nil {
				e.logger.Warn("stream not started: an earlier stream's failure ends the sync", "stream", g.parent.Stream.Name, "cause", UserMessage(err))
				return nil
			}
			childErrs, err := e.runStream(ctx, g)
			if !g.silent {
				errs[g.parentIndex] = err
			}
			for j, ce := range childErrs {
				if i := g.childIndex[j]; i >= 0 {
					errs[i] = ce
				}
			}
			return nil
		})
	}
	if err := conc.Do(parallel, tasks...); err != nil {
		return err // a panic outside a runner: a bug in integ itself
	}
	if err := o.Output.Err(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return errors.Join(errs...)
}

// checkState rejects state that cannot belong to this source before any
// request is made.
func (s *Source) checkState(st *State, runs []*StreamRun) error {
	if st == nil {
		return nil
	}
	for _, name := range st.Names() {
		if err := checkStateObject(name, st.Streams[name]); err != nil {
			return err
		}
	}
	for _, run := range runs {
		prev := st.Stream(run.Stream.Name)
		if prev == nil || !run.Incremental() {
			continue
		}
		if run.Stream.Parent != "" {
			if err := checkPartitionState(run.Stream, prev); err != nil {
				return err
			}
			continue
		}
		key := gjson.GetBytes(prev, stateReplicationKey)
		if key.Exists() && key.String() != run.Stream.ReplicationKey {
			return &Error{Kind: ConfigFailure,
				Msg: fmt.Sprintf("state of stream %q has replication key %q but the stream's is %q; reset the stream's state", run.Stream.Name, key.String(), run.Stream.ReplicationKey),
				Err: ErrState}
		}
	}
	return nil
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

type engine struct {
	ctx       context.Context
	src       *Source
	opts      SyncOptions
	http      *httpEnv
	logger    *slog.Logger
	now       func() time.Time
	signpost  time.Time
	settings  runSettings           // the config's run settings
	committed *State                // guarded by opts.Output's lock
	aborted   atomic.Pointer[error] // set by the first stream whose error policy said Abort
}

// newStreamRun prepares one stream's emit path.
func (e *engine) newStreamRun(run *StreamRun) *streamRun {
	name := run.Stream.Name
	r := &streamRun{
		e: e, info: run, enc: e.opts.Protocol.Stream(run),
		prevState:      e.opts.State.Stream(name),
		lastCheckpoint: e.now(),
		logger:         e.logger.With("stream", name),
	}
	if run.Incremental() {
		r.bookmark = newBookmark(run.Stream.ReplicationKey, r.prevState, e.signpost)
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
func (r *streamRun) finish(runErr error) error {
	if runErr == nil || r.sinceCP > 0 || r.stateDirty {
		if err := r.checkpoint(true, runErr == nil && !r.partial); err != nil && runErr == nil {
			runErr = err
		}
	}
	res := &StreamResult{Records: r.total, Skipped: r.skipped, Duration: r.e.now().Sub(r.start), Err: runErr}
	r.buf = r.enc.End(r.buf[:0], res)
	if err := r.e.opts.Output.Write(r.buf); err != nil && runErr == nil {
		runErr = fmt.Errorf("stream %q: writing output: %w", r.info.Stream.Name, err)
	}
	r.buf = r.buf[:0]
	if r.skipped > 0 {
		r.logger.Warn("dropped records older than the bookmark (the API ignored the filter)", "count", r.skipped)
	}
	return runErr
}

// safeRun turns a runner's panic into an error: one bad integration must not
// take the process down with a stack trace on the user's terminal.
func safeRun(r Runner, c *HttpContext) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Error{Kind: SystemFailure, Msg: fmt.Sprintf("stream %q: the integration failed unexpectedly", c.Stream()), Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	return r.Run(c)
}

// stripBookmark removes framework bookmark keys from a state a full refresh
// must not resume from.
func stripBookmark(prev json.RawMessage) json.RawMessage {
	if prev == nil || !gjson.GetBytes(prev, stateReplicationKeyValue).Exists() {
		return prev
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(prev, &m) != nil {
		return nil
	}
	delete(m, stateReplicationKey)
	delete(m, stateReplicationKeyValue)
	if len(m) == 0 {
		return nil
	}
	b, _ := json.Marshal(m)
	return b
}

// streamRun is the emit path of one stream: records are appended to buf by
// the protocol's encoder and buf goes to the output in whole lines.
type streamRun struct {
	e         *engine
	info      *StreamRun
	enc       StreamEncoder
	buf       []byte
	scratch   []byte
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
	parents  [][]byte       // this page's records, waiting for the children
	part     *partition     // for a child invocation: its partition
	parts    *childStream   // for a child stream: its partition states
	failed   error          // a child stream's first error
	partial  bool           // skipped by the error policy: ends well, but its bookmark must not move to the end

	multiline bool             // the current page's records may span lines
	compacted bytes.Buffer     // a multi-line record, put on one line
	validator *recordValidator // nil unless validate_records asks
	invalid   error            // the first invalid record in fail mode
}

func (r *streamRun) beginPage() {
	r.buf = r.enc.Page(r.buf, r.e.now())
	r.inPage = true
}

func (r *streamRun) beginPageIfNeeded() {
	if !r.inPage {
		r.beginPage()
	}
}

// record is the hot path: no allocation unless fields are deselected.
func (r *streamRun) record(rec []byte) {
	// Validate before the bookmark sees the record: a record that is not
	// emitted must never move the bookmark past itself.
	if r.validator != nil && (r.invalid != nil || !r.validate(rec)) {
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

// validate reports whether rec may go out; in fail mode the first invalid
// record stops the stream at the end of its page.
func (r *streamRun) validate(rec []byte) bool {
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

func (r *streamRun) endPage() error {
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

func (r *streamRun) maybeCheckpoint() error {
	if r.checkOnly {
		return nil
	}
	if r.sinceCP >= r.e.opts.CheckpointRecords || r.e.now().Sub(r.lastCheckpoint) >= r.e.opts.CheckpointInterval {
		return r.checkpoint(false, false)
	}
	return nil
}

// checkpoint writes the buffered records, then the state covering them,
// under one lock so that no other stream's lines come between and the
// committed state never runs ahead of the records on the wire.
func (r *streamRun) checkpoint(final, completed bool) error {
	if r.checkOnly || r.silent || r.part != nil {
		return nil
	}
	r.inPage = false
	value, err := r.stateValue(completed)
	if err != nil {
		return err
	}
	out := r.e.opts.Output
	out.mu.Lock()
	defer out.mu.Unlock()
	if err := out.writeLocked(r.buf); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	r.buf = r.buf[:0]
	name := r.info.Stream.Name
	if value != nil {
		r.e.committed.Streams[name] = value
	}
	cp := &Checkpoint{Stream: name, Value: value, All: r.e.committed, Records: r.sinceCP, Final: final}
	r.buf = r.enc.State(r.buf, cp)
	if err := out.writeLocked(r.buf); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	r.buf = r.buf[:0]
	r.sinceCP = 0
	r.stateDirty = false
	r.lastCheckpoint = r.e.now()
	return nil
}

// stateValue is the stream's state object: the runner's own state with the
// framework bookmark merged in. An unsorted incremental stream only moves
// its bookmark once the stream has completed.
func (r *streamRun) stateValue(completed bool) (json.RawMessage, error) {
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

// marshalOrdered encodes a flat object with sorted keys (stable output).
func marshalOrdered(m map[string]json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(m[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// selectFields copies the kept top-level members of a record, raw. The
// record is a valid JSON object (it came from a validated page or EmitRaw).
func selectFields(dst, rec []byte, keep map[string]bool) []byte {
	data := view(rec)
	dst = append(dst, '{')
	first := true
	i := skipSpace(data, skipSpace(data, 0)+1) // past "{"
	for i < len(data) && data[i] == '"' {
		keyEnd := skipString(data, i)
		key := data[i+1 : keyEnd-1]
		if strings.IndexByte(key, '\\') >= 0 { // an escaped name: compare what it means
			var decoded string
			if json.Unmarshal(rec[i:keyEnd], &decoded) == nil {
				key = decoded
			}
		}
		v := skipSpace(data, skipSpace(data, keyEnd)+1) // past ':'
		end := skipValue(data, v)
		if keep[key] {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, data[i:keyEnd]...)
			dst = append(dst, ':')
			dst = append(dst, data[v:end]...)
		}
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return append(dst, '}')
}
