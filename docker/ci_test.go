package docker_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// inCI reports whether the tests run in CI, where the image smoke test must
// not be skipped: CI services set CI (usually to "true").
func inCI() bool {
	switch os.Getenv("CI") {
	case "", "false", "0":
		return false
	}
	return true
}

func TestInCI(t *testing.T) {
	for v, want := range map[string]bool{"": false, "false": false, "0": false, "true": true, "1": true, "yes": true} {
		t.Setenv("CI", v)
		if got := inCI(); got != want {
			t.Errorf("CI=%q: inCI() = %v, want %v", v, got, want)
		}
	}
}

// TestSmokeWithoutEngine runs make docker-smoke on a machine with no
// container engine (CONTAINER_ENGINE names one that does not exist): a
// developer's run skips, a CI run fails.
func TestSmokeWithoutEngine(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	for _, tt := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"", false, "docker-smoke: skipped: no container engine"},
		{"false", false, "docker-smoke: skipped: no container engine"},
		{"true", true, "docker-smoke: FAILED: CI=true and no container engine"},
		{"1", true, "docker-smoke: FAILED: CI=1 and no container engine"},
	} {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-C", "..", "docker-smoke")
			cmd.Env = append(os.Environ(), "CI="+tt.ci, "CONTAINER_ENGINE=integ-no-such-engine")
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tt.wantFail {
				t.Errorf("failed = %v (%v), want %v:\n%s", failed, err, tt.wantFail, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}
