package integ

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Check tests that the config can reach the API. The source's own check runs
// if it has one; otherwise the first stream's runner runs until its first
// page has been read, and its records are discarded.
func (s *Source) Check(ctx context.Context, cfg *Config, logger *slog.Logger, o HTTPOptions) error {
	if s.err != nil {
		return s.err
	}
	if o.Retry.MaxAttempts == 0 {
		o.Retry.MaxAttempts = 3 // a person is waiting: fail a dead host in seconds
	}
	env, err := s.buildHTTP(cfg, o)
	if err != nil {
		return err
	}
	defer env.close()
	if len(s.Streams) == 0 {
		return &Error{Kind: ConfigFailure, Msg: "no streams to check: resolve the source with its config first", Err: ErrConfig}
	}
	st := s.Streams[0]
	for _, cand := range s.Streams {
		if cand.Parent == "" { // a child needs a parent record
			st = cand
			break
		}
	}
	if st.Schema == nil && s.check == nil { // a listed stream the default check reads: resolve this one schema only
		one := &Catalog{Streams: []CatalogStream{{Name: st.Name}}}
		r, err := s.ResolveStreams(ctx, cfg, ResolveOptions{HTTP: o, Logger: logger, Schemas: SchemasSelected, Catalog: one})
		if err != nil {
			return fmt.Errorf("connection check failed: %w", err)
		}
		s, st = r, r.Stream(st.Name)
	}
	e := &engine{src: s, http: env, logger: orDiscard(logger), committed: NewState()}
	e.now = time.Now
	r := &streamWriter{e: e, info: &StreamPlan{Stream: st, Mode: ModeFullRefresh, Schema: st.Schema}, enc: discardEncoder{}, checkOnly: true}
	c := &HttpContext{ctx: ctx, cfg: cfg, http: env, logger: e.logger.With("check", st.Name), w: r}
	runner := st.Runner
	if s.check != nil {
		runner = s.check
	}
	if err := safeRun(runner, c); err != nil && !errors.Is(err, errCheckDone) {
		// The same words a sync uses: "the API refused the credentials...",
		// not a raw status line.
		return fmt.Errorf("connection check failed: %w", explain(st.Name, err, false))
	}
	return nil
}
