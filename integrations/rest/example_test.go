package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integrations/rest"
)

// A config declares the streams; resolving it checks every declaration and
// infers the schema of streams that do not give one from their first page.
func ExampleSource() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [
			{"id": 1, "title": "hello", "updated_at": "2024-01-01T00:00:00Z", "tags": ["a"]},
			{"id": 2, "title": "world", "updated_at": "2024-01-02T00:00:00Z", "tags": [], "draft": true}
		], "next": null}`)
	}))
	defer api.Close()

	src := rest.Source()
	cfg, err := src.ParseConfig(json.RawMessage(`{
		"base_url": "` + api.URL + `",
		"auth": {"type": "bearer", "token": "s3cret"},
		"streams": [{
			"name": "posts", "path": "/posts", "records_path": "data",
			"primary_key": ["id"], "replication_key": "updated_at", "incremental_param": "since",
			"pagination": {"type": "next_url", "path": "next"}
		}]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	resolved, err := src.Resolve(context.Background(), cfg, integ.HTTPOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	posts := resolved.Stream("posts")
	schema, _ := json.Marshal(posts.Schema)
	fmt.Println(posts.Name, posts.PrimaryKey, posts.ReplicationKey, posts.SyncModes())
	fmt.Println(string(schema))

	// A wrong declaration fails before any request, naming stream and field.
	cfg, _ = src.ParseConfig(json.RawMessage(`{"base_url": "` + api.URL + `",
		"streams": [{"name": "posts", "path": "/posts", "pagination": {"type": "pages"}}]}`))
	_, err = src.Resolve(context.Background(), cfg, integ.HTTPOptions{})
	fmt.Println(err)
	// Output:
	// posts [id] updated_at [incremental full_refresh]
	// {"type":"object","description":"Inferred by tap-rest from 4 records of 2 pages; records may hold fields it lacks.","properties":{"id":{"type":"integer"},"title":{"type":"string"},"updated_at":{"type":"string","format":"date-time"},"tags":{"type":"array","items":{"type":"string"}},"draft":{"type":["boolean","null"]}}}
	// stream "posts": pagination.type "pages" is unknown; did you mean "page"? (use none, page, offset, link_header, next_url, cursor, last_record, body_cursor)
}
