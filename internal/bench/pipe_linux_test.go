package bench

import (
	"io"
	"os"
	"syscall"
	"testing"
)

// TestBlockingPipe: the harness's pipe carries bytes and EOF like os.Pipe,
// but its ends are plain blocking descriptors, outside Go's poller.
func TestBlockingPipe(t *testing.T) {
	r, w, err := blockingPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, f := range []*os.File{r, w} {
		// Not f.Fd(), which would itself make the descriptor blocking.
		sc, err := f.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var flags uintptr
		var errno syscall.Errno
		if err := sc.Control(func(fd uintptr) {
			flags, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		}); err != nil || errno != 0 {
			t.Fatal(err, errno)
		}
		if flags&syscall.O_NONBLOCK != 0 {
			t.Errorf("%s is non-blocking", f.Name())
		}
	}
	if _, err := w.Write([]byte("a line\n")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "a line\n" {
		t.Fatalf("read %q, %v", got, err)
	}
}
