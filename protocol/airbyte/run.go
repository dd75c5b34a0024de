package airbyte

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/protocol/internal/wire"
	"github.com/integ/integ/requests"
)

// Command is an Airbyte source command.
type Command string

// The commands of an Airbyte source.
const (
	CommandSpec     Command = "spec"
	CommandCheck    Command = "check"
	CommandDiscover Command = "discover"
	CommandRead     Command = "read"
)

// Options are one invocation's command, files and streams.
type Options struct {
	Command     Command
	ConfigPath  string // --config: check, discover, read
	CatalogPath string // --catalog: read
	StatePath   string // --state: read, optional

	Stdout   io.Writer
	LogLevel slog.Level
	// Session is the process's session; nil: Run makes one.
	Session *integ.Session
	// Sync carries tuning (HTTP, checkpoints, clock); its Config, Catalog,
	// State, Protocol, Output and Logger are set by Run. Sync.Now is also
	// the clock of every message's emitted_at.
	Sync integ.SyncOptions
}

// ErrReported marks an error Run has already written to stdout as TRACE
// ERROR messages: the caller only has to exit non-zero.
var ErrReported = errors.New("airbyte: error reported")

// Run runs one command. stdout only ever carries whole AirbyteMessage lines.
// A failure is written as a TRACE ERROR and returned wrapping ErrReported,
// except in check, where a config or connection problem is a FAILED
// connection status and Run returns nil (the command itself worked).
func Run(ctx context.Context, src *integ.Source, o Options) error {
	now := o.Sync.Now
	if now == nil {
		now = time.Now
	}
	sess := o.Session
	if sess == nil {
		sess = integ.NewSession()
	}
	r := &runner{src: src, o: o, out: driver.NewOutput(o.Stdout), now: now, sess: sess}
	r.out.SetFilter(sess.RedactOutput)
	r.o.Sync.HTTP.Session = sess
	if err := src.Err(); err != nil {
		return r.fail(err)
	}
	switch o.Command {
	case CommandSpec:
		return r.report(writeMessage(r.out, &Message{Type: "SPEC", Spec: SpecOf(src)}))
	case CommandCheck:
		return r.check(ctx)
	case CommandDiscover:
		return r.discover(ctx)
	case CommandRead:
		return r.read(ctx)
	}
	return r.fail(&integ.Error{Kind: integ.ConfigFailure, Msg: fmt.Sprintf("unknown command %q: use spec, check, discover or read", o.Command)})
}

type runner struct {
	src    *integ.Source
	o      Options
	out    *driver.Output
	now    func() time.Time
	sess   *integ.Session
	logger *slog.Logger
}

// fail writes err as a TRACE ERROR and returns it wrapping ErrReported.
func (r *runner) fail(err error) error {
	if werr := writeMessage(r.out, ErrorTrace(err, r.now(), nil, r.sess.Secrets())); werr != nil {
		return fmt.Errorf("%w: %w (and writing it failed: %v)", ErrReported, err, werr)
	}
	return fmt.Errorf("%w: %w", ErrReported, err)
}

// report fails with err unless it is nil.
func (r *runner) report(err error) error {
	if err == nil {
		return nil
	}
	return r.fail(err)
}

// config reads, validates and resolves the config, and sets up the logger
// with its secrets.
func (r *runner) config(ctx context.Context) (*integ.Config, error) {
	r.logger = r.sess.WrapLogger(NewLogger(r.out, r.o.LogLevel, nil))
	if r.o.ConfigPath == "" {
		return nil, &integ.Error{Kind: integ.ConfigFailure, Msg: "no config: pass --config FILE (the spec command describes its settings)", Err: integ.ErrConfig}
	}
	raw, err := integ.ReadConfigFiles(r.o.ConfigPath)
	if err != nil {
		return nil, err
	}
	cfg, err := r.src.ParseConfig(raw)
	if err != nil {
		return nil, err
	}
	r.sess.SetConfig(cfg)
	r.logger = r.sess.WrapLogger(NewLogger(r.out, r.o.LogLevel, cfg.Secrets()))
	r.sess.SetLogger(r.logger)
	r.sess.OnConfigUpdate(r.configPersister(raw))
	for _, k := range r.src.UnknownConfigKeys(cfg) {
		r.logger.Warn(fmt.Sprintf("config key %q is not a setting of this source; it is ignored", k))
	}
	// List the streams only: each command resolves the schemas it needs.
	resolved, err := r.src.ResolveStreams(ctx, cfg, integ.ResolveOptions{HTTP: r.o.Sync.HTTP, Logger: r.logger})
	if err != nil {
		return nil, err
	}
	r.src = resolved
	return cfg, nil
}

