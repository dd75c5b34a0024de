package rest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/integ/integ/integtest"
)

// endlessAPI always has another page: two new records and a next token,
// the runaway of "data.@reverse.0.id" against an API that ignores the
// cursor it is sent.
func endlessAPI(t *testing.T) *integtest.Server {
	var n atomic.Int64
	return integtest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := n.Add(2)
		fmt.Fprintf(w, `{"data": [{"id": %d}, {"id": %d}], "links": {"next": "/p?after=%d"}}`, n-1, n, n)
	}))
}

// TestPagingStops: every way a list ends is said in a log line, and a run
// that never ends fails at its page cap.
func TestPagingStops(t *testing.T) {
	pages := func(n int, body func(page int) string) *integtest.Server {
		return integtest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := strconv.Atoi(r.URL.Query().Get("page"))
			if p == 0 {
				p = 1
			}
			if p > n {
				fmt.Fprint(w, `{"data": []}`)
				return
			}
			fmt.Fprint(w, body(p))
		}))
	}
	tests := []struct {
		name       string
		srv        *integtest.Server
		pagination string
		records    int
		log        string // a log line must contain it
		failure    string // the sync must fail with it ("" succeeds)
	}{
		{"an empty page", pages(2, func(p int) string { return fmt.Sprintf(`{"data": [{"id": %d}]}`, p) }),
			`{"type": "page"}`, 2, `stream "s": paging stopped after page 3 (2 records): the page has no records`, ""},
		{"has_more false", pages(5, func(p int) string { return fmt.Sprintf(`{"data": [{"id": %d}], "has_more": %v}`, p, p < 2) }),
			`{"type": "page", "has_more_path": "has_more"}`, 2, `stream "s": paging stopped after page 2 (2 records): has_more_path "has_more" is false`, ""},
		{"has_more_path not in the response", pages(5, func(p int) string { return fmt.Sprintf(`{"data": [{"id": %d}], "has_more": true}`, p) }),
			`{"type": "page", "has_more_path": "hasMore"}`, 1, `stream "s": paging stopped after page 1 (1 record): has_more_path "hasMore" is not in the response: check the path`, ""},
		{"a short page, when asked", pages(5, func(p int) string { return fmt.Sprintf(`{"data": [{"id": %d}]}`, p) }),
			`{"type": "page", "size_param": "n", "size": 2, "short_page_ends": true}`, 1, `the page has 1 records, fewer than size 2 (short_page_ends)`, ""},
		{"a next URL path that is not there", pages(5, func(p int) string {
			return fmt.Sprintf(`{"data": [{"id": %d}], "links": {"next": "/p?page=%d"}}`, p, p+1)
		}),
			`{"type": "next_url", "path": "links.nxt"}`, 1, `stream "s": paging stopped after page 1 (1 record): pagination.path "links.nxt" is not in the response`, ""},
		{"a null next URL", pages(2, func(p int) string {
			if p == 2 {
				return `{"data": [{"id": 2}], "links": {"next": null}}`
			}
			return `{"data": [{"id": 1}], "links": {"next": "/p?page=2"}}`
		}), `{"type": "next_url", "path": "links.next"}`, 2, `pagination.path "links.next" is null or empty`, ""},
		{"no Link header", pages(1, func(p int) string { return `{"data": [{"id": 1}]}` }),
			`{"type": "link_header"}`, 1, `the response has no Link header with rel="next"`, ""},
		{"a has-more flag the config does not use", pages(2, func(p int) string { return fmt.Sprintf(`{"data": [{"id": %d}], "has_more": %v}`, p, p < 2) }),
			`{"type": "page"}`, 2, `stream "s": the response has a boolean "has_more"; set pagination.has_more_path to "has_more"`, ""},
		{"the page cap", endlessAPI(t),
			`{"type": "cursor", "path": "data.@reverse.0.id", "param": "starting_after", "max_pages": 5}`, 10, "",
			`stream "s": read 5 pages (10 records) and the API offers another (GET `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := `{"base_url": "` + tt.srv.URL + `", "streams": [{"name": "s", "path": "/p", "records_path": "data", "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}, "pagination": ` + tt.pagination + `}]}`
			var opts []integtest.Option
			if tt.failure != "" {
				opts = append(opts, integtest.WithExpectedFailure())
			}
			res := integtest.Sync(t, Source(), cfg, opts...)
			if tt.failure != "" {
				if !strings.Contains(res.Failure(), tt.failure) || !strings.Contains(res.Failure(), "raise pagination.max_pages") {
					t.Errorf("failure %q\nwant %q", res.Failure(), tt.failure)
				}
				return
			}
			if res.Failure() != "" {
				t.Fatalf("sync failed: %s", res.Failure())
			}
			if n := len(res.Records("s")); n != tt.records {
				t.Errorf("%d records, want %d", n, tt.records)
			}
			if !slices.ContainsFunc(res.Logs(), func(l string) bool { return strings.Contains(l, tt.log) }) {
				t.Errorf("no log line contains %q:\n%s", tt.log, strings.Join(res.Logs(), "\n"))
			}
		})
	}
}
