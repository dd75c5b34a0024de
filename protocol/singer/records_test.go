package singer

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/protocol/internal/profiles"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
)

func TestTransformedNestedStreamGolden(t *testing.T) {
	src, _ := profiles.Source(t)
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
