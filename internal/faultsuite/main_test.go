package faultsuite

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the random interruption tests (0 picks one; a failure prints the seed that replays it)")

// newRand returns the test's random source, seeded by -seed or the clock.
// The seed is logged when the test fails, with the flag that replays it.
func newRand(t *testing.T, stream uint64) *rand.Rand {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replay with: go test -run '^%s$' ./internal/faultsuite -args -seed %d", t.Name(), seed)
		}
	})
	return rand.New(rand.NewPCG(seed, stream))
}

// syncDeadline bounds every sync a test runs, so that a sync that loops
// fails its test instead of hanging go test for ten minutes.
const syncDeadline = 30 * time.Second

// testtapBin is the path of cmd/internal/testtap, built once by TestMain
// for the tests that need a real process ("" under -short).
var testtapBin string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "faultsuite")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		testtapBin = filepath.Join(dir, "testtap")
		out, err := exec.Command("go", "build", "-o", testtapBin, "github.com/integ/integ/cmd/internal/testtap").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build testtap: %v\n%s", err, out)
			return 1
		}
	}
	return m.Run()
}

// testtap returns the test binary's path, skipping under -short.
func testtap(t *testing.T) string {
	t.Helper()
	if testtapBin == "" {
		t.Skip("-short: no binary built")
	}
	return testtapBin
}

// TestSeedReplays: the same -seed gives the same random choices, which is
// what makes a failure's printed seed worth printing.
func TestSeedReplays(t *testing.T) {
	defer func(s uint64) { *seedFlag = s }(*seedFlag)
	*seedFlag = 12345
	a, b := newRand(t, 2), newRand(t, 2)
	for i := range 16 {
		if x, y := a.Int64N(1000), b.Int64N(1000); x != y {
			t.Fatalf("draw %d: %d then %d from the same seed", i, x, y)
		}
	}
}
