package integ

import (
	"context"
	"fmt"

	"github.com/integ/integ/internal/conc"
	"github.com/tidwall/gjson"
)

// ChildOf makes a stream a child of another: its runner is called once per
// parent record, with that record at HttpContext.Parent (a detail request per
// list entry, say). The parent's records are read even when only the child
// is selected. A child's state stays one bookmark whatever the number of
// parents: an incremental child moves it when the whole stream completes.
func ChildOf(parent string) StreamOption { return func(s *Stream) { s.Parent = parent } }

// ChildParallelism bounds how many child requests run at once per parent
// page.
const ChildParallelism = 4

// Parent is the parent record of a child stream's invocation; it does not
// exist for other streams.
func (c *HttpContext) Parent() gjson.Result {
	if c.run == nil {
		return gjson.Result{}
	}
	return c.run.parent
}

// group is a stream run with the child runs its records feed.
type group struct {
	parent      *StreamRun
	parentIndex int // position in the plan; -1 when the parent is silent
	silent      bool
	children    []*StreamRun
	childIndex  []int
}

func (g *group) indexes() []int {
	out := append([]int(nil), g.childIndex...)
	if !g.silent {
		out = append(out, g.parentIndex)
	}
	return out
}

// groupRuns attaches every child run to its parent's run, adding a silent
// run for a parent that is not selected.
func groupRuns(src *Source, runs []*StreamRun) []*group {
	byName := map[string]*group{}
	var out []*group
	for i, run := range runs {
		if run.Stream.Parent != "" {
			continue
		}
		g := &group{parent: run, parentIndex: i}
		byName[run.Stream.Name] = g
		out = append(out, g)
	}
	for i, run := range runs {
		p := run.Stream.Parent
		if p == "" {
			continue
		}
		g, ok := byName[p]
		if !ok {
			ps := src.Stream(p)
			g = &group{parent: &StreamRun{Stream: ps, Mode: ModeFullRefresh, Schema: ps.Schema}, parentIndex: -1, silent: true}
			byName[p] = g
			out = append(out, g)
		}
		g.children = append(g.children, run)
		g.childIndex = append(g.childIndex, i)
	}
	return out
}

// feedChildren runs every child stream for the parent records of the page
// just read: requests concurrently (bounded), records written in parent
// order so each child stream's output is the same as a serial run's.
func (r *streamRun) feedChildren() error {
	parents := r.parents
	r.parents = r.parents[:0]
	if len(parents) == 0 {
		return nil
	}
	ctx := r.e.ctx
	for _, cr := range r.children {
		if cr.failed != nil {
			continue
		}
		results := make([][][]byte, len(parents))
		tasks := make([]func(context.Context) error, len(parents))
		for i, p := range parents {
			tasks[i] = func(ctx context.Context) error {
				inv := &streamRun{e: r.e, info: cr.info, enc: discardEncoder{}, collect: true, parent: gjson.ParseBytes(p)}
				c := &HttpContext{ctx: ctx, cfg: r.e.opts.Config, http: r.e.http, logger: cr.logger, run: inv}
				if err := safeRun(cr.info.Stream.Runner, c); err != nil {
					return fmt.Errorf("stream %q: parent record %s: %w", cr.info.Stream.Name, excerpt(p, 80), err)
				}
				results[i] = inv.parents
				return nil
			}
		}
		if err := conc.DoCtx(ctx, ChildParallelism, tasks...); err != nil {
			cr.failed = err
			return err
		}
		for _, recs := range results {
			if len(recs) == 0 {
				continue
			}
			cr.beginPage()
			for _, rec := range recs {
				cr.record(rec)
			}
			if err := cr.endPage(); err != nil {
				cr.failed = err
				return err
			}
		}
	}
	return nil
}
