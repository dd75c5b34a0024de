package hubspot

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// searchWindow is how many results one search query reaches: HubSpot
// refuses to page past the 10,000th.
var searchWindow = 10_000

// searchBody is the body of POST /crm/v3/objects/{object}/search, field
// for field as HubSpot documents it. The paginator adds "after".
type searchBody struct {
	FilterGroups []filterGroup `json:"filterGroups"`
	Sorts        []searchSort  `json:"sorts"`
	Properties   []string      `json:"properties"`
	Limit        int           `json:"limit"`
}

type filterGroup struct {
	Filters []searchFilter `json:"filters"`
}

type searchFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value"`
}

type searchSort struct {
	PropertyName string `json:"propertyName"`
	Direction    string `json:"direction"`
}

// search reads the records modified since since, oldest first, in
// windows of at most searchWindow results.
func (o object) search(c *integ.HttpContext, cfg Config, props []string, since time.Time) error {
	if !slices.Contains(props, o.modified) {
		props = append(props, o.modified)
	}
	s := &searcher{
		object: o,
		url:    apiURL(cfg, "/crm/v3/objects/"+url.PathEscape(o.name)+"/search"),
		props:  props,
		limit:  cfg.PageSize,
		cursor: requests.BodyCursor("paging.next.after", "after"),
	}
	return c.EmitPages(s.query(since), s, "results")
}

// searchStart is where an incremental read starts: the bookmark, else
// start_date, else the epoch.
func searchStart(c *integ.HttpContext, cfg Config) (time.Time, error) {
	if b := c.Bookmark(); b.Exists() {
		t, err := time.Parse(time.RFC3339Nano, b.String())
		if err != nil {
			return time.Time{}, integ.ConfigErrorf("the state's bookmark %q is not an RFC 3339 time: reset the stream's state", b.String())
		}
		return t, nil
	}
	if cfg.StartDate != "" {
		t, err := time.Parse(time.RFC3339Nano, cfg.StartDate)
		if err != nil {
			return time.Time{}, integ.ConfigErrorf("start_date %q is not an RFC 3339 time such as 2024-01-01T00:00:00Z", cfg.StartDate)
		}
		return t, nil
	}
	return time.UnixMilli(0), nil
}

// searcher pages one object's search. Its windows follow each other: when
// the next page would pass searchWindow, the query starts again from the
// last record's modification time. One searcher serves one run.
type searcher struct {
	object
	url    string
	props  []string
	limit  int
	cursor requests.Paginator
	since  time.Time // the current window's start
}

// query is the first request of a window starting at since.
func (s *searcher) query(since time.Time) *requests.Request {
	s.since = since
	return requests.New(s.url).Method(http.MethodPost).JSONBody(searchBody{
		FilterGroups: []filterGroup{{Filters: []searchFilter{{
			PropertyName: s.modified, Operator: "GTE", Value: strconv.FormatInt(since.UnixMilli(), 10),
		}}}},
		Sorts:      []searchSort{{PropertyName: s.modified, Direction: "ASCENDING"}},
		Properties: s.props,
		Limit:      s.limit,
	})
}

// Next follows paging.next.after within a window and starts the next
// window when the cursor reaches searchWindow.
func (s *searcher) Next(prev *requests.Request, resp *requests.JSONResponse, count int) (*requests.Request, error) {
	next, err := s.cursor.Next(prev, resp, count)
	if next == nil || err != nil {
		return next, err
	}
	if resp.Get("paging.next.after").Int()+int64(s.limit) <= int64(searchWindow) {
		return next, nil
	}
	// The next window starts at the sorted property's last value (updatedAt
	// when the record lacks it), the value the filter compares.
	results := resp.Get("results").Array()
	rec := results[len(results)-1]
	last := rec.Get("properties." + gjson.Escape(s.modified))
	if last.String() == "" {
		last = rec.Get("updatedAt")
	}
	t, ok := parseTime(last.String())
	if !ok {
		return nil, fmt.Errorf("%s search: the last record's %s %q is not a time, so the next %d-record window cannot start from it", s.name, s.modified, last.String(), searchWindow)
	}
	if !t.After(s.since) {
		return nil, fmt.Errorf("%s search: more than %d records were modified at %s, and HubSpot's search cannot page past %d results of one query", s.name, searchWindow, t.UTC().Format(time.RFC3339Nano), searchWindow)
	}
	return s.query(t), nil
}

// parseTime reads a HubSpot time: RFC 3339, or milliseconds since the epoch.
func parseTime(v string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, true
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
		return time.UnixMilli(ms).UTC(), true
	}
	return time.Time{}, false
}
