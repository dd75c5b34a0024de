package integtest_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
)

// fakeTB records failures instead of failing the test, so a test can
// assert that the kit reports a broken connector.
type fakeTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

type fatal struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Error(args ...any)                 { f.Errorf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.Errorf(format, args...); panic(fatal{}) }
func (f *fakeTB) Fatal(args ...any)                 { f.Error(args...); panic(fatal{}) }
func (f *fakeTB) FailNow()                          { panic(fatal{}) }
func (f *fakeTB) Fail()                             { f.Errorf("Fail") }
func (f *fakeTB) Failed() bool                      { f.mu.Lock(); defer f.mu.Unlock(); return len(f.errs) > 0 }

// failures runs fn against a fake TB and returns what it reported.
func failures(t *testing.T, fn func(tb testing.TB)) []string {
	t.Helper()
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(fatal); !ok {
					panic(r)
				}
			}
		}()
		fn(f)
	}()
	return f.errs
}

// wantReported fails t unless the kit reported a failure holding want,
// and printed secret in none.
func wantReported(t *testing.T, got []string, want, secret string) {
	t.Helper()
	found := false
	for _, g := range got {
		if !found && strings.Contains(g, want) {
			found = true
			t.Logf("reported: %.400s", g)
		}
	}
	if !found {
		t.Errorf("want a failure with %q, got %d:\n%s", want, len(got), strings.Join(got, "\n"))
	}
	if strings.Contains(strings.Join(got, "\n"), secret) {
		t.Error("the kit's own report prints the secret")
	}
}

type item struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type memConfig struct {
	APIKey integ.Secret `json:"api_key"`
	Count  int          `json:"count" default:"6"`
}

// memSource is a source of one stream, "items", served from memory by run.
func memSource(run integ.RunnerFunc, opts ...integ.StreamOption) *integ.Source {
	return integ.NewSource("mem", memConfig{}, integ.WithStreams(
		integ.NewStream("items", item{}, run, append([]integ.StreamOption{integ.PrimaryKey("id")}, opts...)...),
	))
}

// cursorState is a stream state of the runner's own: the next id to read.
type cursorState struct {
	Next int `json:"next"`
}

// items emits ids from the state's cursor to count, checkpointing with
// stateFor(id) before (early) or after the record.
func items(early bool, stateFor func(id int) int, emit func(c *integ.HttpContext, id int) error) integ.RunnerFunc {
	return func(c *integ.HttpContext) error {
		var cfg memConfig
		st := cursorState{Next: 1}
		if err := c.Load(&cfg, &st); err != nil {
			return err
		}
		for id := st.Next; id <= cfg.Count; id++ {
			if early {
				if err := c.EmitState(cursorState{Next: stateFor(id)}); err != nil {
					return err
				}
			}
			if err := emit(c, id); err != nil {
				return err
			}
			if !early {
				if err := c.EmitState(cursorState{Next: stateFor(id)}); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

func emitItem(c *integ.HttpContext, id int) error {
	return c.Emit(item{ID: id, Name: fmt.Sprint("item ", id)})
}

const memConfigJSON = `{"api_key":"k3y-N0T-for-printing","count":6}`

func TestConformanceReportsBrokenSources(t *testing.T) {
	var release atomic.Bool // lets the stuck connector's goroutine end with the test
	t.Cleanup(func() { release.Store(true) })
	next := func(id int) int { return id + 1 }
	tests := []struct {
		name string
		src  *integ.Source
		opts []integtest.Option
		want string // in one of the failures
	}{
		{
			name: "good",
			src:  memSource(items(false, next, emitItem)),
		},
		{
			name: "record not matching its schema",
			src: memSource(items(false, next, func(c *integ.HttpContext, id int) error {
				if id == 4 {
					return c.EmitRaw([]byte(`{"id":"four","name":4}`))
				}
				return emitItem(c, id)
			})),
			want: `"items" record does not match its stream's schema`,
		},
		{
			// The engine writes a runner's state at the end of the page it
			// was set in, so a cursor set before a record must point past it.
			name: "state written before its record",
			src:  memSource(items(true, func(id int) int { return id + 2 }, emitItem)),
			want: `loses 1 "items" records`,
		},
		{
			name: "state that skips a record",
			src:  memSource(items(false, func(id int) int { return id + 3 }, emitItem)),
			want: `loses 1 "items" records`,
		},
		{
			name: "stream schema that is not a JSON Schema",
			src:  memSource(items(false, next, emitItem), integ.JSONSchema([]byte(`{"type":"objekt"}`))),
			want: `stream "items": not a valid JSON Schema`,
		},
		{
			// Logs redact config secrets by themselves; a record does not.
			name: "config secret in a record",
			src: memSource(items(false, next, func(c *integ.HttpContext, id int) error {
				var cfg memConfig
				c.Load(&cfg, nil)
				return c.Emit(item{ID: id, Name: "key " + cfg.APIKey.Reveal()})
			})),
			want: "a secret appears in stdout",
		},
		{
			name: "run-time secret in a log",
			src: memSource(items(false, next, func(c *integ.HttpContext, id int) error {
				c.Logger().Info("session sess-42-abc opened")
				return emitItem(c, id)
			})),
			opts: []integtest.Option{integtest.WithSecrets("sess-42-abc")},
			want: "a secret appears in stderr",
		},
		{
			name: "loop that ignores its context",
			src: memSource(func(c *integ.HttpContext) error {
				for !release.Load() {
					time.Sleep(10 * time.Millisecond)
				}
				return nil
			}),
			opts: []integtest.Option{integtest.WithTimeout(300 * time.Millisecond)},
			want: "ignores its context",
		},
		{
			name: "loop that stops when cancelled",
			src: memSource(func(c *integ.HttpContext) error {
				for id := 1; ; id++ {
					if err := emitItem(c, id%3+1); err != nil {
						return err
					}
					select {
					case <-c.Context().Done():
						return c.Context().Err()
					case <-time.After(time.Millisecond):
					}
				}
			}),
			opts: []integtest.Option{integtest.WithTimeout(300 * time.Millisecond)},
			want: "did not finish within",
		},
		{
			name: "failing check",
			src: integ.NewSource("mem", memConfig{},
				integ.WithCheck(func(c *integ.HttpContext) error { return integ.ConfigErrorf("the API key is wrong") }),
				integ.WithStreams(integ.NewStream("items", item{}, items(false, next, emitItem), integ.PrimaryKey("id")))),
			want: "the API key is wrong",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.src.Err(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got := failures(t, func(tb testing.TB) { integtest.Conformance(tb, tt.src, memConfigJSON, tt.opts...) })
			if tt.want == "" {
				if len(got) > 0 {
					t.Fatalf("a good source failed:\n%s", strings.Join(got, "\n"))
				}
				return
			}
			wantReported(t, got, tt.want, "k3y-N0T-for-printing")
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
