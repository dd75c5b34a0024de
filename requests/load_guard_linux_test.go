//go:build linux && (amd64 || arm64 || 386)

package requests

import (
	"bytes"
	"syscall"
	"testing"
)

// TestScanNeverReadsPastTheBody: the page reader loads words without
// bounds checks (le64), so a load past the body's last byte would read
// whatever follows it unnoticed. Here the body ends exactly where the
// process's memory does: the next page is mapped with no access, and a
// single byte read past the body kills the test with a fault. Every
// prefix of a page of like records (the shape matcher's path, cut at
// every byte) and of every page case is read so.
func TestScanNeverReadsPastTheBody(t *testing.T) {
	size := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[size:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	atEnd := func(body []byte) []byte {
		b := mem[size-len(body) : size : size]
		copy(b, body)
		return b
	}
	bodies := [][]byte{pokePage(12), variedPage(6), bytes.ReplaceAll(pokePage(6), []byte("pokemon-"), []byte(`p\"ok\u00e9mon-`))}
	for _, c := range pageCases {
		bodies = append(bodies, []byte(c.body))
	}
	n := 0
	for _, body := range bodies {
		if len(body) > size {
			t.Fatalf("a body of %d bytes does not fit a page of %d", len(body), size)
		}
		for end := len(body); end >= 0; end-- {
			b := atEnd(body[:end])
			want := scanJSON(body[:end], newPage("results")) // in the heap: what the reader says
			if got := scanJSON(b, newPage("results")); got != want {
				t.Fatalf("%q at the end of memory: valid %v, elsewhere %v", body[:end], got, want)
			}
			validJSON(b)
			n++
		}
	}
	t.Logf("%d bodies read at the end of memory", n)
}
