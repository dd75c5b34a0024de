package rest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI answers like the small REST APIs tap-rest is for: one collection
// of posts, ordered by updated_at, filtered with updated_since, and paged in
// each of the styles the connector supports. Bodies are pretty-printed, as
// json-server's are.
type fakeAPI struct {
	mu       sync.Mutex
	posts    []map[string]any
	requests []string // request URIs, in order
}

// newFakeAPI serves n posts; post i (1-based) was updated i minutes after
// 2024-01-01T00:00:00Z.
func newFakeAPI(t *testing.T, n int) (*fakeAPI, *httptest.Server) {
	t.Helper()
	api := &fakeAPI{}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		api.posts = append(api.posts, map[string]any{
			"id":         i,
			"title":      fmt.Sprintf("post %d", i),
			"updated_at": t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
		})
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return api, srv
}

// touch sets a post's updated_at and moves it to the end (the order is by
// updated_at).
func (a *fakeAPI) touch(id int, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, p := range a.posts {
		if p["id"] == id {
			p["updated_at"] = at.UTC().Format(time.RFC3339)
			a.posts = append(append(a.posts[:i:i], a.posts[i+1:]...), p)
			return
		}
	}
}

func (a *fakeAPI) log() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.requests...)
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests = append(a.requests, r.URL.RequestURI())
	posts := []map[string]any{}
	since := r.URL.Query().Get("updated_since")
	for _, p := range a.posts {
		if since == "" || p["updated_at"].(string) >= since {
			posts = append(posts, p)
		}
	}
	a.mu.Unlock()

	q := r.URL.Query()
	num := func(k string, def int) int {
		if v := q.Get(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				http.Error(w, k+" is not a number", http.StatusBadRequest)
				return -1
			}
			return n
		}
		return def
	}
	window := func(from, size int) []map[string]any {
		if from > len(posts) {
			from = len(posts)
		}
		to := min(from+size, len(posts))
		return posts[from:to]
	}
	switch r.URL.Path {
	case "/all":
		writeJSON(w, posts)
	case "/page": // ?page=1&per_page=10, pages from 1
		page, size := num("page", 1), num("per_page", 10)
		if page < 0 || size < 0 {
			return
		}
		writeJSON(w, map[string]any{"data": window((page-1)*size, size), "total": len(posts)})
	case "/page0": // ?p=0&n=10, pages from 0
		page, size := num("p", 0), num("n", 10)
		if page < 0 || size < 0 {
			return
		}
		writeJSON(w, window(page*size, size))
	case "/offset": // ?offset=0&limit=10
		off, size := num("offset", 0), num("limit", 10)
		if off < 0 || size < 0 {
			return
		}
		writeJSON(w, map[string]any{"results": window(off, size)})
	case "/link": // ?_page=1&_limit=10 and a Link header, as json-server does
		page, size := num("_page", 1), num("_limit", 10)
		if page < 0 || size < 0 {
			return
		}
		if page*size < len(posts) {
			next := *r.URL
			nq := next.Query()
			nq.Set("_page", strconv.Itoa(page+1))
			next.RawQuery = nq.Encode()
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next", <http://%s/link?_page=1>; rel="first"`, r.Host, next.RequestURI(), r.Host))
		}
		writeJSON(w, window((page-1)*size, size))
	case "/next": // {"items": [...], "links": {"next": "/next?after=ID"}}, a relative URL
		after, size := num("after", 0), 7
		if after < 0 {
			return
		}
		from := 0
		for from < len(posts) && posts[from]["id"].(int) <= after && after > 0 {
			from++
		}
		items := window(from, size)
		var next any
		if from+size < len(posts) {
			next = fmt.Sprintf("/next?after=%d", items[len(items)-1]["id"])
		}
		writeJSON(w, map[string]any{"items": items, "links": map[string]any{"next": next}})
	case "/cursor": // {"data": {"posts": [...]}, "meta": {"next_cursor": "..."}}
		start := 0
		if c := q.Get("cursor"); c != "" {
			b, err := base64.RawURLEncoding.DecodeString(c)
			if err != nil {
				http.Error(w, "bad cursor", http.StatusBadRequest)
				return
			}
			start, _ = strconv.Atoi(string(b))
		}
		size := num("limit", 10)
		if size < 0 {
			return
		}
		cursor := ""
		if start+size < len(posts) {
			cursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(start + size)))
		}
		writeJSON(w, map[string]any{"data": map[string]any{"posts": window(start, size)}, "meta": map[string]any{"next_cursor": cursor}})
	case "/object":
		writeJSON(w, map[string]any{"message": "not a list"})
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	b, _ := json.MarshalIndent(v, "", "  ")
	_, _ = w.Write(b)
}

// config returns a tap-rest config for the server with one stream whose
// declaration is the JSON object members in stream (without braces).
func config(srv *httptest.Server, stream string) string {
	return fmt.Sprintf(`{"base_url": %q, "streams": [{"name": "posts", "primary_key": ["id"], %s}]}`, srv.URL, stream)
}

// queryOf extracts the query string of a logged request URI.
func queryOf(uri string) string {
	_, q, _ := strings.Cut(uri, "?")
	return q
}
