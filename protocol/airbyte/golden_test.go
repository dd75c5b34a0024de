package airbyte_test

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	goldenfile "github.com/integ/integ/internal/golden"
	"github.com/integ/integ/protocol/airbyte"
)

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

// golden compares got with testdata/golden/name.jsonl (go test -update
// rewrites it).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name+".jsonl"), got)
}

// TestGoldenTranscripts records what each command prints, message by
// message, for review: spec, check, discover and read of both sources.
func TestGoldenTranscripts(t *testing.T) {
	// Each step builds its own fixture, so that a step run alone (-run
	// TestGoldenTranscripts/name, also under -update) prints what it prints
	// in the whole suite.
	fixed := func(f *fixture) *fixture {
		f.now = func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }
		return f
	}
	poke := func(t *testing.T) *fixture { return fixed(newPokeFixture(t, 5)) }
	events := func(t *testing.T) *fixture { return fixed(newEventsFixture(t, 3)) }
	type step struct {
		name    string
		fixture func(t *testing.T) *fixture
		run     func(t *testing.T, f *fixture) []byte
	}
	cmd := func(o func(f *fixture) airbyte.Options) func(t *testing.T, f *fixture) []byte {
		return func(_ *testing.T, f *fixture) []byte { _, out, _ := f.run(o(f)); return out }
	}
	command := func(c airbyte.Command) func(f *fixture) airbyte.Options {
		return func(f *fixture) airbyte.Options { return airbyte.Options{Command: c, ConfigPath: f.config} }
	}
	read := func(t *testing.T, f *fixture, state any) ([]msg, []byte) {
		t.Helper()
		msgs, out, err := f.read(f.configured(f.discover(), integ.ModeIncremental), state)
		if err != nil {
			t.Errorf("read: %v", err)
		}
		return msgs, out
	}
	steps := []step{
		{"pokeapi_spec", poke, cmd(func(*fixture) airbyte.Options { return airbyte.Options{Command: airbyte.CommandSpec} })},
		{"pokeapi_check", poke, cmd(command(airbyte.CommandCheck))},
		{"pokeapi_check_bad_config", poke, cmd(func(f *fixture) airbyte.Options {
			return airbyte.Options{Command: airbyte.CommandCheck, ConfigPath: f.write("bad.json", `{"base_url":"ftp://x","page_size":0}`)}
		})},
		{"pokeapi_discover", poke, cmd(command(airbyte.CommandDiscover))},
		{"pokeapi_read", poke, func(t *testing.T, f *fixture) []byte {
			_, out, err := f.read(f.configured(f.discover(), integ.ModeFullRefresh), nil)
			if err != nil {
				t.Errorf("read: %v", err)
			}
			return out
		}},
		{"pokeapi_read_invalid_catalog", poke, func(_ *testing.T, f *fixture) []byte {
			_, out, _ := f.read(map[string]any{"streams": []any{map[string]any{"stream": map[string]any{"name": "berries", "json_schema": map[string]any{}}, "sync_mode": "full_refresh", "destination_sync_mode": "append"}}}, nil)
			return out
		}},
		{"testsource_spec", events, cmd(func(*fixture) airbyte.Options { return airbyte.Options{Command: airbyte.CommandSpec} })},
		{"testsource_discover", events, cmd(command(airbyte.CommandDiscover))},
		{"testsource_read_incremental_first", events, func(t *testing.T, f *fixture) []byte {
			_, out := read(t, f, nil)
			return out
		}},
		{"testsource_read_incremental_second", events, func(t *testing.T, f *fixture) []byte {
			first, _ := read(t, f, nil) // its own first read, not the first step's
			f.events.Add("late", base.Add(time.Hour))
			_, out := read(t, f, stateArray(t, first))
			return out
		}},
		{"testsource_read_server_error", events, func(_ *testing.T, f *fixture) []byte {
			f.events.FailNext(0, 500)
			_, out, _ := f.read(f.configured(f.discover(), integ.ModeIncremental), nil)
			return out
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			f := s.fixture(t)
			out := s.run(t, f)
			if strings.TrimSpace(string(out)) == "" {
				t.Fatal("no output")
			}
			golden(t, s.name, normalise(out, f.dir))
		})
	}
}
