// Package procs chooses how many threads run a tap's Go code.
//
// A tap's work is a few microseconds a record between network waits, done
// by a handful of goroutines that hand pages to each other (a prefetcher
// and the writer, partitions and their parent). On one scheduler thread
// those handoffs are plain goroutine switches; on several, each is a futex
// wake-up of another thread, and the runtime spins looking for work. make
// bench measured a third less CPU with one thread and a higher record rate
// (2026-11-30, 2 cores: 1.21 to 0.77 CPU s at page size 100). One core
// reads faster than any API serves: a sync against a real API is bound by
// the network and the quota, not by this thread.
package procs

import (
	"os"
	"runtime"
)

// Default runs Go code on one thread, unless the environment sets
// GOMAXPROCS (which then wins, as it always does for Go programs). It
// returns the setting in force.
func Default() int {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	return runtime.GOMAXPROCS(0)
}
