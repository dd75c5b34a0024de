package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunServesAndStopsOnSIGTERM(t *testing.T) {
	urlFile := filepath.Join(t.TempDir(), "url")
	done := make(chan error, 1)
	go func() { done <- run([]string{"--count", "7", "--url-file", urlFile}) }()

	var base string
	for deadline := time.Now().Add(5 * time.Second); base == ""; {
		if b, err := os.ReadFile(urlFile); err == nil {
			base = string(b)
		} else if time.Now().After(deadline) {
			t.Fatal("url file never written")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/api/v2") {
		t.Fatalf("base URL %q", base)
	}

	resp, err := http.Get(base + "/pokemon")
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Count int }
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || page.Count != 7 {
		t.Fatalf("count = %d, %v; want 7", page.Count, err)
	}

	// run's NotifyContext catches this, so the test process survives.
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run() = %v after SIGTERM", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop on SIGTERM")
	}
}

func TestRunBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"--nope"}},
		{"bad address", []string{"--addr", "not-an-address"}},
		{"bad latency", []string{"--latency", "soon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := run(tt.args); err == nil {
				t.Fatalf("run(%q) succeeded, want error", tt.args)
			}
		})
	}
}
