package rest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// Schema inference samples up to inferPages pages and inferSample records
// of a stream (of up to inferParents parent records, for a child stream):
// a field that only later records have, or whose type changes after the
// first page, is then in the schema.
const (
	inferSample  = 500
	inferPages   = 5
	inferParents = 3
	// recentWindow is how far back the sample of the newest records of a
	// stream with {{bookmark}} reaches.
	recentWindow = 30 * 24 * time.Hour
)

// InferredMarker starts the description of an inferred schema, so a read
// can tell from its catalog which schemas are guesses (see watchInferred).
const InferredMarker = "Inferred by tap-rest"

// infer samples the stream's records and sets its schema from them; it
// returns how many records it used.
func (d *stream) infer(c *integ.HttpContext, decls []*stream) (int, error) {
	inf := newInferrer()
	n := 0
	d.sampledPages = 0
	err := d.sample(c, decls, inferSample, func(rec gjson.Result, _ int) {
		inf.add(rec)
		n++
	})
	pages := d.sampledPages
	if err != nil {
		return 0, err
	}
	d.schema = inf.schema()
	d.schema.Description = fmt.Sprintf("%s from %d records of %s; records may hold fields it lacks.", InferredMarker, n, plural(pages, "page"))
	c.Logger().Info(fmt.Sprintf("stream %q: schema inferred from %d records of %d pages", d.cfg.Name, n, pages))
	return n, nil
}

// sample calls fn with up to limit records of the stream, from its first
// pages (and, for a child stream, from the first records of its parent).
func (d *stream) sample(c *integ.HttpContext, decls []*stream, limit int, fn func(rec gjson.Result, page int)) error {
	env := &tmplEnv{start: d.startDate, now: time.Now()}
	if d.cfg.Parent == "" {
		n, err := d.samplePages(c, env, inferPages, limit, fn)
		if err != nil || !d.usesBookmark() || n >= limit {
			return err
		}
		// The first pages hold the oldest records when the API sorts
		// ascending: one more page, from a bookmark of recentWindow ago,
		// samples the newest (fields added lately).
		recent := *env
		recent.bookmark = gjson.Parse(strconv.Quote(env.now.Add(-recentWindow).UTC().Format(time.RFC3339)))
		_, err = d.samplePages(c, &recent, 1, limit-n, fn)
		return err
	}
	var parent *stream
	for _, p := range decls {
		if p.cfg.Name == d.cfg.Parent {
			parent = p
		}
	}
	if parent == nil {
		return fmt.Errorf("stream %q: parent %q is not declared", d.cfg.Name, d.cfg.Parent)
	}
	var parents []gjson.Result
	if err := parent.sample(c, decls, inferParents, func(rec gjson.Result, _ int) {
		parents = append(parents, gjson.Parse(rec.Raw))
	}); err != nil {
		return err
	}
	if len(parents) == 0 {
		c.Logger().Warn(fmt.Sprintf("stream %q: its parent %q has no records to read it for: its schema is empty", d.cfg.Name, d.cfg.Parent))
	}
	left := limit
	for _, p := range parents {
		env.parent = p
		got, err := d.samplePages(c, env, inferPages, max(left/len(parents), 1), fn)
		if err != nil {
			return err
		}
		left -= got
		if left <= 0 {
			break
		}
	}
	return nil
}

// usesBookmark reports whether the first request depends on the bookmark.
func (d *stream) usesBookmark() bool {
	for _, t := range d.params {
		if t.uses(varBookmark) {
			return true
		}
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			t, err := parseTemplate(v)
			return err == nil && t.uses(varBookmark)
		case map[string]any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(d.body)
}

// samplePages reads up to inferPages pages of one run.
func (d *stream) samplePages(c *integ.HttpContext, env *tmplEnv, maxPages, limit int, fn func(rec gjson.Result, page int)) (int, error) {
	req, err := d.firstRequest(env)
	if err != nil {
		return 0, err
	}
	var pg *pager
	if d.pager != nil {
		pg = d.newPager(c.Logger(), "")
	}
	n := 0
	for page := 1; req != nil && page <= maxPages && n < limit; page++ {
		resp, err := c.Do(req)
		if err != nil {
			return n, d.sampleError(req, err)
		}
		d.sampledPages++
		arr := gjson.ParseBytes(resp.Body)
		if d.recordsPath != "" {
			arr = resp.Get(d.recordsPath)
		}
		if !arr.Exists() {
			return n, integ.ConfigErrorf("stream %q: records_path %q is not in the response from %s%s", d.cfg.Name, d.recordsPath, requests.RedactURL(req.URL()), topFields(resp.Body))
		}
		if arr.Type != gjson.Null && !arr.IsArray() {
			what := "the body"
			if d.recordsPath != "" {
				what = fmt.Sprintf("records_path %q", d.recordsPath)
			}
			return n, integ.ConfigErrorf("stream %q: %s in the response from %s is not an array of records (set records_path to where the array is)%s", d.cfg.Name, what, requests.RedactURL(req.URL()), topFields(resp.Body))
		}
		recs := arr.Array()
		for i, rec := range recs {
			if n == limit {
				break
			}
			if !rec.IsObject() {
				return n, integ.ConfigErrorf("stream %q: element %d at records_path %q in the response from %s is not a JSON object", d.cfg.Name, i, d.recordsPath, requests.RedactURL(req.URL()))
			}
			if d.cfg.RecordFilter != "" && !gjson.Get("["+rec.Raw+"]", "#("+d.cfg.RecordFilter+")").Exists() {
				continue
			}
			fn(gjson.Parse(rec.Raw), page) // the body may be reused
			n++
		}
		if pg == nil {
			break
		}
		if req, err = pg.Next(req, resp, len(recs)); err != nil {
			return n, err
		}
	}
	return n, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// topFields names the body's top-level fields, to help find records_path.
func topFields(body []byte) string {
	r := gjson.ParseBytes(body)
	if !r.IsObject() {
		return ""
	}
	return " (its " + fieldNames(r) + ")"
}

// sampleError says the server refused a request inference made, in the
// server's words.
func (d *stream) sampleError(req *requests.Request, err error) error {
	var se *requests.StatusError
	if !errors.As(err, &se) {
		return fmt.Errorf("stream %q: reading records to infer a schema (give one in the stream's schema to skip this): %w", d.cfg.Name, err)
	}
	msg := fmt.Sprintf("stream %q: the server refused the request that reads records to infer the schema: %s %s answered %d %s", d.cfg.Name, se.Method, se.URL, se.Status, http.StatusText(se.Status))
	if m := integ.APIMessage(se.BodyExcerpt); m != "" {
		msg += ": " + m
	}
	kind, hint := integ.ConfigFailure, "check the stream's path, params and the config's headers"
	switch {
	case se.Status == http.StatusUnauthorized:
		msg = strings.Replace(msg, "the server refused", "the API refused the credentials of", 1)
		hint = "check auth in the config (the token or key, and its scheme)"
	case se.Status == http.StatusForbidden:
		hint = "the credentials may lack a permission this stream needs: grant it, or remove the stream"
	case se.Status == http.StatusTooManyRequests || se.Status >= 500:
		kind, hint = integ.TransientFailure, "try again later"
	}
	return &integ.Error{Kind: kind, Msg: msg + "; " + hint, Err: err}
}
