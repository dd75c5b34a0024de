package cli

import (
	"os"
	"syscall"
)

// stdoutPipeBytes is the pipe buffer a tap asks for when its stdout is a
// pipe: Linux's default, 64 KiB, is a few flushes of the record buffer, so
// a writer ahead of its reader blocked on nearly every write (a context
// switch each time, a fifth of a tap's CPU at 1,000 records a page). 1 MiB
// is the most an unprivileged process may ask for by default.
const stdoutPipeBytes = 1 << 20

// growPipe enlarges the buffer of f when it is a pipe. It is best effort:
// a smaller system limit, or f not being a pipe, leaves it as it was.
func growPipe(f *os.File) {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = sc.Control(func(fd uintptr) {
		const fSetPipeSz = 1031 // F_SETPIPE_SZ
		_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, stdoutPipeBytes)
	})
}
