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
	"github.com/integ/integ/protocol/airbyte"
	"github.com/integ/integ/protocol/singer"
)

// slicedEvents is a test API with 60 events, one a minute from base, three
// to a page: read by testsource.SlicedSource in 10-minute windows, six
// windows of four pages.
func slicedEvents(base time.Time) *testsource.Server {
	s := testsource.NewServer(testsource.WithPageSize(3))
	for i := range events {
		s.Add(fmt.Sprintf("event %d", i), base.Add(time.Duration(i)*time.Minute))
	}
	return s
}

// inFlight counts the requests a server is answering, and the most at once.
type inFlight struct {
	mu        sync.Mutex
	now, peak int
}

func (f *inFlight) enter() {
	f.mu.Lock()
	f.now++
	f.peak = max(f.peak, f.now)
	f.mu.Unlock()
}

func (f *inFlight) leave() { f.mu.Lock(); f.now--; f.mu.Unlock() }

// slicedOutput reads a run's stdout in either protocol: the ids of its
// event records, and its last state as a --state file takes it.
func slicedOutput(t *testing.T, out string) (ids []int64, state []byte) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m struct {
			Type   string          `json:"type"`
			Stream string          `json:"stream"`
			Record json.RawMessage `json:"record"`
			Value  json.RawMessage `json:"value"`
			State  json.RawMessage `json:"state"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a whole JSON message: %q", line)
		}
		switch m.Type {
		case "RECORD":
			var r struct {
				ID   *int64 `json:"id"`
				Data struct {
					ID int64 `json:"id"`
				} `json:"data"`
			}
			json.Unmarshal(m.Record, &r)
			if r.ID != nil {
				ids = append(ids, *r.ID)
			} else {
				ids = append(ids, r.Data.ID)
			}
		case "STATE":
			if m.Value != nil {
				state = m.Value
			} else {
				state = []byte("[" + string(m.State) + "]")
			}
		}
	}
	return ids, state
}

// checkEveryEvent: the runs together wrote every event.
func checkEveryEvent(t *testing.T, runs [][]int64) {
	t.Helper()
	seen := map[int64]bool{}
	total := 0
	for _, ids := range runs {
		for _, id := range ids {
			seen[id] = true
			total++
		}
	}
	if len(seen) != events {
		t.Errorf("%d distinct events after %d runs, want %d", len(seen), len(runs), events)
	}
	t.Logf("%d runs wrote %d records for %d events", len(runs), total, len(seen))
}

// TestSlicedCancelThenResume interrupts concurrent, sliced syncs at random
// requests, in both protocols, and resumes each from the last state it
// wrote: windows that completed are not read again, and nothing is lost.
func TestSlicedCancelThenResume(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return base.Add(time.Hour) }
	for _, proto := range []string{"singer", "airbyte"} {
		t.Run(proto, func(t *testing.T) {
			rng := newRand(t, 3)
			deadline, stop := context.WithTimeout(context.Background(), syncDeadline)
			defer stop()
			for trial := range 4 {
				api := slicedEvents(base)
				var cancel context.CancelFunc
				var stopAt atomic.Int64
				var served atomic.Int64
				var fl inFlight
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					fl.enter()
					defer fl.leave()
					if served.Add(1) == stopAt.Load() {
						cancel()
					}
					time.Sleep(5 * time.Millisecond) // long enough for windows to overlap
					api.ServeHTTP(w, r)
				}))
				var runs [][]int64
				var state []byte
				for run := 0; ; run++ {
					if run > 30 || deadline.Err() != nil {
						t.Fatalf("trial %d: no complete run after %d runs", trial, run)
					}
					var ctx context.Context
					ctx, cancel = context.WithCancel(deadline)
					served.Store(0)
					stopAt.Store(int64(1 + rng.IntN(16)))
					if run > 0 && rng.IntN(4) == 0 {
						stopAt.Store(1 << 40)
					}
					dir := t.TempDir()
					cfg := filepath.Join(dir, "c.json")
					os.WriteFile(cfg, []byte(`{"base_url":"`+srv.URL+`","start_date":"2024-01-01T00:00:00Z"}`), 0o600)
					statePath := ""
					if state != nil {
						statePath = filepath.Join(dir, "s.json")
						os.WriteFile(statePath, state, 0o600)
					}
					var out, errb bytes.Buffer
					var err error
					if proto == "singer" {
						o := singer.Options{ConfigPaths: []string{cfg}, StatePath: statePath, Stdout: &out, Stderr: &errb}
						o.Sync.Now = clock
						o.Sync.CheckpointRecords = 1 + int64(rng.IntN(6))
						err = singer.Run(ctx, testsource.SlicedSource(), o)
					} else {
						cat := filepath.Join(dir, "catalog.json")
						os.WriteFile(cat, []byte(`{"streams":[{"stream":{"name":"events","json_schema":{},"supported_sync_modes":["full_refresh","incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`), 0o600)
						o := airbyte.Options{Command: airbyte.CommandRead, ConfigPath: cfg, CatalogPath: cat, StatePath: statePath, Stdout: &out}
						o.Sync.Now = clock
						o.Sync.CheckpointRecords = 1 + int64(rng.IntN(6))
						err = airbyte.Run(ctx, testsource.SlicedSource(), o)
					}
					cancel()
					ids, st := slicedOutput(t, out.String())
					runs = append(runs, ids)
					if st != nil {
						state = st
					}
					if err == nil {
						break
					}
					if !strings.Contains(errb.String()+out.String(), "interrupted") {
						t.Fatalf("trial %d run %d: an interrupted run must say so: %v\n%s%s", trial, run, err, errb.String(), out.String())
					}
				}
				srv.Close()
				if len(runs) < 2 {
					t.Fatalf("trial %d: the first run was not interrupted", trial)
				}
				checkEveryEvent(t, runs)
				if fl.peak < 2 {
					t.Errorf("trial %d: at most %d request in flight: the windows were not read concurrently", trial, fl.peak)
				}
			}
		})
	}
}

