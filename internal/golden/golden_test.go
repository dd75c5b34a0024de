package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a TB that records failures instead of stopping the test.
type recorder struct{ fatal, errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(f string, a ...any) {
	r.fatal = append(r.fatal, fmt.Sprintf(f, a...))
}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.golden")
	os.WriteFile(path, []byte("same\n"), 0o644)
	for _, tt := range []struct {
		name             string
		path, got        string
		update           bool
		wantFatal, wantE bool
		wantFile         string
	}{
		{name: "equal", path: path, got: "same\n", wantFile: "same\n"},
		{name: "differs", path: path, got: "other\n", wantE: true, wantFile: "same\n"},
		{name: "missing", path: filepath.Join(dir, "none"), got: "x", wantFatal: true},
		{name: "update writes", path: filepath.Join(dir, "sub", "b.golden"), got: "new\n", update: true, wantFile: "new\n"},
		{name: "update cannot make the directory", path: filepath.Join(path, "under-a-file"), got: "x", update: true, wantFatal: true},
		{name: "update cannot write the file", path: dir, got: "x", update: true, wantFatal: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			*update = tt.update
			defer func() { *update = false }()
			r := &recorder{}
			Check(r, tt.path, []byte(tt.got))
			if (len(r.fatal) > 0) != tt.wantFatal || (len(r.errs) > 0) != tt.wantE {
				t.Errorf("fatal %q, errors %q; want fatal %v, error %v", r.fatal, r.errs, tt.wantFatal, tt.wantE)
			}
			if tt.wantFile != "" {
				b, _ := os.ReadFile(tt.path)
				if string(b) != tt.wantFile {
					t.Errorf("file holds %q, want %q", b, tt.wantFile)
				}
			}
			if tt.wantE && !strings.Contains(r.errs[0], tt.path) {
				t.Errorf("the failure %q does not name the file", r.errs[0])
			}
		})
	}
}
