package airbyte_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/protocol/airbyte"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// profilesSource is a JSON:API stream (Klaviyo-like) with a nested cursor
// and transforms: attributes flattened, links dropped, the site added.
func profilesSource(t *testing.T) (*integ.Source, string) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":[
			{"type":"profile","id":"p1","links":{"self":"x"},"attributes":{"email":"ü@x.io","name":"a \"q\" \u00e9","big":9007199254740993,"updated":{"at":"2024-01-01T00:00:01Z"}}},
			{"type":"profile","id":"p2","links":{},"attributes":{"email":"","name":"b\nc","big":-1.5e300,"updated":{"at":"2024-01-01T00:00:02Z"}}}]}`)
	}))
	t.Cleanup(srv.Close)
	schema := json.RawMessage(`{"type":"object","properties":{"type":{"type":"string"},"id":{"type":"string"},"email":{"type":"string"},"name":{"type":"string"},"big":{"type":"number"},"updated":{"type":"object","properties":{"at":{"type":"string","format":"date-time"}}},"site":{"type":"string"}}}`)
	run := func(c *integ.HttpContext) error {
		return c.EmitBatch(requests.New(srv.URL+"/profiles"), nil, "data")
	}
	src := integ.NewSource("klaviyo", struct{}{}, integ.WithStreams(integ.NewStream("profiles", nil, run,
		integ.JSONSchema(schema), integ.PrimaryKey("id"), integ.Incremental("updated.at"),
		integ.Flatten("attributes"), integ.Drop("links"),
		integ.Filter(func(rec gjson.Result) bool { return rec.Get("email").String() != "" || rec.Get("id").String() == "p2" }),
		integ.AddField("site", func(*integ.HttpContext) any { return "eu" }),
	)))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return src, srv.URL
}

func TestTransformedNestedStreamGolden(t *testing.T) {
	src, _ := profilesSource(t)
	cat := airbyte.Discover(src)
	if got := cat.Streams[0].DefaultCursorField; !reflect.DeepEqual(got, []string{"updated", "at"}) || !cat.Streams[0].SourceDefinedCursor {
		t.Errorf("default_cursor_field = %q, want the path segments", got)
	}
	parsed, ns, err := airbyte.ParseCatalog([]byte(`{"streams":[{"stream":{"name":"profiles","json_schema":{}},"sync_mode":"incremental","cursor_field":["updated","at"],"destination_sync_mode":"append"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := src.ParseConfig(json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }
	var out bytes.Buffer
	err = src.Sync(context.Background(), integ.SyncOptions{Config: cfg, Catalog: parsed, Protocol: airbyte.NewProtocol(ns, now), Output: driver.NewOutput(&out), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "read_transformed_nested", normalise(out.Bytes(), t.TempDir()))
	for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		if !json.Valid(line) {
			t.Errorf("invalid line: %s", line)
		}
	}
}
