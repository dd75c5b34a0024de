package integ

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/integ/integ/internal/conc"
)

// StreamListFunc lists the streams a source finds at run time (in its
// config, or by asking the API which objects exist). It should be cheap: one
// list call, not one call per stream. A listed stream may leave its Schema
// nil; the source's SchemaFunc fills it in when a command needs it.
// c has no stream, so it cannot emit.
type StreamListFunc func(c *HttpContext) ([]*Stream, error)

// SchemaFunc resolves the schema of one listed stream (a Salesforce
// "describe", say). discover calls it for every stream whose schema is
// unknown, concurrently; read calls it only for selected streams whose
// catalog gives no schema; check only for the stream it checks.
type SchemaFunc func(c *HttpContext, stream string) (*Schema, error)

// resolveParallel bounds concurrent SchemaFunc calls: enough to hide
// latency, few enough to stay within an API's concurrency limits.
const resolveParallel = 8

// WithStreamList adds the streams fn lists at run time to the static ones
// (WithStreams). A listed stream with the name of a static stream is an
// error. Streams listed without a schema need WithSchemaResolver.
func WithStreamList(fn StreamListFunc) SourceOption {
	return func(s *Source) { s.dynamic = StreamsFunc(fn) }
}

// WithSchemaResolver resolves the schemas of listed streams that have none.
func WithSchemaResolver(fn SchemaFunc) SourceOption {
	return func(s *Source) { s.schemaFn = fn }
}

// SchemaScope says which streams ResolveStreams resolves the schema of.
type SchemaScope int

// The scopes, one per command.
const (
	// SchemasNone lists the streams and resolves no schema (check, and the
	// first step of every command).
	SchemasNone SchemaScope = iota
	// SchemasAll resolves every stream's schema (discover). A stream whose
	// schema cannot be resolved is left out and reported.
	SchemasAll
	// SchemasSelected takes schemas from the catalog and resolves only the
	// selected streams (and their parents) it gives none for (read).
	SchemasSelected
)

// ResolveOptions are the inputs of ResolveStreams.
type ResolveOptions struct {
	HTTP    HTTPOptions
	Logger  *slog.Logger // nil: discard
	Schemas SchemaScope
	// Catalog selects the streams for SchemasSelected and gives their
	// schemas; nil selects the streams selected by default.
	Catalog *Catalog
}

// StreamError is a stream that could not be discovered.
type StreamError struct {
	Stream string
	Err    error
}

// Error names the stream, unless its cause already does.
func (e *StreamError) Error() string {
	msg := e.Err.Error()
	if prefix := fmt.Sprintf("stream %q", e.Stream); strings.HasPrefix(msg, prefix) {
		return msg
	}
	return fmt.Sprintf("stream %q: %s", e.Stream, msg)
}

// Unwrap returns the cause.
func (e *StreamError) Unwrap() error { return e.Err }

// ErrStreamsFailed is wrapped by ResolveStreams' error when some streams
// could not be discovered but others could: the returned source holds those.
var ErrStreamsFailed = errors.New("some streams could not be discovered")

