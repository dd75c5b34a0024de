//go:build !linux

package bench

import "os"

// setPipeSize is a no-op where pipe buffers cannot be resized.
func setPipeSize(*os.File, int) {}

// blockingPipe is os.Pipe where the pipe cannot be made otherwise.
func blockingPipe() (r, w *os.File, err error) { return os.Pipe() }
