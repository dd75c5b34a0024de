package integ_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// Transforms reshape records before the engine sees them: here a JSON:API
// list (Klaviyo-like) is flattened, trimmed, filtered and tagged, and the
// replication key is a nested path into the transformed record.
func ExampleFlatten() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":[
			{"type":"profile","id":"p1","links":{},"attributes":{"email":"a@x.io","updated":{"at":"2024-01-01T00:00:00Z"}}},
			{"type":"profile","id":"p2","links":{},"attributes":{"email":null,"updated":{"at":"2024-01-02T00:00:00Z"}}}]}`)
	}))
	defer api.Close()

	schema := json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"},"email":{"type":"string"},
		"updated":{"type":"object","properties":{"at":{"type":"string","format":"date-time"}}},"site":{"type":"string"}}}`)
	profiles := func(c *integ.HttpContext) error {
		return c.EmitBatch(requests.New(api.URL+"/profiles"), nil, "data")
	}
	src := integ.NewSource("klaviyo", struct{}{}, integ.WithStreams(integ.NewStream("profiles", nil, profiles,
		integ.JSONSchema(schema), integ.PrimaryKey("id"), integ.Incremental("updated.at"),
		integ.Flatten("attributes"),
		integ.Drop("type", "links"),
		integ.Filter(func(rec gjson.Result) bool { return rec.Get("email").Type == gjson.String }),
		integ.AddField("site", func(*integ.HttpContext) any { return "eu" }),
	)))
	cfg, _ := src.ParseConfig(json.RawMessage(`{}`))
	err := src.Sync(context.Background(), integ.SyncOptions{Config: cfg, Protocol: plain{}, Output: driver.NewOutput(os.Stdout)})
	fmt.Println("error:", err)
	// Output:
	// profiles {"id":"p1","email":"a@x.io","updated":{"at":"2024-01-01T00:00:00Z"},"site":"eu"}
	// error: <nil>
}
