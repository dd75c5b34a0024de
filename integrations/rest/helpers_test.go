package rest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

// lineProtocol writes records as {"record":...} lines and checkpoints as
// {"state":...} lines holding every stream's committed state.
type lineProtocol struct{}

func (lineProtocol) Stream(*driver.Stream) driver.StreamEncoder { return lineEncoder{} }

type lineEncoder struct{}

func (lineEncoder) Start(dst []byte) []byte             { return dst }
func (lineEncoder) Page(dst []byte, _ time.Time) []byte { return dst }
func (lineEncoder) Record(dst, rec []byte) []byte {
	dst = append(dst, `{"record":`...)
	dst = append(dst, rec...)
	return append(dst, "}\n"...)
}
func (lineEncoder) State(dst []byte, cp *driver.Checkpoint) []byte {
	b, _ := json.Marshal(cp.All)
	dst = append(dst, `{"state":`...)
	dst = append(dst, b...)
	return append(dst, "}\n"...)
}
func (lineEncoder) End(dst []byte, _ *driver.StreamResult) []byte { return dst }

// syncResult is what a test sync produced.
type syncResult struct {
	Records []json.RawMessage
	Lines   int
	State   *integ.State // the last checkpoint's state
}

// ids returns the "id" of every record, as text.
func (r *syncResult) ids() []string {
	out := make([]string, len(r.Records))
	for i, rec := range r.Records {
		var v struct{ ID json.Number }
		_ = json.Unmarshal(rec, &v)
		out[i] = v.ID.String()
	}
	return out
}

// fastRetry keeps failing tests quick.
var fastRetry = integ.HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: 1}, Timeout: 10 * time.Second}

// syncDeadline bounds every sync and check a test runs: a connector that
// loops (a pagination loop, a retry storm) fails its test with a deadline
// error instead of hanging until go test's own 10-minute timeout.
const syncDeadline = 20 * time.Second

// testContext returns a context that ends after syncDeadline, or with the
// test.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), syncDeadline)
	t.Cleanup(cancel)
	return ctx
}

// resolve validates a config and resolves its streams, as every command
// does first.
func resolve(t *testing.T, config string) (*integ.Source, *integ.Config, error) {
	t.Helper()
	src := Source()
	if err := src.Err(); err != nil {
		t.Fatalf("source declaration: %v", err)
	}
	cfg, err := src.ParseConfig(json.RawMessage(config))
	if err != nil {
		return nil, nil, err
	}
	resolved, err := src.Resolve(testContext(t), cfg, fastRetry)
	return resolved, cfg, err
}

// runSync resolves config and syncs every stream from state (nil: first
// sync).
func runSync(t *testing.T, config string, state *integ.State) (*syncResult, error) {
	t.Helper()
	src, cfg, err := resolve(t, config)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	err = src.Sync(testContext(t), integ.SyncOptions{
		Config: cfg, State: state, Protocol: lineProtocol{}, Output: driver.NewOutput(&out), HTTP: fastRetry,
	})
	res := &syncResult{State: integ.NewState()}
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		res.Lines++
		var line struct {
			Record json.RawMessage            `json:"record"`
			State  map[string]json.RawMessage `json:"state"`
		}
		if jerr := json.Unmarshal(sc.Bytes(), &line); jerr != nil {
			t.Fatalf("output line %d is not one JSON message: %v: %s", res.Lines, jerr, sc.Bytes())
		}
		if line.Record != nil {
			res.Records = append(res.Records, line.Record)
		}
		if line.State != nil {
			res.State.Streams = line.State
		}
	}
	return res, err
}

// mustContain fails unless err's text has every part.
func mustContain(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q\ndoes not contain %q", err, p)
		}
	}
}
