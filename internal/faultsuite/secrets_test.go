package faultsuite

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integ/integ/internal/testsource"
)

// TestSecretsNeverShow runs every command of a real binary whose config holds
// a secret, against an API that echoes the secret back in its errors, and
// looks for it in everything the process prints. The test is not vacuous:
// every command must print what it is for, the echoing server must have
// been asked (with the secret), and the echo must come out REDACTED.
func TestSecretsNeverShow(t *testing.T) {
	bin := testtap(t)
	const secret = "tok-7f3a9c-DO-NOT-PRINT"
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	api := testsource.NewServer(testsource.WithToken(secret))
	api.Add("the only event", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	var goodHits atomic.Int64
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		goodHits.Add(1)
		api.ServeHTTP(w, r)
	}))
	defer good.Close()
	// A broken deployment that puts the request's credentials in its error.
	var echoed atomic.Int64
	leaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), secret) {
			echoed.Add(1)
		}
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"error":"bad auth header %s"}`, r.Header.Get("Authorization"))
	}))
	defer leaky.Close()

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodCfg := write("good.json", `{"base_url":"`+good.URL+`","api_key":"`+secret+`","max_attempts":1}`)
	leakyCfg := write("leaky.json", `{"base_url":"`+leaky.URL+`","api_key":"`+secret+`","max_attempts":1}`)
	badCfg := write("bad.json", `{"base_url":"not a url","api_key":"`+secret+`"}`)
	catalog := write("catalog.json", `{"streams":[{"stream":{"name":"events","json_schema":{},"supported_sync_modes":["full_refresh","incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`)

	// want is what each command must print: on stdout for the protocol
	// messages, on stderr for the Singer tap's failures.
	runs := []struct {
		args       []string
		exit       int
		stdout     string
		stderr     string
		redactedIn string // "stdout" or "stderr" when the echo must show, redacted
	}{
		{args: []string{"spec"}, stdout: `"type":"SPEC"`},
		{args: []string{"check", "--config", goodCfg}, stdout: `"status":"SUCCEEDED"`},
		{args: []string{"check", "--config", leakyCfg}, stdout: `"status":"FAILED"`, redactedIn: "stdout"},
		{args: []string{"check", "--config", badCfg}, stdout: `"status":"FAILED"`},
		{args: []string{"discover", "--config", goodCfg}, stdout: `"type":"CATALOG"`},
		{args: []string{"discover", "--config", badCfg}, exit: 1, stdout: `"type":"TRACE"`},
		{args: []string{"read", "--config", goodCfg, "--catalog", catalog}, stdout: `"type":"RECORD"`},
		{args: []string{"read", "--config", leakyCfg, "--catalog", catalog}, exit: 1, stdout: `"type":"TRACE"`, redactedIn: "stdout"},
		{args: []string{"read", "--config", badCfg, "--catalog", catalog}, exit: 1, stdout: `"type":"TRACE"`},
		{args: []string{"--config", goodCfg}, stdout: `"type":"RECORD"`},
		{args: []string{"--config", leakyCfg}, exit: 1, stderr: "CRITICAL", redactedIn: "stderr"},
		{args: []string{"--config", badCfg}, exit: 1, stderr: "CRITICAL"},
		{args: []string{"--config", goodCfg, "--discover"}, stdout: `"streams"`},
		{args: []string{"--about"}, stdout: "testsource"},
		{args: []string{"--config", goodCfg, "--log-level", "debug"}, stdout: `"type":"RECORD"`, stderr: "METRIC"},
	}
	redacted := 0
	for _, r := range runs {
		cmd := exec.CommandContext(ctx, bin, r.args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run()
		streams := map[string]string{"stdout": out.String(), "stderr": errb.String()}
		if code := cmd.ProcessState.ExitCode(); code != r.exit {
			t.Errorf("%v: exit %d, want %d\n%s", r.args, code, r.exit, errb.String())
		}
		for name, want := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			if !strings.Contains(streams[name], want) {
				t.Errorf("%v: %s lacks %q:\n%s", r.args, name, want, streams[name])
			}
		}
		for name, s := range streams {
			if strings.Contains(s, secret) || strings.Contains(s, "DO-NOT-PRINT") {
				t.Errorf("%v: the secret is on %s:\n%s", r.args, name, s)
			}
		}
		if r.redactedIn != "" {
			if !strings.Contains(streams[r.redactedIn], "bad auth header Bearer REDACTED") {
				t.Errorf("%v: the server's echo of the secret is not on %s, REDACTED:\n%s", r.args, r.redactedIn, streams[r.redactedIn])
			}
			redacted++
		}
	}
	if goodHits.Load() == 0 {
		t.Error("the good server was never asked")
	}
	if n := echoed.Load(); n < int64(redacted) {
		t.Errorf("the echoing server got the secret %d times, want at least %d (one per command that uses it)", n, redacted)
	}
}
