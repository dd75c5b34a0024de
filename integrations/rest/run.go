package rest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// env is what the templates of one run stand for.
func (d *stream) env(c *integ.HttpContext) *tmplEnv {
	return &tmplEnv{bookmark: c.Bookmark(), start: d.startDate, now: time.Now(), parent: c.Parent()}
}

// firstRequest is the stream's first page: the URL, params and body with
// their templates filled, then the paging parameters of the first page. A
// parameter whose template has no value (no bookmark, no start_date) is left
// out.
func (d *stream) firstRequest(env *tmplEnv) (*requests.Request, error) {
	u, _, err := d.url.render(env)
	if err != nil {
		return nil, integ.ConfigErrorf("stream %q: path: %w", d.cfg.Name, err)
	}
	req := requests.New(u)
	if d.method != "GET" {
		req = req.Method(d.method)
	}
	for _, k := range sortedMapKeys(d.params) {
		v, ok, err := d.params[k].render(env)
		if err != nil {
			return nil, integ.ConfigErrorf("stream %q: params.%s: %w", d.cfg.Name, k, err)
		}
		if ok {
			req = req.SetQuery(k, v)
		}
	}
	if d.method == "POST" {
		body := any(map[string]any{})
		if d.body != nil {
			b, _, err := renderBody(d.body, env)
			if err != nil {
				return nil, integ.ConfigErrorf("stream %q: body: %w", d.cfg.Name, err)
			}
			body = b
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("stream %q: body: %w", d.cfg.Name, err)
		}
		req = req.Header("Content-Type", "application/json").Body(raw)
	}
	p := d.pager
	if p == nil {
		return req, nil
	}
	switch p.Type {
	case PagePage:
		req = req.SetQuery(orDefault(p.PageParam, "page"), strconv.Itoa(p.start()))
		if p.SizeParam != "" {
			req = req.SetQuery(p.SizeParam, strconv.Itoa(p.Size))
		}
	case PageOffset:
		req = req.SetQuery(orDefault(p.OffsetParam, "offset"), "0")
		if p.Size > 0 {
			req = req.SetQuery(orDefault(p.LimitParam, "limit"), strconv.Itoa(p.Size))
		}
	case PageBodyCursor:
		// the page size is the body's business (HubSpot's "limit")
	default:
		if p.SizeParam != "" {
			req = req.SetQuery(p.SizeParam, strconv.Itoa(p.Size))
		}
	}
	return req, nil
}

func (p *Pagination) start() int {
	if p.Start == nil {
		return 1
	}
	return *p.Start
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// run reads the stream (or one partition of a child stream): the first
// request with the bookmark, then every page.
func (d *stream) run(c *integ.HttpContext) error {
	first, err := d.firstRequest(d.env(c))
	if err != nil {
		return err
	}
	switch {
	case d.cfg.Format == FormatJSONLines:
		return c.EmitJSONLines(first)
	case d.pager == nil:
		return c.EmitBatch(first, nil, d.recordsPath)
	}
	return c.EmitPages(first, d.newPager(c.Logger(), c.Partition()), d.recordsPath)
}
