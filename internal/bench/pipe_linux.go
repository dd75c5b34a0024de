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

// blockingPipe is os.Pipe without O_NONBLOCK: the harness's reads block in
// the kernel, which wakes the reading thread straight away when the child
// writes, as a target's plain read loop would. os.Pipe's ends go through
// Go's network poller: every write the child makes then costs an epoll
// wake-up and a scheduler hand-off in the harness, which shares the CPUs
// with the server and the child.
func blockingPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}
