package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integrations/pokeapi"
	"github.com/integ/integ/internal/pokeserver"
	"github.com/integ/integ/requests"
)

func TestMain(m *testing.M) {
	// Retries without real sleeping: an unreachable API fails at once.
	HTTPDefaults.Retry = requests.RetryOptions{MaxAttempts: 2, Sleep: func(context.Context, time.Duration) error { return nil }}
	os.Exit(m.Run())
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a loop fails, not hangs
	defer cancel()
	code = Execute(ctx, pokeapi.Source(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSingerBadInputGivesOneClearLine(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing config file", []string{"--config", "/nonexistent/config.json"}, `cannot read config file "/nonexistent/config.json": no such file or directory`},
		{"invalid JSON", []string{"--config", writeFile(t, "c.json", `{"base_url": `)}, "is not a JSON object"},
		{"wrong type", []string{"--config", writeFile(t, "c.json", `{"page_size": "ten"}`)}, `field "page_size"`},
		{"not a URL", []string{"--config", writeFile(t, "c.json", `{"base_url": "pokeapi.co"}`)}, `field "base_url"`},
		{"unreachable base_url", []string{"--config", writeFile(t, "c.json", `{"base_url": "http://127.0.0.1:1/api/v2"}`)}, "127.0.0.1:1"},
		{"no config", nil, "no config"},
		{"bad catalog", []string{"--config", writeFile(t, "c.json", `{}`), "--catalog", writeFile(t, "cat.json", `[]`)}, "catalog"},
		{"bad state", []string{"--config", writeFile(t, "c.json", `{}`), "--state", writeFile(t, "s.json", `{"bookmarks": 3}`)}, "invalid state"},
		{"unknown flag", []string{"--confg", "x"}, "unknown flag"},
		{"bad format", []string{"--about", "--format", "yaml"}, `"yaml"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if c.name == "unreachable base_url" {
				args = append(args, "--log-level", "error")
			}
			code, stdout, stderr := run(t, args...)
			if code == 0 {
				t.Error("exit code 0")
			}
			if stdout != "" {
				t.Errorf("stdout must stay empty, got %q", stdout)
			}
			crit := 0
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if strings.HasPrefix(l, "CRITICAL ") {
					crit++
					if !strings.Contains(l, c.want) {
						t.Errorf("CRITICAL line %q does not mention %q", l, c.want)
					}
				}
			}
			if crit != 1 {
				t.Errorf("want exactly one CRITICAL line, stderr:\n%s", stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace on stderr:\n%s", stderr)
			}
		})
	}
}

func TestSingerSyncDiscoverAboutVersion(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithCount(250)))
	defer srv.Close()
	cfg := writeFile(t, "c.json", `{"base_url": "`+srv.URL+`/api/v2"}`)
	override := writeFile(t, "o.json", `{"page_size": 40}`)

	code, stdout, stderr := run(t, "--config", cfg, "--config", override)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stdout, `"type":"RECORD","stream":"pokemon"`); n != 250 {
		t.Errorf("%d pokemon records, want 250", n)
	}
	if !strings.Contains(stderr, `INFO METRIC: {"type": "counter", "metric": "record_count", "value": 250, "tags": {"endpoint": "pokemon"}}`) {
		t.Errorf("no record_count metric:\n%s", stderr)
	}

	code, catalog, _ := run(t, "--config", cfg, "--discover")
	if code != 0 || !json.Valid([]byte(catalog)) {
		t.Fatalf("discover: %d %s", code, catalog)
	}
	// Deselect "type" and "ability" through the legacy --properties flag.
	var cat map[string]any
	json.Unmarshal([]byte(catalog), &cat)
	for _, s := range cat["streams"].([]any) {
		st := s.(map[string]any)
		if st["tap_stream_id"] != "pokemon" {
			md := st["metadata"].([]any)[0].(map[string]any)["metadata"].(map[string]any)
			md["selected"] = false
		}
	}
	edited, _ := json.Marshal(cat)
	code, stdout, _ = run(t, "--config", cfg, "--properties", writeFile(t, "cat.json", string(edited)))
	if code != 0 || strings.Contains(stdout, `"stream":"type"`) || !strings.Contains(stdout, `"stream":"pokemon"`) {
		t.Errorf("--properties selection not honoured (exit %d)", code)
	}

	code, about, _ := run(t, "--about")
	var a map[string]any
	if code != 0 || json.Unmarshal([]byte(about), &a) != nil || a["name"] != "tap-pokeapi" {
		t.Errorf("--about: %d %s", code, about)
	}
	code, md, _ := run(t, "--about", "--format", "markdown")
	if code != 0 || !strings.Contains(md, "| base_url | False |") {
		t.Errorf("--about markdown: %s", md)
	}
	_, stdout, _ = run(t, "--version")
	if !strings.HasPrefix(stdout, "tap-pokeapi ") {
		t.Errorf("--version printed %q", stdout)
	}
}
