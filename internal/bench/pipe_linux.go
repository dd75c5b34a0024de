package bench

import (
	"os"
	"syscall"
)

// setPipeSize asks for an n-byte buffer on the pipe f, best effort.
func setPipeSize(f *os.File, n int) {
	sc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = sc.Control(func(fd uintptr) {
		const fSetPipeSz = 1031 // F_SETPIPE_SZ
		_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, uintptr(n))
	})
}
