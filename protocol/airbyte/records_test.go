package airbyte_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/integ/integ/protocol/internal/profiles"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/protocol/airbyte"
)

func TestTransformedNestedStreamGolden(t *testing.T) {
	src, _ := profiles.Source(t)
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
