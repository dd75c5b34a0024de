// Package cli is the command tree every integ binary shares: the root
// command is the Singer tap, and the Airbyte source commands (spec, check,
// discover, read) hang under it. A binary's main is one call to Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/internal/procs"
	"github.com/integ/integ/protocol/singer"
	"github.com/spf13/cobra"
)

// Main runs the binary for src with the process's arguments and streams and
// returns the exit code. Go code runs on one thread unless the environment
// sets GOMAXPROCS: a tap's few microseconds a record between network waits
// cost a third less CPU that way.
func Main(src *integ.Source) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	procs.Default()
	growPipe(os.Stdout)
	return Execute(ctx, src, os.Args[1:], os.Stdout, os.Stderr)
}

// Execute runs the command tree with explicit arguments and streams (tests
// call it directly) and returns the exit code.
func Execute(ctx context.Context, src *integ.Source, args []string, stdout, stderr io.Writer) int {
	root := NewRootCommand(src, stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		if !errors.Is(err, singer.ErrReported) && !errors.Is(err, errReported) {
			// cobra's own errors: unknown flags and commands.
			fmt.Fprintf(stderr, "CRITICAL %v (see --help)\n", err)
		}
		return 1
	}
	return 0
}

// HTTPDefaults tunes every command's HTTP stack; tests shorten its retries.
var HTTPDefaults integ.HTTPOptions

// CheckpointRecords, when positive, sets how many records pass between
// checkpoints when the context carries no WithSyncOptions. Test binaries
// lower it so that a killed sync has written state (the default, 10,000,
// buffers a test's whole data set); they cannot use WithSyncOptions
// because Main makes its own context, the one SIGTERM cancels.
var CheckpointRecords int64

// errReported marks errors a command already wrote in its protocol's form.
var errReported = errors.New("cli: error reported")

// NewRootCommand builds the tap's command tree.
func NewRootCommand(src *integ.Source, stdout, stderr io.Writer) *cobra.Command {
	var o singer.Options
	var logLevel string
	// One session per process: whichever command runs, its steps share
	// the credentials (one token request) and the run-time secrets.
	sess := integ.NewSession()
	root := &cobra.Command{
		Use:   "tap-" + src.Name,
		Short: fmt.Sprintf("%s: a Singer tap and an Airbyte source", src.Title),
		Long: fmt.Sprintf(`%s

As a Singer tap (the default):
  tap-%[2]s --config config.json [--catalog catalog.json] [--state state.json]
  tap-%[2]s --config config.json --discover > catalog.json
  tap-%[2]s --about [--format json|markdown]

As an Airbyte source: the spec, check, discover and read commands.`, src.Description, src.Name),
		Version:       src.Version,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lvl, err := parseLevel(logLevel)
			if err != nil {
				fmt.Fprintf(stderr, "CRITICAL %v\n", err)
				return errReported
			}
			o.LogLevel = lvl
			if props, _ := cmd.Flags().GetString("properties"); props != "" {
				if o.CatalogPath != "" {
					fmt.Fprintln(stderr, "CRITICAL pass --catalog or --properties, not both")
					return errReported
				}
				o.CatalogPath = props
			}
			o.Stdout, o.Stderr = stdout, stderr
			o.Sync = syncOptions(cmd.Context())
			o.Session = sess
			return singer.Run(cmd.Context(), src, o)
		},
	}
	root.SetOut(stdout) // --help and --version; never mixed with a sync's messages
	root.SetErr(stderr)
	f := root.Flags()
	f.StringArrayVar(&o.ConfigPaths, "config", nil, "config file; repeat to merge several, later files winning")
	f.StringVar(&o.StatePath, "state", "", "state file from a previous run")
	f.StringVar(&o.CatalogPath, "catalog", "", "catalog file selecting streams and fields")
	f.String("properties", "", "legacy name of --catalog")
	f.BoolVar(&o.Discover, "discover", false, "write the catalog of every stream to stdout")
	f.BoolVar(&o.About, "about", false, "describe the tap: capabilities and settings")
	f.StringVar(&o.Format, "format", "", "format of --about: json or markdown")
	root.PersistentFlags().StringVar(&logLevel, "log-level", "info", "debug, info, warning or error")
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	addAirbyteCommands(root, src, sess, stdout, stderr)
	return root
}

func parseLevel(s string) (slog.Level, error) {
	switch s {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warning", "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown --log-level %q: use debug, info, warning or error", s)
}
