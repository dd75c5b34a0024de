package integ

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/internal/conc"
	"github.com/tidwall/gjson"
)

// SyncOptions configures one sync. Config and Protocol are required.
type SyncOptions struct {
	Config   *Config
	Catalog  *Catalog // nil: every stream selected by default
	State    *State   // nil: a first sync
	Protocol driver.Protocol
	Output   *driver.Output
	Logger   *slog.Logger
	HTTP     HTTPOptions

	// A checkpoint (a state message) is written at the end of a page once
	// CheckpointRecords records or CheckpointInterval have passed since the
	// stream's previous one, and always when the stream ends.
	CheckpointRecords  int64         // default 10,000
	CheckpointInterval time.Duration // default 10s

	// Parallelism is how many streams run at once; 0 takes the config's
	// max_parallel_streams, whose default is 8 when the config sets
	// requests_per_second and 1 otherwise.
	Parallelism int

	// Now is the clock (tests fix it). Default time.Now.
	Now func() time.Time
}

const (
	defaultCheckpointRecords  = 10_000
	defaultCheckpointInterval = 10 * time.Second
	// flushBytes: a stream's buffer is written at the end of a page once it
	// holds this much. A write holds the tap's one thread for as long as
	// the kernel copies it into the pipe, and a response that arrives
	// meanwhile waits. In make bench 16 KiB and 64 KiB read equally fast
	// (64 KiB spent 8% less CPU at page size 100, waking the reader less
	// often); writes of two pages at 1000 records (200 KiB), 256 KiB and
	// 1 MiB were slower.
	flushBytes = 16 << 10
)

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
	set := o.Config.settings()
	hopts := withRetryLog(o.HTTP, o.Logger)
	parallel := streamParallelism(o.Parallelism, set)
	hopts.streams = parallel
	env, err := s.buildHTTP(o.Config, hopts)
	if err != nil {
		return err
	}
	defer env.close()
	e := &engine{
		ctx: ctx, src: s, opts: o, http: env,
		committed: o.State.Clone(),
		settings:  set,
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
func (s *Source) checkState(st *State, runs []*StreamPlan) error {
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
		if run.Stream.slices != nil {
			if _, err := parseSliceState(run.Stream.Name, run.Stream.ReplicationKey, prev, false); err != nil {
				return err
			}
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

// safeRun turns a runner's panic into an error: one bad integration must not
// take the process down with a stack trace on the user's terminal.
func safeRun(r Runner, c *HttpContext) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Error{Kind: SystemFailure, Msg: fmt.Sprintf("stream %q: the integration failed unexpectedly", c.Stream()), Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	defer c.scope()()
	return r.Run(c)
}
