package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integtest"
)

// blogAPI serves posts, two a page, in ascending updated_at order and
// filtered with since: what the first page shows is not all there is.
func blogAPI(t *testing.T, posts []string) *integtest.Server {
	return integtest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		var keep []string
		since, _ := time.Parse(time.RFC3339, r.URL.Query().Get("since"))
		for _, p := range posts {
			var v struct {
				UpdatedAt time.Time `json:"updated_at"`
			}
			_ = json.Unmarshal([]byte(p), &v)
			if !v.UpdatedAt.Before(since) {
				keep = append(keep, p)
			}
		}
		from := min((page-1)*2, len(keep))
		fmt.Fprintf(w, "[%s]", strings.Join(keep[from:min(from+2, len(keep))], ","))
	}))
}

func blogPost(id int, at time.Time, extra string) string {
	return fmt.Sprintf(`{"id": %d, "updated_at": %q%s}`, id, at.UTC().Format(time.RFC3339), extra)
}

// TestInferSamplesBeyondTheFirstPage: a field that appears in later
// records (subtitle), a type that changes after the first page (count:
// integers, then "n/a") and a field only the newest records have (tags, far
// past the pages sampled from the start) are all in the inferred schema.
func TestInferSamplesBeyondTheFirstPage(t *testing.T) {
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var posts []string
	for i := 1; i <= 30; i++ {
		extra := `, "count": 1`
		switch {
		case i == 3:
			extra = `, "count": 2, "subtitle": "patched"`
		case i == 5:
			extra = `, "count": "n/a"`
		}
		posts = append(posts, blogPost(i, old.Add(time.Duration(i)*time.Hour), extra))
	}
	posts = append(posts, blogPost(31, time.Now().Add(-time.Hour), `, "count": 3, "tags": ["new"]`))
	srv := blogAPI(t, posts)
	cfg := `{"base_url": "` + srv.URL + `", "start_date": "2024-01-01", "streams": [{"name": "posts", "path": "/posts", "primary_key": ["id"],
		"replication_key": "updated_at", "params": {"since": "{{bookmark | rfc3339}}"}, "pagination": {"type": "page"}}]}`
	src, _, err := resolve(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sch := src.Stream("posts").Schema
	for name, want := range map[string][]string{"subtitle": {"string", "null"}, "count": {"string", "integer"}, "tags": {"array", "null"}} {
		p := sch.Property(name)
		if p == nil {
			t.Errorf("the inferred schema has no %q", name)
			continue
		}
		if !slices.Equal([]string(p.Type), want) {
			t.Errorf("%s: type %v, want %v", name, p.Type, want)
		}
	}
	if !strings.HasPrefix(sch.Description, InferredMarker) {
		t.Errorf("description %q does not mark the schema inferred", sch.Description)
	}
}

// TestDriftWarning: with validate_records off (the default), a record
// that leaves an inferred schema is warned about once per field, so the
// field a target would drop, or the type it would abort on, is seen; a
// schema the config gives is not watched.
func TestDriftWarning(t *testing.T) {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := blogAPI(t, []string{blogPost(1, at, `, "count": 1`), blogPost(2, at, `, "count": "n/a", "subtitle": "x"`), blogPost(3, at, `, "count": "n/a", "subtitle": "y"`)})
	cfg := `{"base_url": "` + srv.URL + `", "streams": [{"name": "posts", "path": "/posts", "primary_key": ["id"], "pagination": {"type": "page"}}]}`
	catalog := func(description string) integtest.Option {
		return integtest.WithCatalog(json.RawMessage(`{"streams": [{"tap_stream_id": "posts", "stream": "posts", "key_properties": ["id"],
			"schema": {"type": "object", "description": "` + description + `", "properties": {"id": {"type": "integer"}, "updated_at": {"type": "string"}, "count": {"type": "integer"}}},
			"metadata": [{"breadcrumb": [], "metadata": {"selected": true}}]}]}`))
	}
	warnings := func(res *integtest.Result) []string {
		var out []string
		for _, l := range res.Logs() {
			if strings.Contains(l, "leaves the inferred schema") {
				out = append(out, l)
			}
		}
		return out
	}
	res := integtest.Sync(t, Source(), cfg, catalog(InferredMarker+" from 1 record of 1 page."))
	if n := len(res.Records("posts")); n != 3 {
		t.Fatalf("%d records, want 3", n)
	}
	got := strings.Join(warnings(res), "\n")
	for _, want := range []string{`stream "posts": a record leaves the inferred schema: field "count" is a string, not integer`, `field "subtitle" is not in it`} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	if n := len(warnings(res)); n != 2 {
		t.Errorf("%d warnings, want one per field (2):\n%s", n, got)
	}
	if w := warnings(integtest.Sync(t, Source(), cfg, catalog("Posts, as the API documents them."))); len(w) > 0 {
		t.Errorf("a given schema is watched: %q", w)
	}
}
