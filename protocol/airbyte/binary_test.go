package airbyte_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/protocol/airbyte"
)

// TestPokeapiBinary runs the built tap-pokeapi as the platform would: every
// stdout line of every command is a valid AirbyteMessage, stderr stays
// empty, and the exit codes are right.
func TestPokeapiBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "tap-pokeapi")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/integ/integ/cmd/tap-pokeapi").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f := newPokeFixture(t, 4)
	catalog := f.write("catalog.json", f.configured(f.discover(), integ.ModeFullRefresh))
	tests := []struct {
		name     string
		args     []string
		exitCode int
		want     string // a message type that must be there
	}{
		{"spec", []string{"spec"}, 0, "SPEC"},
		{"check", []string{"check", "--config", f.config}, 0, "CONNECTION_STATUS"},
		{"check bad config", []string{"check", "--config", f.write("bad.json", `{"page_size":"x"}`)}, 0, "CONNECTION_STATUS"},
		{"discover", []string{"discover", "--config", f.config}, 0, "CATALOG"},
		{"read", []string{"read", "--config", f.config, "--catalog", catalog}, 0, "RECORD"},
		{"read debug logs", []string{"read", "--config", f.config, "--catalog", catalog, "--log-level", "debug"}, 0, "RECORD"},
		{"read invalid catalog", []string{"read", "--config", f.config, "--catalog", f.write("bad-catalog.json", `{"streams":[{"stream":{"name":"berries"},"sync_mode":"full_refresh"}]}`)}, 1, "TRACE"},
		{"read without catalog", []string{"read", "--config", f.config}, 1, "TRACE"},
		{"discover bad config", []string{"discover", "--config", f.write("bad2.json", `[]`)}, 1, "TRACE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, tt.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.exitCode {
				t.Errorf("exit code %d, want %d\n%s", code, tt.exitCode, stdout.Bytes())
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr: %s", stderr.Bytes())
			}
			msgs := messages(t, stdout.Bytes())
			if len(of(msgs, tt.want)) == 0 {
				t.Errorf("no %s message in\n%s", tt.want, stdout.Bytes())
			}
			if tt.exitCode != 0 {
				if last := msgs[len(msgs)-1]; last.Trace == nil || last.Trace.Error == nil || last.Trace.Error.FailureType != "config_error" {
					t.Errorf("a failure must end with a TRACE ERROR config_error, got %s", last.Line)
				}
			}
		})
	}
	// A usage mistake: a TRACE ERROR on stdout, a line for people on stderr.
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "read", "--catalogue", "x")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		t.Error("an unknown flag exits 0")
	}
	if errs := traceErrors(messages(t, stdout.Bytes())); len(errs) != 1 || !strings.Contains(stderr.String(), "--catalogue") {
		t.Errorf("unknown flag: stdout %s, stderr %s", stdout.Bytes(), stderr.Bytes())
	}
}

// TestSecretsNeverPrinted runs every command with a secret API key, also
// against an API that echoes the key in its error bodies: no message may
// hold it (fixture.run fails the test if stdout does).
func TestSecretsNeverPrinted(t *testing.T) {
	f := newEventsFixture(t, 3)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"you sent ` + r.Header.Get("Authorization") + `"}`))
	}))
	t.Cleanup(echo.Close)
	echoCfg := f.write("echo.json", map[string]any{"base_url": echo.URL + "/?api_key=" + secretToken, "api_key": secretToken})
	badCfg := f.write("invalid.json", map[string]any{"base_url": 5, "api_key": secretToken})
	catalog := f.write("catalog.json", f.configured(f.discover(), integ.ModeIncremental))
	tests := []airbyte.Options{
		{Command: airbyte.CommandSpec},
		{Command: airbyte.CommandCheck, ConfigPath: f.config},
		{Command: airbyte.CommandCheck, ConfigPath: echoCfg},
		{Command: airbyte.CommandCheck, ConfigPath: badCfg},
		{Command: airbyte.CommandDiscover, ConfigPath: f.config},
		{Command: airbyte.CommandDiscover, ConfigPath: badCfg},
		{Command: airbyte.CommandRead, ConfigPath: f.config, CatalogPath: catalog},
		{Command: airbyte.CommandRead, ConfigPath: echoCfg, CatalogPath: catalog},
		{Command: airbyte.CommandRead, ConfigPath: f.config, CatalogPath: f.write("bad-catalog.json", `{"streams":[{"stream":{"name":"`+secretToken+`"}}]}`)},
	}
	echoed := false
	for _, o := range tests {
		msgs, out, _ := f.run(o)
		if len(msgs) == 0 {
			t.Errorf("%s: no output", o.Command)
		}
		echoed = echoed || bytes.Contains(out, []byte(airbyteRedacted))
	}
	if !echoed {
		t.Error("no output was redacted: the echoing API did not put the secret in an error, so this test proves nothing")
	}
}

const airbyteRedacted = "REDACTED"
