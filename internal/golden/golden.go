// Package golden compares test output with files under testdata, and
// rewrites those files when the test binary runs with -update. It is the
// one golden-file helper of the repository's tests.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
)

// update is registered once for every test binary that imports the package.
var update = flag.Bool("update", false, "rewrite golden files instead of comparing with them")

// Updating reports whether the test binary runs with -update.
func Updating() bool { return *update }

// TB is the part of testing.TB the helper uses; tests pass *testing.T.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// Check compares got with the file at path. Under -update it writes got
// there first (creating directories), failing the test when it cannot.
func Check(t TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("golden: %v", err)
			return
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v (go test -update writes it)", err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n got:\n%s\nwant:\n%s", path, got, want)
	}
}
