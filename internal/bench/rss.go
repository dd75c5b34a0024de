package bench

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"time"

	"github.com/integ/integ/internal/conc"
)

// hwmPollInterval is how often a running child's VmHWM is read.
const hwmPollInterval = 2 * time.Millisecond

// Peak RSS is taken from /proc/PID/status VmHWM, polled while the child
// runs, and not from getrusage: on Linux a child's ru_maxrss includes the
// high-water RSS of the process it was forked from (exec folds the old
// address space's peak into it, and os/exec forks from the harness), so
// it would report the harness's RSS for any child smaller than it. VmHWM
// belongs to the address space exec created, so it is the child's alone.
// The HWM only ever grows, so missing the last poll interval costs little.

// watchHWM polls pid's VmHWM until ctx ends and returns the highest value
// seen, in bytes, or 0 where /proc is unavailable.
func watchHWM(ctx context.Context, pid int) *conc.Future[int64] {
	return conc.Go(func() (int64, error) {
		path := "/proc/" + strconv.Itoa(pid) + "/status"
		t := time.NewTicker(hwmPollInterval)
		defer t.Stop()
		var peak int64
		for {
			if v, ok := readHWM(path); ok {
				peak = max(peak, v)
			}
			select {
			case <-ctx.Done():
				return peak, nil
			case <-t.C:
			}
		}
	})
}

// readHWM reads VmHWM from a /proc/PID/status file, in bytes.
func readHWM(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	return parseHWM(b)
}

// parseHWM finds "VmHWM:    1234 kB" in the text of /proc/PID/status.
func parseHWM(status []byte) (int64, bool) {
	_, rest, ok := bytes.Cut(status, []byte("\nVmHWM:"))
	if !ok {
		return 0, false
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) != 2 || string(f[1]) != "kB" {
		return 0, false
	}
	kb, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0, false
	}
	return kb * 1024, true
}
