package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfileAbout runs the tap's --about in-process under the profiler:
// the tap's own exit code and output count, and every profile asked for
// is written.
func TestProfileAbout(t *testing.T) {
	dir := t.TempDir()
	cpu, mem, tr := filepath.Join(dir, "cpu.out"), filepath.Join(dir, "mem.out"), filepath.Join(dir, "trace.out")
	var out, errb bytes.Buffer
	code := profile(t.Context(), []string{"--cpuprofile", cpu, "--memprofile", mem, "--trace", tr, "--", "--about"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "tap exit 0: 0 records, ") || strings.HasPrefix(out.String(), "tap exit 0: 0 records, 0 bytes") {
		t.Errorf("summary %q: want the tap's exit and the bytes it wrote", out.String())
	}
	for _, p := range []string{cpu, mem, tr} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
	}
	// A tap that fails makes the command fail, naming the exit code.
	errb.Reset()
	if code := profile(t.Context(), []string{"--cpuprofile", cpu, "--", "--no-such-flag"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "the tap exited") {
		t.Errorf("bad tap flag: exit %d, stderr %q", code, errb.String())
	}
}
