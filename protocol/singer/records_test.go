package singer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

func profilesSource(t *testing.T) *integ.Source {
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
	return src
}

func TestTransformedNestedStreamGolden(t *testing.T) {
	src := profilesSource(t)
	cat := Discover(src)
	md, _ := json.Marshal(cat.Streams[0].Metadata)
	for _, want := range []string{`"replication-key":"updated.at"`, `"breadcrumb":["properties","updated"],"metadata":{"inclusion":"automatic"`} {
		if !strings.Contains(string(md), want) {
			t.Errorf("metadata lacks %s: %s", want, md)
		}
	}
	cfg, err := src.ParseConfig(json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	sel := &integ.Catalog{Streams: []integ.CatalogStream{{Name: "profiles", Mode: integ.ModeIncremental, Fields: []string{"email", "name", "big", "site"}}}}
	var out, errb bytes.Buffer
	err = src.Sync(context.Background(), integ.SyncOptions{Config: cfg, Catalog: sel, Protocol: NewProtocol(&errb), Output: driver.NewOutput(&out),
		Now: func() time.Time { return time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "transformed_nested.jsonl", out.Bytes())
	if !strings.Contains(out.String(), `"bookmark_properties":["updated.at"]`) {
		t.Errorf("SCHEMA lacks bookmark_properties: %s", out.String())
	}
	checkMessages(t, out.String())
}
