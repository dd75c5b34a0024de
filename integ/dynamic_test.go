package integ

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integ/integ/integ/driver"
)

// org is a fake API for the stream list and schema resolver: which streams
// it lists, their parents, and what resolving each schema does.
type org struct {
	listed  []string
	parents map[string]string
	// schema returns the schema of a stream, or an error, or panics.
	schema func(name string) (*Schema, error)

	mu       sync.Mutex
	resolved map[string]int
	lists    int
	inFlight atomic.Int32
	maxIn    atomic.Int32
}

func idSchema() *Schema {
	return &Schema{Type: Types{"object"}, Properties: []Property{{Name: "id", Schema: &Schema{Type: Types{"integer"}}}}}
}

func (o *org) source(static ...*Stream) *Source {
	noop := RunnerFunc(func(*HttpContext) error { return nil })
	return NewSource("org", struct{}{},
		WithStreams(static...),
		WithStreamList(func(c *HttpContext) ([]*Stream, error) {
			o.mu.Lock()
			o.lists++
			o.mu.Unlock()
			var out []*Stream
			for _, n := range o.listed {
				opts := []StreamOption{PrimaryKey("id")}
				if p := o.parents[n]; p != "" {
					opts = append(opts, ChildOf(p))
				}
				out = append(out, NewStream(n, nil, noop, opts...))
			}
			return out, nil
		}),
		WithSchemaResolver(func(c *HttpContext, name string) (*Schema, error) {
			n := o.inFlight.Add(1)
			defer o.inFlight.Add(-1)
			for {
				m := o.maxIn.Load()
				if n <= m || o.maxIn.CompareAndSwap(m, n) {
					break
				}
			}
			o.mu.Lock()
			if o.resolved == nil {
				o.resolved = map[string]int{}
			}
			o.resolved[name]++
			o.mu.Unlock()
			if o.schema != nil {
				return o.schema(name)
			}
			return idSchema(), nil
		}),
	)
}

func emptyConfig(t *testing.T, s *Source) *Config {
	t.Helper()
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	cfg, err := s.ParseConfig(json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func names(s *Source) string { return strings.Join(s.StreamNames(), ",") }

func TestResolveStreamsDiscover(t *testing.T) {
	static := NewStream("static", struct {
		ID int `json:"id"`
	}{}, func(*HttpContext) error { return nil }, PrimaryKey("id"))
	tests := []struct {
		name    string
		org     *org
		want    string // streams discovered
		failed  string // streams reported, "name: message" joined by "; "
		listErr string // the whole discovery fails
	}{
		{"all resolve", &org{listed: []string{"a", "b", "c"}}, "static,a,b,c", "", ""},
		{"one fails, its child with it",
			&org{listed: []string{"a", "b", "kid"}, parents: map[string]string{"kid": "b"}, schema: func(n string) (*Schema, error) {
				if n == "b" {
					return nil, errors.New("describe b: 500")
				}
				return idSchema(), nil
			}},
			"static,a", `b: describe b: 500; kid: its parent stream "b" could not be discovered`, ""},
		{"a panic is one stream's failure",
			&org{listed: []string{"a", "b"}, schema: func(n string) (*Schema, error) {
				if n == "a" {
					panic("boom")
				}
				return idSchema(), nil
			}},
			"static,b", "a: panic recovered: boom", ""},
		{"no schema",
			&org{listed: []string{"a"}, schema: func(string) (*Schema, error) { return nil, nil }},
			"static", "a: the schema resolver returned no schema", ""},
		{"key not in the schema",
			&org{listed: []string{"a"}, schema: func(string) (*Schema, error) {
				return &Schema{Type: Types{"object"}, Properties: []Property{{Name: "x", Schema: &Schema{}}}}, nil
			}},
			"static", `a: stream "a": primary key "id" is not a property of its schema`, ""},
		{"listed twice", &org{listed: []string{"a", "a"}}, "", "", `stream "a" declared twice`},
		{"named like a static stream", &org{listed: []string{"static"}}, "", "", `listed stream "static" has the name of a static stream`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.org.source(static)
			cfg := emptyConfig(t, src)
			got, err := src.ResolveStreams(testCtx(t), cfg, ResolveOptions{Schemas: SchemasAll})
			if tt.listErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.listErr) || got != nil || KindOf(err) != ConfigFailure {
					t.Fatalf("got %v, %v; want a config error containing %q", got, err, tt.listErr)
				}
				return
			}
			var failed []string
			for _, se := range StreamErrors(err) {
				msg := se.Err.Error()
				msg, _, _ = strings.Cut(msg, "\n") // a panic's stack
				failed = append(failed, se.Stream+": "+msg)
			}
			if f := strings.Join(failed, "; "); f != tt.failed {
				t.Errorf("failed %q, want %q", f, tt.failed)
			}
			if (err != nil) != (tt.failed != "") || err != nil && !errors.Is(err, ErrStreamsFailed) {
				t.Errorf("err = %v", err)
			}
			if got == nil {
				t.Fatal("no source")
			}
			if n := names(got); n != tt.want {
				t.Errorf("streams %s, want %s", n, tt.want)
			}
			for _, st := range got.Streams {
				if st.Schema == nil {
					t.Errorf("stream %q has no schema", st.Name)
				}
			}
			if names(src) != "static" {
				t.Errorf("the declared source changed: %s", names(src))
			}
			if m := tt.org.maxIn.Load(); m > resolveParallel {
				t.Errorf("%d resolver calls at once, want <= %d", m, resolveParallel)
			}
		})
	}
}

