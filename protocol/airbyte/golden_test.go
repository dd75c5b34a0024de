package airbyte_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/protocol/airbyte"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/golden")

var (
	emittedAt = regexp.MustCompile(`"emitted_at":[0-9.]+`)
	localURL  = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)
)

// normalise makes a transcript stable: times, the test server's address and
// the temporary directory are replaced.
func normalise(out []byte, dir string) []byte {
	out = emittedAt.ReplaceAll(out, []byte(`"emitted_at":0`))
	out = localURL.ReplaceAll(out, []byte("http://HOST"))
	return bytes.ReplaceAll(out, []byte(dir), []byte("TMP"))
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".jsonl")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden transcript (go test -update rewrites it)\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestGoldenTranscripts records what each command prints, message by
// message, for review: spec, check, discover and read of both sources.
func TestGoldenTranscripts(t *testing.T) {
	poke := newPokeFixture(t, 5)
	events := newEventsFixture(t, 3)
	for _, f := range []*fixture{poke, events} {
		f.now = func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }
	}
	type step struct {
		name string
		f    *fixture
		run  func(f *fixture) []byte
	}
	cmd := func(o airbyte.Options) func(f *fixture) []byte {
		return func(f *fixture) []byte { _, out, _ := f.run(o); return out }
	}
	var firstEvents []msg
	steps := []step{
		{"pokeapi_spec", poke, cmd(airbyte.Options{Command: airbyte.CommandSpec})},
		{"pokeapi_check", poke, func(f *fixture) []byte {
			return cmd(airbyte.Options{Command: airbyte.CommandCheck, ConfigPath: f.config})(f)
		}},
		{"pokeapi_check_bad_config", poke, func(f *fixture) []byte {
			return cmd(airbyte.Options{Command: airbyte.CommandCheck, ConfigPath: f.write("bad.json", `{"base_url":"ftp://x","page_size":0}`)})(f)
		}},
		{"pokeapi_discover", poke, func(f *fixture) []byte {
			return cmd(airbyte.Options{Command: airbyte.CommandDiscover, ConfigPath: f.config})(f)
		}},
		{"pokeapi_read", poke, func(f *fixture) []byte {
			_, out, err := f.read(f.configured(f.discover(), integ.ModeFullRefresh), nil)
			if err != nil {
				t.Errorf("read: %v", err)
			}
			return out
		}},
		{"pokeapi_read_invalid_catalog", poke, func(f *fixture) []byte {
			_, out, _ := f.read(map[string]any{"streams": []any{map[string]any{"stream": map[string]any{"name": "berries", "json_schema": map[string]any{}}, "sync_mode": "full_refresh", "destination_sync_mode": "append"}}}, nil)
			return out
		}},
		{"testsource_spec", events, cmd(airbyte.Options{Command: airbyte.CommandSpec})},
		{"testsource_discover", events, func(f *fixture) []byte {
			return cmd(airbyte.Options{Command: airbyte.CommandDiscover, ConfigPath: f.config})(f)
		}},
		{"testsource_read_incremental_first", events, func(f *fixture) []byte {
			msgs, out, err := f.read(f.configured(f.discover(), integ.ModeIncremental), nil)
			if err != nil {
				t.Errorf("read: %v", err)
			}
			firstEvents = msgs
			return out
		}},
		{"testsource_read_incremental_second", events, func(f *fixture) []byte {
			f.events.Add("late", base.Add(time.Hour))
			_, out, err := f.read(f.configured(f.discover(), integ.ModeIncremental), stateArray(t, firstEvents))
			if err != nil {
				t.Errorf("read: %v", err)
			}
			return out
		}},
		{"testsource_read_server_error", events, func(f *fixture) []byte {
			f.events.FailNext(0, 500)
			_, out, _ := f.read(f.configured(f.discover(), integ.ModeIncremental), nil)
			return out
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.f.t = t
			out := s.run(s.f)
			if strings.TrimSpace(string(out)) == "" {
				t.Fatal("no output")
			}
			golden(t, s.name, normalise(out, s.f.dir))
		})
	}
}
