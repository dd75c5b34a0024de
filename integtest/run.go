package integtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/integ"
	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/requests"
)

// stopGrace is how long a run whose deadline passed may take to stop
// before the kit gives up on it.
const stopGrace = time.Second

// Run runs one command of src's binary in process (cmd/cli.Execute) with
// args, e.g. {"spec"}, {"--about"} or {"check", "--config", path}, and
// parses its output in the protocol the args speak. It fails the test when
// the run does not end in time, writes anything but protocol messages to
// stdout, exits non-zero (unless WithExpectedFailure) or prints a secret
// given with WithSecrets.
func Run(t testing.TB, src *integ.Source, args []string, opts ...Option) *Result {
	t.Helper()
	o := newOptions(opts)
	return run(t, src, args, o)
}

func run(t testing.TB, src *integ.Source, args []string, o options) *Result {
	t.Helper()
	args = append(append(append([]string{}, args...), "--log-level", o.logLevel), o.args...)
	r := &Result{Protocol: protocolOf(args), Args: args, secrets: o.secrets, label: o.label}

	tuning := integ.SyncOptions{
		HTTP: integ.HTTPOptions{Retry: requests.RetryOptions{
			MaxAttempts: 3,
			Sleep:       func(context.Context, time.Duration) error { return nil },
		}},
		CheckpointRecords:  o.checkpointRecords,
		CheckpointInterval: o.checkpointInterval,
		Now:                o.now,
	}
	if o.http != nil {
		tuning.HTTP = *o.http
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var stdout, stderr lockedBuffer
	fut := conc.GoContext(cli.WithSyncOptions(ctx, tuning), func(ctx context.Context) (int, error) {
		return cli.Execute(ctx, src, args, &stdout, &stderr), nil
	})
	wait, stop := context.WithTimeout(context.Background(), o.timeout+stopGrace)
	defer stop()
	code, err := fut.AwaitContext(wait)
	r.Stdout, r.Stderr = stdout.Bytes(), stderr.Bytes()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		r.ExitCode = -1
		t.Fatalf("%s: still running %v after its %v deadline was cancelled: the connector ignores its context (a loop?)", r, stopGrace, o.timeout)
		return r
	case err != nil: // a panic in the command tree
		r.ExitCode = -1
		t.Errorf("%s: %v", r, err)
		return r
	case ctx.Err() != nil:
		t.Fatalf("%s: did not finish within %v (a loop? raise WithTimeout if the fixture is big)", r, o.timeout)
	}
	r.ExitCode = code
	r.parse(t)
	if code != 0 && !o.expectFailure {
		t.Errorf("%s: exit code %d: %s", r, code, r.Failure())
	}
	r.checkSecrets(t, o.secrets)
	return r
}

// protocolOf tells which protocol a command line speaks: the Airbyte
// commands are subcommands, the Singer tap is the root command.
func protocolOf(args []string) Protocol {
	if len(args) > 0 && slices.Contains([]string{"spec", "check", "discover", "read"}, args[0]) {
		return Airbyte
	}
	return Singer
}

// minSecret is the shortest value looked for: "k" would be found in every
// output and prove nothing (integ's redaction has the same floor).
const minSecret = 4

// checkSecrets fails the test when stdout or stderr holds a secret.
func (r *Result) checkSecrets(t testing.TB, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) < minSecret {
			continue
		}
		for _, out := range []struct {
			name string
			b    []byte
		}{{"stdout", withoutControl(r.Stdout)}, {"stderr", r.Stderr}} {
			if i := bytes.Index(out.b, []byte(s)); i >= 0 {
				t.Errorf("%s: a secret appears in %s: %q", r, out.name, r.quote([]byte(around(out.b, i, len(s)))))
			}
		}
	}
}

// withoutControl drops Airbyte CONTROL lines: a CONNECTOR_CONFIG message
// carries the whole new config, its secrets too, as the protocol requires.
func withoutControl(b []byte) []byte {
	if !bytes.Contains(b, []byte(`"CONTROL"`)) {
		return b
	}
	var out []byte
	for line := range bytes.Lines(b) {
		if !bytes.HasPrefix(line, []byte(`{"type":"CONTROL"`)) {
			out = append(out, line...)
		}
	}
	return out
}

// around quotes the line around a secret with the secret itself masked.
func around(b []byte, i, n int) string {
	start := bytes.LastIndexByte(b[:i], '\n') + 1
	end := bytes.IndexByte(b[i:], '\n')
	if end < 0 {
		end = len(b)
	} else {
		end += i
	}
	line := string(b[start:i]) + "<SECRET>" + string(b[i+n:end])
	if len(line) > 300 {
		line = line[:300] + "..."
	}
	return line
}

// lockedBuffer is written by the run and read by the kit, possibly while a
// run that ignores its deadline still writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// files writes the documents of a run in a directory of their own.
type files struct {
	t   testing.TB
	dir string
}

func newFiles(t testing.TB) *files { return &files{t: t, dir: t.TempDir()} }

// write stores v (JSON-encoded unless it is a string, []byte or
// json.RawMessage) and returns its path.
func (f *files) write(name string, v any) string {
	f.t.Helper()
	b, err := jsonBytes(v)
	if err != nil {
		f.t.Fatalf("integtest: %s: %v", name, err)
	}
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		f.t.Fatalf("integtest: %v", err)
	}
	return p
}

func jsonBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return []byte(x), nil
	case []byte:
		return x, nil
	case json.RawMessage:
		return x, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", err)
	}
	return b, nil
}
