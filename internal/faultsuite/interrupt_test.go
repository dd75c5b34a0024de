package faultsuite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/integ/integ/internal/testsource"
	"github.com/integ/integ/protocol/singer"
)

const events = 60

func eventsAPI() (*testsource.Server, http.Handler) {
	s := testsource.NewServer(testsource.WithPageSize(4))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range events {
		s.Add(fmt.Sprintf("event %d", i), base.Add(time.Duration(i)*time.Minute))
	}
	return s, s
}

// lastState returns the value of the last STATE message, as a state file.
func lastState(t *testing.T, out string) string {
	t.Helper()
	var last string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, `{"type":"STATE"`) {
			last = line
		}
	}
	return last
}

// checkResumes checks the union of several interrupted runs: every event
// arrives, and an event arrives twice only at a resume's inclusive bookmark.
func checkResumes(t *testing.T, outputs []string) {
	t.Helper()
	seen := map[string]int{}
	dups := 0
	for _, out := range outputs {
		for _, k := range recordKeys(t, out) {
			if !strings.HasPrefix(k, "events/") {
				continue
			}
			seen[k]++
			if seen[k] > 1 {
				dups++
			}
		}
	}
	if len(seen) != events {
		t.Errorf("%d distinct events after %d runs, want %d", len(seen), len(outputs), events)
	}
	if dups > len(outputs)-1 {
		t.Errorf("%d duplicates over %d resumes: only the boundary record may repeat", dups, len(outputs)-1)
	}
}

// TestCancelAtRandomPointsThenResume interrupts syncs at random requests, the
// way SIGTERM does (the CLI turns it into a cancelled context), and resumes
// each from the last STATE it wrote.
func TestCancelAtRandomPointsThenResume(t *testing.T) {
	rng := newRand(t, 1)
	deadline, stop := context.WithTimeout(context.Background(), syncDeadline)
	defer stop()
	for trial := range 8 {
		_, api := eventsAPI()
		var cancel context.CancelFunc
		var stopAt int64
		var served atomic.Int64 // requests of the current run
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if served.Add(1) == stopAt {
				cancel()
			}
			api.ServeHTTP(w, r)
		}))
		var outputs []string
		state := ""
		for run := 0; ; run++ {
			if run > 40 {
				t.Fatalf("trial %d: no complete run after 40 resumes", trial)
			}
			var ctx context.Context
			if deadline.Err() != nil {
				t.Fatalf("trial %d run %d: the test's deadline passed", trial, run)
			}
			ctx, cancel = context.WithCancel(deadline)
			served.Store(0)
			stopAt = int64(1 + rng.IntN(8))
			if run > 0 && rng.IntN(4) == 0 {
				stopAt = 1 << 40 // now and then, let a run finish
			}
			dir := t.TempDir()
			cfg := filepath.Join(dir, "c.json")
			os.WriteFile(cfg, []byte(`{"base_url":"`+srv.URL+`"}`), 0o600)
			o := singer.Options{ConfigPaths: []string{cfg}}
			if state != "" {
				o.StatePath = filepath.Join(dir, "s.json")
				os.WriteFile(o.StatePath, []byte(state), 0o600)
			}
			var out, errb bytes.Buffer
			o.Stdout, o.Stderr = &out, &errb
			o.Sync.CheckpointRecords = 1 + int64(rng.IntN(6))
			err := singer.Run(ctx, testsource.Source(), o)
			cancel()
			outputs = append(outputs, out.String())
			if s := lastState(t, out.String()); s != "" {
				state = s
			}
			if err == nil {
				break
			}
			if !strings.Contains(errb.String(), "interrupted") {
				t.Fatalf("trial %d run %d: an interrupted run must say so: %v\n%s", trial, run, err, errb.String())
			}
		}
		srv.Close()
		if len(outputs) < 2 {
			t.Fatalf("trial %d: the first run was not interrupted", trial)
		}
		t.Logf("trial %d: complete after %d interrupted runs", trial, len(outputs)-1)
		checkResumes(t, outputs)
	}
}

// stopAt holds the request at which a run is signalled and tells the test
// when the binary has sent it.
type stopAt struct {
	mu      sync.Mutex
	n, at   int64
	reached chan struct{}
}

// arm starts a run that is signalled at request at (0: never).
func (s *stopAt) arm(at int64) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n, s.at, s.reached = 0, at, make(chan struct{})
	return s.reached
}

// hold reports whether this request is the one to signal at, and tells the
// test so.
func (s *stopAt) hold() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if s.n != s.at {
		return false
	}
	close(s.reached)
	return true
}

