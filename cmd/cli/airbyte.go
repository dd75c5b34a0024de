package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/protocol/airbyte"
	"github.com/spf13/cobra"
)

// addAirbyteCommands hangs the Airbyte source commands under root: spec,
// check --config, discover --config and read --config --catalog [--state].
// Their stdout carries only AirbyteMessage lines, usage mistakes included
// (as a TRACE ERROR config_error, with a line on stderr for people).
func addAirbyteCommands(root *cobra.Command, src *integ.Source, sess *integ.Session, stdout, stderr io.Writer) {
	type spec struct {
		cmd   airbyte.Command
		short string
		flags func(*cobra.Command, *airbyte.Options)
	}
	configFlag := func(c *cobra.Command, o *airbyte.Options) {
		c.Flags().StringVar(&o.ConfigPath, "config", "", "config file (see spec)")
	}
	specs := []spec{
		{airbyte.CommandSpec, "Airbyte: write the connector specification", nil},
		{airbyte.CommandCheck, "Airbyte: check that the config can reach the API", configFlag},
		{airbyte.CommandDiscover, "Airbyte: write the catalog of every stream", configFlag},
		{airbyte.CommandRead, "Airbyte: read the configured streams", func(c *cobra.Command, o *airbyte.Options) {
			configFlag(c, o)
			c.Flags().StringVar(&o.CatalogPath, "catalog", "", "configured catalog file")
			c.Flags().StringVar(&o.StatePath, "state", "", "state file from a previous read")
		}},
	}
	// With subcommands cobra would add a completion command, whose script
	// would go to stderr (the root's output): useless, so left out.
	root.CompletionOptions.DisableDefaultCmd = true
	for _, s := range specs {
		o := &airbyte.Options{Command: s.cmd}
		usageErr := func(err error) error {
			return reportAirbyteUsage(stdout, stderr, err)
		}
		c := &cobra.Command{
			Use:           string(s.cmd),
			Short:         s.short,
			SilenceUsage:  true,
			SilenceErrors: true,
			Args: func(_ *cobra.Command, args []string) error {
				if len(args) > 0 {
					return usageErr(fmt.Errorf("unexpected argument %q", args[0]))
				}
				return nil
			},
			RunE: func(cmd *cobra.Command, _ []string) error {
				level, _ := cmd.Flags().GetString("log-level")
				lvl, err := parseLevel(level)
				if err != nil {
					return usageErr(err)
				}
				run := *o
				run.LogLevel = lvl
				run.Stdout = stdout
				run.Sync = syncOptions(cmd.Context())
				run.Session = sess
				if err := airbyte.Run(cmd.Context(), src, run); err != nil {
					return fmt.Errorf("%w: %w", errReported, err)
				}
				return nil
			},
		}
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
		if s.flags != nil {
			s.flags(c, o)
		}
		root.AddCommand(c)
	}
}

// reportAirbyteUsage writes a command-line mistake as a TRACE ERROR on
// stdout and one line on stderr, and returns it as reported.
func reportAirbyteUsage(stdout, stderr io.Writer, err error) error {
	e := &integ.Error{Kind: integ.ConfigFailure, Msg: fmt.Sprintf("%v (see --help)", err), Err: integ.ErrConfig}
	if line, merr := airbyte.AppendMessage(nil, airbyte.ErrorTrace(e, time.Now(), nil, nil)); merr == nil {
		stdout.Write(line)
	}
	fmt.Fprintf(stderr, "ERROR %s\n", e.Msg)
	return fmt.Errorf("%w: %w", errReported, e)
}
