package singer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/protocol/internal/wire"
	"github.com/integ/integ/requests"
)

// Options are a tap invocation's flags and streams.
type Options struct {
	ConfigPaths []string // --config, repeatable, merged in order
	StatePath   string   // --state
	CatalogPath string   // --catalog (or its legacy name --properties)
	Discover    bool     // --discover
	About       bool     // --about
	Format      string   // --format for --about: json (default) or markdown

	Stdout, Stderr io.Writer
	LogLevel       slog.Level
	// Session is the process's session; nil: Run makes one.
	Session *integ.Session
	// Sync carries tuning (HTTP, checkpoints, clock); its Config, Catalog,
	// State, Protocol, Output and Logger are set by Run.
	Sync integ.SyncOptions
}

// ErrReported marks an error Run has already written to stderr as a
// CRITICAL line: the caller only has to exit non-zero.
var ErrReported = errors.New("singer: error reported")

// Run is the tap: --about, --discover, or a sync. Every failure is written to
// stderr as one CRITICAL line and returned wrapping ErrReported; stdout only
// ever carries complete Singer messages.
func Run(ctx context.Context, src *integ.Source, o Options) error {
	stderr := NewLockedWriter(o.Stderr)
	if o.Session == nil {
		o.Session = integ.NewSession()
	}
	err := run(ctx, src, o, stderr)
	if err == nil {
		return nil
	}
	fmt.Fprintf(stderr, "CRITICAL %s\n", oneLine(requests.Redact(err.Error(), o.Session.Secrets()...)))
	return fmt.Errorf("%w: %w", ErrReported, err)
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

func run(ctx context.Context, src *integ.Source, o Options, stderr io.Writer) error {
	sess := o.Session
	if err := src.Err(); err != nil {
		return err
	}
	if o.About {
		return writeAbout(o.Stdout, src, o.Format)
	}
	if o.Format != "" {
		return &integ.Error{Kind: integ.ConfigFailure, Msg: "--format only goes with --about"}
	}
	var cfg *integ.Config
	var secrets []string
	if len(o.ConfigPaths) > 0 {
		raw, err := integ.ReadConfigFiles(o.ConfigPaths...)
		if err != nil {
			return err
		}
		if cfg, err = src.ParseConfig(raw); err != nil {
			return err
		}
		secrets = cfg.Secrets()
		sess.SetConfig(cfg)
		sess.OnConfigUpdate(configPersister(o.ConfigPaths, stderr))
	}
	logger := sess.WrapLogger(NewLogger(stderr, o.LogLevel, secrets))
	sess.SetLogger(logger)
	o.Sync.HTTP.Session = sess
	if cfg != nil {
		for _, k := range src.UnknownConfigKeys(cfg) {
			logger.Warn(fmt.Sprintf("config key %q is not a setting of this tap; it is ignored", k))
		}
	}
	if cfg == nil && (!o.Discover || src.NeedsConfig()) {
		return &integ.Error{Kind: integ.ConfigFailure, Msg: "no config: pass --config FILE (see --about for the settings)"}
	}
	if cfg != nil {
		// List the streams only: discover and sync resolve the schemas
		// they need.
		resolved, err := src.ResolveStreams(ctx, cfg, integ.ResolveOptions{HTTP: o.Sync.HTTP, Logger: logger})
		if err != nil {
			return err
		}
		src = resolved
	}
	if o.Discover {
		return discover(ctx, src, cfg, o, logger, sess)
	}
	var catalog *integ.Catalog
	if o.CatalogPath != "" {
		data, err := wire.ReadFile("catalog", o.CatalogPath)
		if err != nil {
			return err
		}
		if catalog, err = ParseCatalog(data); err != nil {
			return fmt.Errorf("catalog file %q: %w", o.CatalogPath, err)
		}
	}
	if cfg != nil {
		// Listed streams take their schemas from the catalog; only
		// selected ones it gives none for are resolved.
		resolved, err := src.ResolveStreams(ctx, cfg, integ.ResolveOptions{HTTP: o.Sync.HTTP, Logger: logger, Schemas: integ.SchemasSelected, Catalog: catalog})
		if err != nil {
			return err
		}
		src = resolved
	}
	state := integ.NewState()
	if o.StatePath != "" {
		data, err := wire.ReadFile("state", o.StatePath)
		if err != nil {
			return err
		}
		if state, err = ParseState(data); err != nil {
			return fmt.Errorf("state file %q: %w", o.StatePath, err)
		}
	}
	so := o.Sync
	so.Config, so.Catalog, so.State = cfg, catalog, state
	so.Protocol = NewProtocol(stderr)
	so.Output = driver.NewOutput(o.Stdout)
	so.Output.SetFilter(sess.RedactOutput)
	so.Logger = logger
	return src.Sync(ctx, so)
}

// discover writes the catalog with every schema resolved. A stream whose
// schema fails is left out and named in an ERROR line on stderr; the tap
// still exits 0 when the catalog lists any stream, so that one broken object
// does not hide the others.
func discover(ctx context.Context, src *integ.Source, cfg *integ.Config, o Options, logger *slog.Logger, sess *integ.Session) error {
	if cfg != nil {
		resolved, err := src.ResolveStreams(ctx, cfg, integ.ResolveOptions{HTTP: o.Sync.HTTP, Logger: logger, Schemas: integ.SchemasAll})
		if err != nil && (resolved == nil || len(resolved.Streams) == 0) {
			return err
		}
		for _, se := range integ.StreamErrors(err) {
			logger.Error(fmt.Sprintf("discover: %v; the stream is left out of the catalog", se), "stream", se.Stream)
		}
		src = resolved
	}
	return writeJSON(redactingWriter{o.Stdout, sess}, Discover(src))
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// redactingWriter hides the session's run-time secrets from one whole
// document written in one call (the catalog).
type redactingWriter struct {
	w    io.Writer
	sess *integ.Session
}

func (r redactingWriter) Write(p []byte) (int, error) {
	if _, err := r.w.Write(r.sess.RedactOutput(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