// StreamErrors lists the per-stream failures inside err, in stream order.
func StreamErrors(err error) []*StreamError {
	var out []*StreamError
	var walk func(error)
	walk = func(err error) {
		if se, ok := err.(*StreamError); ok {
			out = append(out, se)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// ResolveStreams returns the source with its streams for cfg: the static
// ones followed by the listed ones, with the schemas o.Schemas asks for.
// Listing happens once: resolving a source ResolveStreams returned does not
// list again, so a protocol lists first and resolves schemas when it knows
// its command's needs.
//
// With SchemasAll a stream whose schema fails is left out: the source holds
// the others and the error wraps ErrStreamsFailed and one *StreamError per
// failed stream (see StreamErrors). With SchemasSelected such a stream stays,
// and fails with its *StreamError when a sync runs it, so the other streams
// are still read. Any other error comes with a nil source.
func (s *Source) ResolveStreams(ctx context.Context, cfg *Config, o ResolveOptions) (*Source, error) {
	if s.err != nil {
		return nil, s.err
	}
	logger := orDiscard(o.Logger)
	r := *s
	if s.dynamic != nil {
		env, err := s.buildHTTP(cfg, o.HTTP)
		if err != nil {
			return nil, err
		}
		defer env.close()
		c := &HttpContext{ctx: ctx, cfg: cfg, http: env, logger: logger.With("discover", "list")}
		listed, err := safeList(s.dynamic, c)
		if err != nil {
			if KindOf(err) == SystemFailure {
				err = &Error{Kind: ConfigFailure, Msg: "the config's stream declarations are invalid: " + err.Error(), Err: ErrConfig}
			}
			return nil, err
		}
		if err := r.checkListed(listed); err != nil {
			return nil, err
		}
		r.Streams = append(slices.Clip(s.Streams), listed...)
		r.dynamic = nil
		logger.Info(fmt.Sprintf("listed %d streams", len(listed)))
	}
	var want []*Stream
	switch o.Schemas {
	case SchemasAll:
		want = r.Streams
	case SchemasSelected:
		r.Streams = withCatalogSchemas(r.Streams, o.Catalog)
		want = r.selected(o.Catalog)
	}
	var missing []*Stream
	for _, st := range want {
		if st.Schema == nil {
			missing = append(missing, st)
		}
	}
	if len(missing) == 0 {
		return &r, nil
	}
	failed, err := r.resolveSchemas(ctx, cfg, o, logger, missing)
	if err != nil {
		return nil, err
	}
	if len(failed) == 0 {
		return &r, nil
	}
	if o.Schemas != SchemasAll {
		// A read goes on without the streams it could not resolve: each
		// fails alone, as the sync reaches it, and the others are synced.
		r.Streams = failAtRun(r.Streams, failed, logger)
		return &r, nil
	}
	// Children of a failed stream cannot run either.
	bad := map[string]bool{}
	for _, f := range failed {
		bad[f.Stream] = true
	}
	kept := r.Streams[:0:0]
	for _, st := range r.Streams {
		switch {
		case bad[st.Name]:
		case st.Parent != "" && bad[st.Parent]:
			failed = append(failed, &StreamError{Stream: st.Name, Err: fmt.Errorf("its parent stream %q could not be discovered", st.Parent)})
		default:
			kept = append(kept, st)
		}
	}
	r.Streams = kept
	errs := []error{ErrStreamsFailed}
	for _, f := range failed {
		errs = append(errs, f)
	}
	return &r, fmt.Errorf("%d of %d streams: %w", len(failed), len(failed)+len(kept), errors.Join(errs...))
}

// failAtRun replaces each stream whose schema failed with one that fails
// when run, with that error, so a sync reports it as the stream's failure.
func failAtRun(streams []*Stream, failed []*StreamError, logger *slog.Logger) []*Stream {
	bad := map[string]*StreamError{}
	for _, f := range failed {
		bad[f.Stream] = f
		logger.Error("the stream's schema could not be resolved; it fails, the other streams are synced", "stream", f.Stream, "error", UserMessage(f.Err))
	}
	out := slices.Clone(streams)
	for i, st := range out {
		f := bad[st.Name]
		if f == nil {
			continue
		}
		c := *st
		c.Schema, c.schemaErr, c.transforms = &Schema{Type: Types{"object"}}, nil, nil
		c.Runner = RunnerFunc(func(*HttpContext) error { return f })
		out[i] = &c
	}
	return out
}

// safeList calls the list function, turning a panic into an error.
func safeList(fn StreamsFunc, c *HttpContext) (streams []*Stream, err error) {
	err = conc.Do(1, func() error {
		var err error
		streams, err = fn(c)
		return err
	})
	return streams, err
}

// checkListed checks listed streams against each other and the static ones.
// A missing schema is fine when the source can resolve it.
func (s *Source) checkListed(listed []*Stream) error {
	var errs []error
	static := map[string]bool{}
	for _, st := range s.Streams {
		static[st.Name] = true
	}
	seen := map[string]bool{}
	for _, st := range listed {
		switch {
		case st == nil:
			errs = append(errs, errors.New("a nil stream was listed"))
			continue
		case st.Schema == nil && st.schemaErr == nil && s.schemaFn != nil:
			if err := st.validateDeclaration(); err != nil {
				errs = append(errs, err)
			}
		default:
			if err := st.validate(); err != nil {
				errs = append(errs, err)
			}
		}
		if static[st.Name] {
			errs = append(errs, fmt.Errorf("listed stream %q has the name of a static stream", st.Name))
		} else if seen[st.Name] {
			errs = append(errs, fmt.Errorf("stream %q declared twice", st.Name))
		}
		seen[st.Name] = true
	}
	all := append(slices.Clip(s.Streams), listed...)
	errs = append(errs, checkParents(all)...)
	if len(all) == 0 {
		errs = append(errs, errors.New("the config declares no streams"))
	}
	if len(errs) > 0 {
		return &Error{Kind: ConfigFailure, Msg: "the config's stream declarations are invalid: " + errors.Join(errs...).Error(), Err: ErrConfig}
	}
	return nil
}

// validateDeclaration is validate without the schema checks, for a stream
// whose schema comes later.
func (s *Stream) validateDeclaration() error {
	if s.Name == "" {
		return fmt.Errorf("stream with no name")
	}
	if s.Runner == nil {
		return fmt.Errorf("stream %q: no runner", s.Name)
	}
	return nil
}

// withCatalogSchemas gives streams with no schema the one their catalog
// entry has, when it has the stream's keys. Streams are copied, never changed: a Source may be shared.
func withCatalogSchemas(streams []*Stream, c *Catalog) []*Stream {
	if c == nil {
		return streams
	}
	given := map[string]*Schema{}
	for _, cs := range c.Streams {
		if cs.Schema != nil {
			given[cs.Name] = cs.Schema
		}
	}
	out := make([]*Stream, len(streams))
	for i, st := range streams {
		out[i] = st
		if sch := given[st.Name]; st.Schema == nil && sch != nil {
			cp := *st
			cp.Schema = sch
			// A schema without the stream's keys (an edited catalog) is
			// not enough: resolve the stream's own instead.
			if cp.validate() == nil {
				out[i] = &cp
			}
		}
	}
	return out
}

// selected lists the streams a catalog selects and their parents.
func (s *Source) selected(c *Catalog) []*Stream {
	if c == nil {
		c = s.DefaultCatalog()
	}
	want := map[string]bool{}
	for _, cs := range c.Streams {
		want[cs.Name] = true
		if st := s.Stream(cs.Name); st != nil && st.Parent != "" {
			want[st.Parent] = true
		}
	}
	var out []*Stream
	for _, st := range s.Streams {
		if want[st.Name] {
			out = append(out, st)
		}
	}
	return out
}

// resolveSchemas fills in the schemas of missing (streams of s, replaced by
// copies) with at most resolveParallel calls at once. A stream whose schema
// fails is returned as a *StreamError; the error is for what stops every
// stream (no HTTP setup, an interrupted run).
func (s *Source) resolveSchemas(ctx context.Context, cfg *Config, o ResolveOptions, logger *slog.Logger, missing []*Stream) ([]*StreamError, error) {
	if s.schemaFn == nil {
		names := make([]string, len(missing))
		for i, st := range missing {
			names[i] = st.Name
		}
		return nil, fmt.Errorf("streams %q have no schema and the source has no schema resolver (WithSchemaResolver)", names)
	}
	env, err := s.buildHTTP(cfg, o.HTTP)
	if err != nil {
		return nil, err
	}
	defer env.close()
	logger.Info(fmt.Sprintf("resolving the schemas of %d streams", len(missing)))
	resolved := make([]*Stream, len(missing))
	errs := make([]error, len(missing))
	tasks := make([]func() error, len(missing))
	for i, st := range missing {
		tasks[i] = func() error {
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return nil
			}
			c := &HttpContext{ctx: ctx, cfg: cfg, http: env, logger: logger.With("stream", st.Name)}
			err := conc.Do(1, func() error {
				sch, err := s.schemaFn(c, st.Name)
				if err != nil {
					return err
				}
				if sch == nil {
					return errors.New("the schema resolver returned no schema")
				}
				cp := *st
				cp.Schema = sch
				if err := cp.validate(); err != nil {
					return err
				}
				resolved[i] = &cp
				return nil
			})
			if err != nil {
				errs[i] = err
				// The caller reports it (a TRACE, an ERROR line): only debug here.
				logger.Debug(fmt.Sprintf("stream %q: cannot resolve its schema: %v", st.Name, err), "stream", st.Name)
				return nil
			}
			logger.Debug(fmt.Sprintf("stream %q: schema resolved (%d properties)", st.Name, len(resolved[i].Schema.Properties)), "stream", st.Name)
			return nil
		}
	}
	_ = conc.Do(resolveParallel, tasks...) // every task records its own error
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("resolving stream schemas: %w", ErrInterrupted)
	}
	byName := map[string]*Stream{}
	var failed []*StreamError
	for i, st := range missing {
		if errs[i] != nil {
			failed = append(failed, &StreamError{Stream: st.Name, Err: errs[i]})
			continue
		}
		byName[st.Name] = resolved[i]
	}
	streams := make([]*Stream, len(s.Streams))
	for i, st := range s.Streams {
		streams[i] = st
		if r := byName[st.Name]; r != nil {
			streams[i] = r
		}
	}
	s.Streams = streams
	logger.Info(fmt.Sprintf("resolved %d schemas, %d failed", len(byName), len(failed)))
	return failed, nil
}
