package faultsuite

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/integ/integ/internal/testsource"
)

// TestSecretsNeverShow runs every command of a real binary whose config holds
// a secret, against an API that echoes the secret back in its errors, and
// looks for it in everything the process prints.
func TestSecretsNeverShow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	const secret = "tok-7f3a9c-DO-NOT-PRINT"
	bin := filepath.Join(t.TempDir(), "testtap")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/integ/integ/cmd/internal/testtap").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	api := testsource.NewServer(testsource.WithToken(secret))
	good := httptest.NewServer(api)
	defer good.Close()
	// A broken deployment that puts the request's credentials in its error.
	leaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"error":"bad auth header %s"}`, r.Header.Get("Authorization"))
	}))
	defer leaky.Close()

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	goodCfg := write("good.json", `{"base_url":"`+good.URL+`","api_key":"`+secret+`","max_attempts":1}`)
	leakyCfg := write("leaky.json", `{"base_url":"`+leaky.URL+`","api_key":"`+secret+`","max_attempts":1}`)
	badCfg := write("bad.json", `{"base_url":"not a url","api_key":"`+secret+`"}`)
	catalog := write("catalog.json", `{"streams":[{"stream":{"name":"events","json_schema":{},"supported_sync_modes":["full_refresh","incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`)

	runs := [][]string{
		{"spec"},
		{"check", "--config", goodCfg}, {"check", "--config", leakyCfg}, {"check", "--config", badCfg},
		{"discover", "--config", goodCfg}, {"discover", "--config", badCfg},
		{"read", "--config", goodCfg, "--catalog", catalog}, {"read", "--config", leakyCfg, "--catalog", catalog},
		{"read", "--config", badCfg, "--catalog", catalog},
		{"--config", goodCfg}, {"--config", leakyCfg}, {"--config", badCfg}, {"--config", goodCfg, "--discover"},
		{"--about"}, {"--config", goodCfg, "--log-level", "debug"},
	}
	for _, args := range runs {
		cmd := exec.Command(bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run()
		for name, s := range map[string]string{"stdout": out.String(), "stderr": errb.String()} {
			if strings.Contains(s, secret) || strings.Contains(s, "DO-NOT-PRINT") {
				t.Errorf("%v: the secret is on %s:\n%s", args, name, s)
			}
		}
	}
}
