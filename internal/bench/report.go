package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people: the command line and machine,
// the throughput table, latencies, RSS scaling, the targets and notes.
func WriteText(w io.Writer, rep *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "command: %s\n", rep.Command)
	m := rep.Machine
	fmt.Fprintf(&b, "machine: %s/%s, %d CPUs, %s", m.GOOS, m.GOARCH, m.NumCPU, m.GoVersion)
	if m.CPU != "" {
		fmt.Fprintf(&b, ", %s", m.CPU)
	}
	if m.ChildGOMAXPROCS != "" {
		fmt.Fprintf(&b, "\nGOMAXPROCS=%s for the taps and floors (the harness keeps all %d CPUs)", m.ChildGOMAXPROCS, m.NumCPU)
	}
	if l := rep.LoadAverage; l[0] != "" {
		fmt.Fprintf(&b, "\nload average: %s before, %s after (above %d, other processes compete: trust CPU s over records/s)", l[0], l[1], m.NumCPU)
	}
	fmt.Fprintf(&b, "\nrecords: %d per run, %d run(s) per mode and page size, interleaved; medians, peak RSS is the max of the runs\n\n", rep.Records, rep.Runs)
	if err := WriteTable(&b, rep.Rows); err != nil {
		return err
	}

	b.WriteString("\nlatency (median wall time of a child process):\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, l := range rep.Latency {
		if l.Error != "" {
			fmt.Fprintf(tw, "  %s\tunavailable: %s\n", l.Command, l.Error)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%.1f ms\t(%d runs)\n", l.Command, l.MedianMS, l.Runs)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write latency: %w", err)
	}

	b.WriteString("\npeak RSS against the record count:\n")
	for _, s := range rep.RSS {
		fmt.Fprintf(&b, "  %s page %d: %d records %.1f MiB, %d records %.1f MiB\n",
			s.Mode, s.PageSize, s.SmallRecords, s.SmallMiB, s.Records, s.MiB)
	}

	b.WriteString("\ntargets:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range rep.Checks {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Status, c.Target, c.Value)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write targets: %w", err)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "\nnote: %s\n", n)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}