// check writes one CONNECTION_STATUS. A bad config is a FAILED status too:
// it is exactly what check is for.
func (r *runner) check(ctx context.Context) error {
	cfg, err := r.config(ctx)
	if err == nil {
		err = r.src.Check(ctx, cfg, r.logger, r.o.Sync.HTTP)
	}
	status := &ConnectionStatus{Status: StatusSucceeded}
	if err != nil {
		if kind := integ.KindOf(err); kind != integ.ConfigFailure {
			r.logger.Error(fmt.Sprintf("check failed (%s): %v", FailureType(kind), err))
		}
		status = &ConnectionStatus{Status: StatusFailed, Message: requests.Redact(integ.UserMessage(err), r.sess.Secrets()...)}
	}
	return r.report(writeMessage(r.out, &Message{Type: "CONNECTION_STATUS", ConnectionStatus: status}))
}

// discover resolves every schema. A stream whose schema fails is left out of
// the catalog and reported as a TRACE ERROR naming it; the command still
// succeeds (exit 0) when the catalog lists any stream, so that one broken
// object does not hide the others.
func (r *runner) discover(ctx context.Context) error {
	cfg, err := r.config(ctx)
	if err != nil {
		return r.fail(err)
	}
	src, err := r.src.ResolveStreams(ctx, cfg, integ.ResolveOptions{HTTP: r.o.Sync.HTTP, Logger: r.logger, Schemas: integ.SchemasAll})
	if err != nil && (src == nil || len(src.Streams) == 0) {
		return r.fail(err)
	}
	var lines []byte
	for _, se := range integ.StreamErrors(err) {
		lines, _ = AppendMessage(lines, ErrorTrace(se, r.now(), &StreamDescriptor{Name: se.Stream}, r.sess.Secrets()))
	}
	if err := r.out.Write(lines); err != nil {
		return fmt.Errorf("%w: %w", ErrReported, err)
	}
	return r.report(writeMessage(r.out, &Message{Type: "CATALOG", Catalog: Discover(src)}))
}

func (r *runner) read(ctx context.Context) error {
	cfg, err := r.config(ctx)
	if err != nil {
		return r.fail(err)
	}
	if r.o.CatalogPath == "" {
		return r.fail(&integ.Error{Kind: integ.ConfigFailure, Msg: "no catalog: pass --catalog FILE (a configured catalog built from discover)", Err: integ.ErrCatalog})
	}
	data, err := wire.ReadFile("catalog", r.o.CatalogPath)
	if err != nil {
		return r.fail(err)
	}
	catalog, namespaces, err := ParseCatalog(data)
	if err != nil {
		return r.fail(fmt.Errorf("catalog file %q: %w", r.o.CatalogPath, err))
	}
	// Listed streams take their schemas from the catalog; only selected
	// ones it gives none for are resolved.
	if r.src, err = r.src.ResolveStreams(ctx, cfg, integ.ResolveOptions{HTTP: r.o.Sync.HTTP, Logger: r.logger, Schemas: integ.SchemasSelected, Catalog: catalog}); err != nil {
		return r.fail(err)
	}
	state := integ.NewState()
	if r.o.StatePath != "" {
		data, err := wire.ReadFile("state", r.o.StatePath)
		if err != nil {
			return r.fail(err)
		}
		if state, err = ParseState(data); err != nil {
			return r.fail(fmt.Errorf("state file %q: %w", r.o.StatePath, err))
		}
	}
	p := NewProtocol(namespaces, r.now)
	so := r.o.Sync
	so.Config, so.Catalog, so.State = cfg, catalog, state
	so.Protocol, so.Output, so.Logger = p, r.out, r.logger
	so.Now = r.now
	if err := r.src.Sync(ctx, so); err != nil {
		return r.failSync(err, p.Failures())
	}
	return nil
}

// failSync ends a failed read: one TRACE ERROR per failed stream, with its
// descriptor, then one for every other part of the error (a bad catalog,
// streams never started, output failures).
func (r *runner) failSync(err error, failures []StreamFailure) error {
	var lines []byte
	for _, f := range failures {
		desc := &StreamDescriptor{Name: f.Stream, Namespace: f.Namespace}
		lines, _ = AppendMessage(lines, ErrorTrace(f.Err, r.now(), desc, r.sess.Secrets()))
	}
	parts := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	}
	for _, part := range parts {
		reported := false
		for _, f := range failures {
			if errors.Is(part, f.Err) {
				reported = true
				break
			}
		}
		if !reported {
			lines, _ = AppendMessage(lines, ErrorTrace(part, r.now(), nil, r.sess.Secrets()))
		}
	}
	if werr := r.out.Write(lines); werr != nil {
		return fmt.Errorf("%w: %w (and writing it failed: %v)", ErrReported, err, werr)
	}
	return fmt.Errorf("%w: %w", ErrReported, err)
}
