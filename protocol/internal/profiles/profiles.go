// Package profiles is the test source both protocols' record tests sync:
// a JSON:API stream (Klaviyo-like) with a nested cursor and transforms, so
// that each protocol's golden output is checked against the same input.
package profiles

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// Source serves two profiles (one with an empty email, names and numbers
// JSON must keep byte for byte) and declares "profiles" over them:
// attributes flattened, links dropped, the site added, incremental on
// updated.at. It returns the source and its server's URL; the server
// closes when the test ends.
func Source(t testing.TB) (*integ.Source, string) {
	t.Helper()
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
