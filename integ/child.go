package integ

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// ChildOf makes a stream a child of another: its runner is called once per
// parent record (a partition), with that record at HttpContext.Parent and
// its key at HttpContext.Partition (a detail request per list entry, the
// issues of each repository). The parent's records are read even when only
// the child is selected. Children may have children of their own. A child
// sees only the parent records its parent's run reads: an incremental
// parent's are those changed since its bookmark, so keep a parent full
// refresh when every partition must be read.
//
// An incremental child keeps one bookmark per partition, in its stream
// state under "partitions" (see PartitionBy): c.Bookmark() and the state
// c.Load reads in a child's runner are its partition's, and a partition
// the state does not know starts with none. Errors are decided per
// partition by the stream's OnError policy, then the source's: Skip drops
// that partition with a warning, Fail ends the child stream only.
func ChildOf(parent string) StreamOption { return func(s *Stream) { s.Parent = parent } }

// PartitionBy sets how a child stream names the partition of a parent
// record (a repository's "full_name", say). The key names the partition's
// state, so it must be stable from sync to sync and unique among the
// parent's records. Without it the key is the parent's primary key values
// (the parent's whole record when it has none).
func PartitionBy(key func(parent gjson.Result) string) StreamOption {
	return func(s *Stream) { s.partitionBy = key }
}

// WithPartitionParallelism caps how many partitions of child streams are
// read at once (by default the run's max_concurrent_requests bounds them,
// so that partitions keep enough requests in flight to reach the rate).
// Whatever the bound, each child stream's output stays in parent order.
func WithPartitionParallelism(n int) SourceOption {
	return func(s *Source) { s.partitionParallel = n }
}

// Parent is the parent record of a child stream's invocation; it does not
// exist for other streams.
func (c *HttpContext) Parent() gjson.Result {
	if c.w == nil || c.w.part == nil {
		return gjson.Result{}
	}
	return c.w.part.parent
}

// Partition is the key of a child stream's invocation (see PartitionBy); ""
// for other streams.
func (c *HttpContext) Partition() string {
	if c.w == nil || c.w.part == nil {
		return ""
	}
	return c.w.part.key
}

// partitionParallelism is how many partitions run at once: as many as
// requests may be in flight, within the source's own cap.
func (e *engine) partitionParallelism() int {
	n := e.http.quota.Cap()
	if c := e.src.partitionParallel; c > 0 {
		n = min(n, c)
	}
	return n
}

// partitionKey is the child's own key for a parent record.
func partitionKey(child, parent *Stream, rec gjson.Result) string {
	if child.partitionBy != nil {
		return child.partitionBy(rec)
	}
	switch len(parent.PrimaryKey) {
	case 0:
		return rec.Raw
	case 1:
		return rec.Get(gjson.Escape(parent.PrimaryKey[0])).String()
	}
	vals := make([]json.RawMessage, len(parent.PrimaryKey))
	for i, k := range parent.PrimaryKey {
		v := rec.Get(gjson.Escape(k))
		vals[i] = json.RawMessage(v.Raw)
		if !v.Exists() {
			vals[i] = json.RawMessage("null")
		}
	}
	b, _ := json.Marshal(vals)
	return string(b)
}

// scopedKey names a partition in its stream's state. A first-level child's
// partition is its own key; a deeper one's is the JSON array of its
// ancestors' keys and its own (["acme/one","7"]), so that keys of different
// ancestors cannot collide.
func scopedKey(scope []string) string {
	if len(scope) == 1 {
		return validKey(scope[0])
	}
	b, _ := json.Marshal(scope)
	return string(b)
}

// checkParents accepts trees of parent/child streams of any depth, and
// rejects unknown parents and cycles.
func checkParents(streams []*Stream) []error {
	byName := map[string]*Stream{}
	for _, st := range streams {
		byName[st.Name] = st
	}
	var errs []error
	for _, st := range streams {
		if st.Parent == "" {
			continue
		}
		path := []string{st.Name}
		for cur := st; cur.Parent != ""; {
			p, ok := byName[cur.Parent]
			if !ok {
				errs = append(errs, fmt.Errorf("stream %q: parent stream %q is not declared", cur.Name, cur.Parent))
				break
			}
			if slices.Contains(path, p.Name) {
				if p.Name == st.Name { // report a cycle once, from its member
					errs = append(errs, fmt.Errorf("stream %q: parent streams form a cycle (%s); a stream cannot be its own ancestor", st.Name, strings.Join(append(path, p.Name), " -> ")))
				}
				break
			}
			path = append(path, p.Name)
			cur = p
		}
	}
	return slices.CompactFunc(errs, func(a, b error) bool { return a.Error() == b.Error() })
}

// group is a top-level stream run with the runs of its descendants.
type group struct {
	parent      *StreamPlan
	parentIndex int // position in the plan; -1 when the parent is silent
	silent      bool
	// children are every descendant, each after its own parent; childIndex
	// is the position in the plan, -1 for a silent one that only feeds its
	// own children.
	children   []*StreamPlan
	childIndex []int
}

func (g *group) indexes() []int {
	var out []int
	for _, i := range g.childIndex {
		if i >= 0 {
			out = append(out, i)
		}
	}
	if !g.silent {
		out = append(out, g.parentIndex)
	}
	return out
}

// groupRuns attaches every child run to its root's group, adding silent
// runs for ancestors that are not selected.
func groupRuns(src *Source, runs []*StreamPlan) []*group {
	index := map[string]int{}
	for i, run := range runs {
		index[run.Stream.Name] = i
	}
	byName := map[string]*group{}
	var out []*group
	root := func(name string) *group {
		if g, ok := byName[name]; ok {
			return g
		}
		g := &group{parentIndex: -1, silent: true}
		if i, ok := index[name]; ok {
			g.parent, g.parentIndex, g.silent = runs[i], i, false
		} else {
			ps := src.Stream(name)
			g.parent = &StreamPlan{Stream: ps, Mode: ModeFullRefresh, Schema: ps.Schema}
		}
		byName[name] = g
		out = append(out, g)
		return g
	}
	for _, run := range runs {
		if run.Stream.Parent == "" {
			root(run.Stream.Name)
		}
	}
	added := map[string]bool{}
	for _, run := range runs {
		if run.Stream.Parent == "" {
			continue
		}
		// The chain from the root down to this run.
		var chain []*Stream
		for st := run.Stream; st != nil && st.Parent != ""; st = src.Stream(st.Parent) {
			chain = append(chain, st)
			if len(chain) > len(src.Streams) {
				break // a cycle: NewSource has refused it already
			}
		}
		top := chain[len(chain)-1].Parent
		g := root(top)
		for j := len(chain) - 1; j >= 0; j-- {
			st := chain[j]
			if added[st.Name] {
				continue
			}
			added[st.Name] = true
			if i, ok := index[st.Name]; ok {
				g.children = append(g.children, runs[i])
				g.childIndex = append(g.childIndex, i)
			} else {
				g.children = append(g.children, &StreamPlan{Stream: st, Mode: ModeFullRefresh, Schema: st.Schema})
				g.childIndex = append(g.childIndex, -1)
			}
		}
	}
	return out
}

// validKey is a key as it reads back from the state: JSON carries only
// UTF-8, so invalid bytes become U+FFFD, as encoding/json writes them.
func validKey(k string) string {
	if utf8.ValidString(k) {
		return k
	}
	b, _ := json.Marshal(k)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}
