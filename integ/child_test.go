package integ

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func declStream(name, parent string, opts ...StreamOption) *Stream {
	opts = append([]StreamOption{ChildOf(parent)}, opts...)
	return NewStream(name, event{}, func(*HttpContext) error { return nil }, opts...)
}

func TestCheckParents(t *testing.T) {
	tests := []struct {
		name    string
		streams []*Stream
		want    []string // substrings of the errors, in order; none: accepted
	}{
		{"three levels", []*Stream{declStream("a", ""), declStream("b", "a"), declStream("c", "b"), declStream("d", "c")}, nil},
		{"siblings", []*Stream{declStream("a", ""), declStream("b", "a"), declStream("c", "a")}, nil},
		{"unknown parent", []*Stream{declStream("a", ""), declStream("b", "x")}, []string{`stream "b": parent stream "x" is not declared`}},
		{"unknown grand-parent reported once", []*Stream{declStream("b", "x"), declStream("c", "b")}, []string{`parent stream "x" is not declared`}},
		{"own parent", []*Stream{declStream("a", "a")}, []string{`stream "a": parent streams form a cycle (a -> a)`}},
		{"cycle of two", []*Stream{declStream("a", "b"), declStream("b", "a")}, []string{`(a -> b -> a)`, `(b -> a -> b)`}},
		{"child of a cycle", []*Stream{declStream("a", "b"), declStream("b", "a"), declStream("c", "a")}, []string{`(a -> b -> a)`, `(b -> a -> b)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := checkParents(tt.streams)
			if len(errs) != len(tt.want) {
				t.Fatalf("errors %v, want %d", errs, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %q does not say %q", errs[i], w)
				}
			}
		})
	}
	src := NewSource("s", eventsConfig{}, WithStreams(declStream("a", "b"), declStream("b", "a")))
	if src.Err() == nil || !strings.Contains(src.Err().Error(), "cycle") {
		t.Fatalf("NewSource accepted a cycle: %v", src.Err())
	}
}

func TestPartitionKey(t *testing.T) {
	rec := gjson.Parse(`{"id":7,"org":"acme","name":"one","full_name":"acme/one","a.b":"dotted"}`)
	tests := []struct {
		name   string
		child  *Stream
		parent *Stream
		want   string
	}{
		{"PartitionBy", declStream("c", "p", PartitionBy(func(r gjson.Result) string { return r.Get("full_name").String() })), declStream("p", "", PrimaryKey("id")), "acme/one"},
		{"one primary key", declStream("c", "p"), &Stream{PrimaryKey: []string{"id"}}, "7"},
		{"a dotted primary key is a name, not a path", declStream("c", "p"), &Stream{PrimaryKey: []string{"a.b"}}, "dotted"},
		{"composite primary key", declStream("c", "p"), &Stream{PrimaryKey: []string{"org", "name", "missing"}}, `["acme","one",null]`},
		{"no primary key: the record", declStream("c", "p"), &Stream{}, rec.Raw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := partitionKey(tt.child, tt.parent, rec); got != tt.want {
				t.Fatalf("key %q, want %q", got, tt.want)
			}
		})
	}
	// Scoped keys of different ancestors cannot collide, whatever the keys.
	a, b := scopedKey([]string{"a/b", "c"}), scopedKey([]string{"a", "b/c"})
	if a == b || scopedKey([]string{"acme/one"}) != "acme/one" {
		t.Fatalf("scoped keys: %q %q", a, b)
	}
	var back []string
	if err := json.Unmarshal([]byte(a), &back); err != nil || !slices.Equal(back, []string{"a/b", "c"}) {
		t.Fatalf("scoped key %q is not the JSON array of its scope", a)
	}
}

func TestGroupRunsAddsSilentAncestors(t *testing.T) {
	src := NewSource("s", eventsConfig{}, WithStreams(
		NewStream("root", event{}, func(*HttpContext) error { return nil }, PrimaryKey("id")),
		declStream("mid", "root"), declStream("leaf", "mid"), declStream("other", "root"),
		NewStream("alone", event{}, func(*HttpContext) error { return nil }),
	))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	plan := func(names ...string) []*StreamPlan {
		c := &Catalog{}
		for _, n := range names {
			c.Streams = append(c.Streams, CatalogStream{Name: n})
		}
		runs, err := src.Plan(c)
		if err != nil {
			t.Fatal(err)
		}
		return runs
	}
	type shape struct {
		root     string
		silent   bool
		children []string
		index    []int
	}
	tests := []struct {
		name    string
		catalog []string
		want    []shape
	}{
		{"leaf only", []string{"leaf"}, []shape{{"root", true, []string{"mid", "leaf"}, []int{-1, 0}}}},
		{"leaf before its parents", []string{"leaf", "alone", "mid", "root"}, []shape{{"alone", false, nil, nil}, {"root", false, []string{"mid", "leaf"}, []int{2, 0}}}},
		{"two branches", []string{"other", "leaf"}, []shape{{"root", true, []string{"other", "mid", "leaf"}, []int{0, -1, 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := plan(tt.catalog...)
			gs := groupRuns(src, runs)
			var got []shape
			for _, g := range gs {
				s := shape{root: g.parent.Stream.Name, silent: g.silent, index: g.childIndex}
				for _, c := range g.children {
					s.children = append(s.children, c.Stream.Name)
				}
				got = append(got, s)
				// Every plan index is reported by exactly one group.
				for _, i := range g.indexes() {
					if i < 0 || i >= len(runs) {
						t.Fatalf("index %d out of the plan", i)
					}
				}
			}
			slices.SortFunc(got, func(a, b shape) int { return strings.Compare(a.root, b.root) })
			if len(got) != len(tt.want) {
				t.Fatalf("groups %+v, want %+v", got, tt.want)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.root != w.root || g.silent != w.silent || !slices.Equal(g.children, w.children) || !slices.Equal(g.index, w.index) {
					t.Fatalf("group %+v, want %+v", g, w)
				}
			}
		})
	}
}

func TestCheckPartitionState(t *testing.T) {
	st := declStream("issues", "repos", Incremental("updated_at"))
	tests := []struct {
		state string
		want  string // "" accepted
	}{
		{`{}`, ""},
		{`{"partitions":{}}`, ""},
		{`{"partitions":{"acme/one":{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:00:00Z"},"acme/two":{}}}`, ""},
		{`{"partitions":[]}`, `"partitions" must be an object`},
		{`{"partitions":{"acme/one":3}}`, `partition "acme/one" must be an object`},
		{`{"partitions":{"acme/one":{"replication_key":"created_at"}}}`, `partition "acme/one" has replication key "created_at"`},
	}
	for _, tt := range tests {
		err := checkPartitionState(st, json.RawMessage(tt.state))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.state, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrState) || KindOf(err) != ConfigFailure):
			t.Errorf("%s: error %v, want a config failure saying %s", tt.state, err, tt.want)
		}
	}
}

// FuzzPartitionState: whatever state a user passes for a child stream is
// either refused with a config failure or carried to the next state intact.
func FuzzPartitionState(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"partitions":{"acme/one":{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:00:00Z"}}}`,
		`{"partitions":{"[\"a\",\"b\"]":{"replication_key_value":3},"x":{}},"mine":[1,2]}`,
		`{"partitions":{"a":1}}`,
		`{"partitions":{"a\u0000b":{"k":"\ud83d\ude00"}}, "partitions":{}}`,
	} {
		f.Add([]byte(s))
	}
	st := declStream("issues", "repos", Incremental("updated_at"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if checkStateObject("issues", data) != nil {
			return
		}
		if err := checkPartitionState(st, data); err != nil {
			if KindOf(err) != ConfigFailure || !errors.Is(err, ErrState) {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		in := loadPartitions(data)
		cs := &childStream{run: &streamWriter{info: &StreamPlan{Stream: st}}, parts: in}
		out, err := cs.stateValue(data)
		if err != nil {
			if len(in) == 0 {
				t.Fatalf("state with no partitions: %v", err)
			}
			return // a state object json cannot decode into a map (duplicate keys of other types)
		}
		if checkStateObject("issues", out) != nil {
			t.Fatalf("next state is not a JSON object: %s", out)
		}
		back := loadPartitions(out)
		for k, v := range in {
			if string(back[k]) != string(v) {
				t.Fatalf("partition %q: %s became %s (state %s)", k, v, back[k], out)
			}
		}
	})
}