func TestResolveStreamsRead(t *testing.T) {
	given := idSchema()
	tests := []struct {
		name    string
		catalog *Catalog
		want    string // resolver calls, sorted
		err     string
	}{
		{"schema in the catalog", &Catalog{Streams: []CatalogStream{{Name: "b", Schema: given}}}, "", ""},
		{"no schema in the catalog", &Catalog{Streams: []CatalogStream{{Name: "b"}}}, "b", ""},
		{"catalog schema without the key", &Catalog{Streams: []CatalogStream{{Name: "b", Schema: &Schema{Properties: []Property{{Name: "x", Schema: &Schema{}}}}}}}, "b", ""},
		{"a child needs its parent", &Catalog{Streams: []CatalogStream{{Name: "kid"}}}, "a,kid", ""},
		{"a child's parent in the catalog", &Catalog{Streams: []CatalogStream{{Name: "kid", Schema: given}, {Name: "a", Schema: given}}}, "", ""},
		{"default selection", nil, "a,b,c,kid", ""},
		{"a selected stream fails", &Catalog{Streams: []CatalogStream{{Name: "c"}, {Name: "b"}}}, "b,c", `stream "c": describe c: 403`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &org{listed: []string{"a", "b", "c", "kid"}, parents: map[string]string{"kid": "a"}, schema: func(n string) (*Schema, error) {
				if n == "c" {
					return nil, errors.New("describe c: 403")
				}
				return idSchema(), nil
			}}
			if tt.catalog == nil {
				o.schema = nil
			}
			src := o.source()
			cfg := emptyConfig(t, src)
			ctx := testCtx(t)
			listed, err := src.ResolveStreams(ctx, cfg, ResolveOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := listed.ResolveStreams(ctx, cfg, ResolveOptions{Schemas: SchemasSelected, Catalog: tt.catalog})
			var calls []string
			for _, n := range []string{"a", "b", "c", "kid"} {
				for range o.resolved[n] {
					calls = append(calls, n)
				}
			}
			if c := strings.Join(calls, ","); c != tt.want {
				t.Errorf("resolver calls %q, want %q", c, tt.want)
			}
			if o.lists != 1 {
				t.Errorf("%d list calls, want 1", o.lists)
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.err != "" {
				// The stream fails when run, with the resolver's error;
				// the other selected stream is synced.
				var out strings.Builder
				err := got.Sync(ctx, SyncOptions{Config: cfg, Catalog: tt.catalog, Protocol: lineProtocol{}, Output: driver.NewOutput(&out)})
				if err == nil || !strings.Contains(err.Error(), tt.err) || len(StreamErrors(err)) != 1 || StreamErrors(err)[0].Stream != "c" {
					t.Fatalf("sync error %v; want one containing %q", err, tt.err)
				}
				if !strings.Contains(out.String(), "END b ok") || !strings.Contains(out.String(), "END c failed") {
					t.Errorf("output:\n%s", out.String())
				}
				return
			}
			if _, err := got.Plan(tt.catalog); err != nil {
				t.Errorf("plan: %v", err)
			}
			for _, st := range listed.Streams {
				if st.Schema != nil {
					t.Errorf("the listed source's stream %q changed", st.Name)
				}
			}
		})
	}
}

func TestResolveStreamsMisc(t *testing.T) {
	t.Run("no resolver", func(t *testing.T) {
		src := NewSource("org", struct{}{}, WithStreamList(func(*HttpContext) ([]*Stream, error) {
			return []*Stream{NewStream("a", nil, func(*HttpContext) error { return nil })}, nil
		}))
		_, err := src.ResolveStreams(testCtx(t), emptyConfig(t, src), ResolveOptions{})
		if err == nil || !strings.Contains(err.Error(), `stream "a": no record type or schema`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		o := &org{listed: []string{"a", "b"}}
		src := o.source()
		ctx, cancel := context.WithCancel(testCtx(t))
		listed, err := src.ResolveStreams(ctx, emptyConfig(t, src), ResolveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		_, err = listed.ResolveStreams(ctx, emptyConfig(t, src), ResolveOptions{Schemas: SchemasAll})
		if !errors.Is(err, ErrInterrupted) {
			t.Errorf("err = %v, want ErrInterrupted", err)
		}
	})
	t.Run("Resolve fails on any stream", func(t *testing.T) {
		o := &org{listed: []string{"a", "b"}, schema: func(n string) (*Schema, error) {
			if n == "b" {
				return nil, fmt.Errorf("stream %q: gone", n)
			}
			return idSchema(), nil
		}}
		src := o.source()
		got, err := src.Resolve(testCtx(t), emptyConfig(t, src), HTTPOptions{})
		if got != nil || err == nil || !strings.Contains(err.Error(), "\n"+`stream "b": gone`) {
			t.Errorf("got %v, %v", got, err)
		}
	})
}

// A source with its own check resolves no schema for it: the default check
// reads the first stream, a custom one may not touch any.
func TestCustomCheckResolvesNoSchema(t *testing.T) {
	var resolved, checked int
	src := NewSource("org", struct{}{},
		WithStreamList(func(*HttpContext) ([]*Stream, error) {
			return []*Stream{NewStream("a", nil, func(*HttpContext) error { return nil })}, nil
		}),
		WithSchemaResolver(func(*HttpContext, string) (*Schema, error) { resolved++; return idSchema(), nil }),
		WithCheck(func(*HttpContext) error { checked++; return nil }))
	cfg := emptyConfig(t, src)
	listed, err := src.ResolveStreams(testCtx(t), cfg, ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := listed.Check(testCtx(t), cfg, nil, HTTPOptions{}); err != nil {
		t.Fatal(err)
	}
	if checked != 1 || resolved != 0 {
		t.Errorf("check ran %d times and resolved %d schemas; want 1 and 0", checked, resolved)
	}
}

// Before its streams are listed (Airbyte's spec), a dynamic source says it
// may have incremental streams; a static one says what its streams do.
func TestSupportsIncremental(t *testing.T) {
	type rec struct {
		ID int    `json:"id"`
		U  string `json:"u"`
	}
	noop := func(*HttpContext) error { return nil }
	tests := []struct {
		name string
		src  *Source
		want bool
	}{
		{"static, full refresh", NewSource("s", struct{}{}, WithStreams(NewStream("a", rec{}, noop))), false},
		{"static, incremental", NewSource("s", struct{}{}, WithStreams(NewStream("a", rec{}, noop), NewStream("b", rec{}, noop, Incremental("u")))), true},
		{"listed at run time", (&org{listed: []string{"a"}}).source(NewStream("static", rec{}, noop)), true},
	}
	for _, tt := range tests {
		if got := tt.src.SupportsIncremental(); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
