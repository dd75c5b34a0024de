package faultsuite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
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
			ctx, cancel = context.WithCancel(context.Background())
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

// TestSIGTERMThenResume sends a real SIGTERM to the binary at random moments.
func TestSIGTERMThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "testtap")
	build := exec.Command("go", "build", "-o", bin, "github.com/integ/integ/cmd/internal/testtap")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	_, api := eventsAPI()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * time.Millisecond) // a page takes a while, as on a real API
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.json")
	os.WriteFile(cfg, []byte(`{"base_url":"`+srv.URL+`"}`), 0o600)
	statePath := filepath.Join(dir, "state.json")

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	var outputs []string
	interrupted := 0
	for run := 0; ; run++ {
		if run > 40 {
			t.Fatal("no complete run after 40 resumes")
		}
		args := []string{"--config", cfg}
		if _, err := os.Stat(statePath); err == nil {
			args = append(args, "--state", statePath)
		}
		cmd := exec.Command(bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if run < 6 { // the first runs are interrupted; later ones may finish
			time.Sleep(time.Duration(5+rng.IntN(40)) * time.Millisecond)
			cmd.Process.Signal(syscall.SIGTERM)
		}
		err := cmd.Wait()
		if !strings.HasSuffix(out.String(), "\n") && out.Len() > 0 {
			t.Fatalf("run %d: stdout ends in a partial line: %q", run, out.String()[max(0, out.Len()-80):])
		}
		outputs = append(outputs, out.String())
		if s := lastState(t, out.String()); s != "" {
			os.WriteFile(statePath, []byte(s), 0o600)
		}
		if err == nil {
			break
		}
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == -1 && out.Len() == 0 {
			continue // the signal came before the process installed its handler: it wrote nothing
		}
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "interrupted") {
			t.Fatalf("run %d: want exit 1 saying the sync was interrupted, got %v:\n%s", run, err, errb.String())
		}
		interrupted++
	}
	t.Logf("complete after %d runs stopped by SIGTERM", interrupted)
	if interrupted == 0 {
		t.Log("every run finished before its signal; the machine was fast")
	}
	checkResumes(t, outputs)
	var st map[string]any
	if err := json.Unmarshal([]byte(lastState(t, outputs[len(outputs)-1])), &st); err != nil {
		t.Fatalf("final state: %v", err)
	}
}