// TestSlicedSIGTERMThenResume sends a real SIGTERM to the binary during a
// concurrent, sliced sync (while one window waits for a page and others
// read theirs) and resumes from the last STATE it wrote, until a run is
// left to finish: every event is delivered, in both protocols.
func TestSlicedSIGTERMThenResume(t *testing.T) {
	bin := testtap(t)
	for _, proto := range []string{"singer", "airbyte"} {
		t.Run(proto, func(t *testing.T) { slicedSIGTERM(t, bin, proto) })
	}
}

func slicedSIGTERM(t *testing.T, bin, proto string) {
	rng := newRand(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	// The binary's clock is the real one: the events are in the last two
	// hours, the first sync's windows from the start date.
	start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	api := slicedEvents(start.Add(time.Minute))
	stop := &stopAt{}
	var fl inFlight
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fl.enter()
		defer fl.leave()
		if stop.hold() {
			select {
			case <-r.Context().Done():
			case <-ctx.Done():
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.json")
	os.WriteFile(cfg, []byte(`{"base_url":"`+srv.URL+`","start_date":"`+start.Format(time.RFC3339)+`"}`), 0o600)
	statePath := filepath.Join(dir, "state.json")
	catalog := filepath.Join(dir, "catalog.json")
	os.WriteFile(catalog, []byte(`{"streams":[{"stream":{"name":"events","json_schema":{},"supported_sync_modes":["full_refresh","incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`), 0o600)

	const signalled = 3
	var runs [][]int64
	for run := 0; ; run++ {
		if run > signalled+1 {
			t.Fatalf("%d runs and none finished", run)
		}
		args := []string{"--config", cfg}
		if proto == "airbyte" {
			args = []string{"read", "--config", cfg, "--catalog", catalog}
		}
		if _, err := os.Stat(statePath); err == nil {
			args = append(args, "--state", statePath)
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "TESTTAP_SOURCE=sliced", fmt.Sprintf("TESTTAP_CHECKPOINT_RECORDS=%d", 1+rng.IntN(3)))
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		at := int64(0)
		if run < signalled {
			// Past the windows' first requests (13 windows start at once):
			// some windows have read pages, others are reading.
			at = 12 + rng.Int64N(8)
		}
		reached := stop.arm(at)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		var err error
		signalledNow := false
		if at > 0 {
			select {
			case <-reached:
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatalf("run %d: signal: %v", run, err)
				}
				signalledNow = true
				err = <-waited
			case err = <-waited: // fewer requests were left than at: it finished
			}
		} else {
			err = <-waited
		}
		if ctx.Err() != nil {
			t.Fatalf("run %d: no exit before the test's deadline: %v\n%s", run, err, errb.String())
		}
		o := out.String()
		if o != "" && !strings.HasSuffix(o, "\n") {
			t.Fatalf("run %d (exit %v): stdout ends in a partial line: %q\n%s", run, err, o[max(0, len(o)-80):], errb.String())
		}
		ids, state := slicedOutput(t, o)
		runs = append(runs, ids)
		if !signalledNow {
			if err != nil {
				t.Fatalf("run %d, not signalled, failed: %v\n%s", run, err, errb.String())
			}
			break
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(errb.String()+o, "interrupted") {
			t.Fatalf("run %d, signalled at request %d: want exit 1 saying the sync was interrupted, got %v:\n%s", run, at, err, errb.String())
		}
		if state != nil {
			os.WriteFile(statePath, state, 0o600)
		}
	}
	if len(runs) < 2 {
		t.Fatalf("no run was signalled")
	}
	checkEveryEvent(t, runs)
	if fl.peak < 2 {
		t.Errorf("at most %d request in flight: the windows were not read concurrently", fl.peak)
	}
}
