package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Median is the middle value of xs (the mean of the two middle values for
// an even count), or 0 for none. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// WriteTable writes rows as an aligned text table.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tpage\trecords\truns\trecords/s\tMB/s\tCPU s\tpeak RSS MiB\ttap/floor\trun by run\tCPU floor/tap\ttap/protocol floor\t")
	for _, r := range rows {
		ratio, spread, cpuRatio, protocol := "-", "-", "-", "-"
		if r.Mode != ModeFloor {
			ratio, cpuRatio = fmt.Sprintf("%.2f", r.Ratio), fmt.Sprintf("%.2f", r.CPURatio)
			if r.RatioRange[1] > 0 {
				spread = fmt.Sprintf("%.2f-%.2f", r.RatioRange[0], r.RatioRange[1])
			}
		}
		if r.ProtocolRatio > 0 {
			protocol = fmt.Sprintf("%.2f", r.ProtocolRatio)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%.1f\t%.2f\t%.1f\t%s\t%s\t%s\t%s\t\n",
			r.Mode, r.PageSize, r.Records, len(r.Runs), thousands(r.RecordsPerSec),
			r.MBPerSec, r.CPUSeconds, r.PeakRSSMiB, ratio, spread, cpuRatio, protocol)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// thousands formats x rounded to an integer with comma separators.
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
