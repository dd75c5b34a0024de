//go:build unix

package bench

import (
	"os"
	"runtime"
	"syscall"
)

// rusageMaxRSS is getrusage's peak RSS of a finished process in bytes, or
// 0 where it is unknown. On Linux it includes the harness's own peak (see
// rss.go), so it is only a fallback for systems without /proc.
func rusageMaxRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) // bytes on Darwin
	}
	return int64(ru.Maxrss) * 1024 // kilobytes elsewhere
}