// TestSIGTERMThenResume sends a real SIGTERM to the binary while it waits for
// a page, at a random request, and resumes from the last STATE it wrote,
// until a run is left to finish. Each signalled run must end as an
// interrupted sync (exit 1, saying so, whole lines and its STATE on stdout),
// and the union of the runs must hold every event once, but for the resume
// boundaries. A binary that does not handle SIGTERM dies of it (exit -1).
func TestSIGTERMThenResume(t *testing.T) {
	bin := testtap(t)
	rng := newRand(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	_, api := eventsAPI()
	stop := &stopAt{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stop.hold() {
			// The page never comes: the binary is signalled while it waits,
			// and the request ends when the binary drops it (or dies).
			select {
			case <-r.Context().Done():
			case <-ctx.Done():
			}
			return
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.json")
	os.WriteFile(cfg, []byte(`{"base_url":"`+srv.URL+`"}`), 0o600)
	statePath := filepath.Join(dir, "state.json")

	const signalled = 4 // runs stopped by SIGTERM before one may finish
	var outputs []string
	for run := 0; run <= signalled; run++ {
		args := []string{"--config", cfg}
		if _, err := os.Stat(statePath); err == nil {
			args = append(args, "--state", statePath)
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		// A checkpoint every few records, so that a killed run has said
		// how far it got.
		cmd.Env = append(os.Environ(), fmt.Sprintf("TESTTAP_CHECKPOINT_RECORDS=%d", 1+rng.IntN(3)))
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		at := int64(0)
		if run < signalled {
			// After the first page, so the run has read something; at most
			// three pages a run, so the signalled runs (12 pages) never
			// reach the end of the events (15 pages) and each one reaches
			// its request.
			at = 2 + rng.Int64N(3)
		}
		reached := stop.arm(at)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		var err error
		if at > 0 {
			select {
			case <-reached:
				// The handler was installed before the first request.
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatalf("run %d: signal: %v", run, err)
				}
				err = <-waited
			case err = <-waited:
				t.Fatalf("run %d ended (%v) before its request %d:\n%s", run, err, at, errb.String())
			}
		} else {
			err = <-waited
		}
		if ctx.Err() != nil {
			t.Fatalf("run %d: no exit before the test's deadline: %v\n%s", run, err, errb.String())
		}
		o := out.String()
		outputs = append(outputs, o)
		if o == "" || !strings.HasSuffix(o, "\n") {
			t.Fatalf("run %d (exit %v): stdout is empty or ends in a partial line: %q", run, err, o[max(0, len(o)-80):])
		}
		value := stateValue(t, lastState(t, o))
		if at == 0 {
			if err != nil {
				t.Fatalf("run %d, not signalled, failed: %v\n%s", run, err, errb.String())
			}
			break
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "interrupted") {
			t.Fatalf("run %d, signalled at request %d: want exit 1 saying the sync was interrupted, got %v:\n%s", run, at, err, errb.String())
		}
		if value == nil {
			t.Fatalf("run %d, signalled at request %d after a page, wrote no STATE:\n%s", run, at, o)
		}
		b, _ := json.Marshal(value)
		os.WriteFile(statePath, b, 0o600)
	}
	if len(outputs) != signalled+1 {
		t.Fatalf("%d runs, want %d signalled and one to finish", len(outputs), signalled)
	}
	checkResumes(t, outputs)
	// The state moves forward run after run, and ends at the last event.
	var prev time.Time
	for i, o := range outputs {
		b := eventsBookmark(t, stateValue(t, lastState(t, o)))
		if b.Before(prev) {
			t.Errorf("run %d: the bookmark went back from %s to %s", i, prev, b)
		}
		prev = b
	}
	if want := time.Date(2024, 1, 1, 0, events-1, 0, 0, time.UTC); !prev.Equal(want) {
		t.Errorf("final bookmark %s, want the last event's time %s", prev, want)
	}
}

// stateValue parses a Singer STATE line and returns its value (nil for "").
func stateValue(t *testing.T, line string) map[string]any {
	t.Helper()
	if line == "" {
		return nil
	}
	var m struct {
		Value map[string]any `json:"value"`
	}
	if err := json.Unmarshal([]byte(line), &m); err != nil || m.Value == nil {
		t.Fatalf("STATE line without a value object (%v): %s", err, line)
	}
	return m.Value
}

// eventsBookmark returns the events stream's updated_at bookmark of a state.
func eventsBookmark(t *testing.T, v map[string]any) time.Time {
	t.Helper()
	bm, _ := v["bookmarks"].(map[string]any)
	ev, _ := bm["events"].(map[string]any)
	s, _ := ev["replication_key_value"].(string)
	b, err := time.Parse(time.RFC3339Nano, s)
	if ev["replication_key"] != "updated_at" || err != nil {
		t.Fatalf("state without an events bookmark on updated_at: %v", v)
	}
	return b
}
