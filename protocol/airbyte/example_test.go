package airbyte_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/integ/integ/internal/testsource"
	"github.com/integ/integ/protocol/airbyte"
)

// Run reads one full refresh stream, as the platform would with
// "read --config config.json --catalog catalog.json".
func ExampleRun() {
	srv := httptest.NewServer(testsource.NewServer(testsource.WithUsers(testsource.User{ID: 1, Name: "Ada"})))
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	config := filepath.Join(dir, "config.json")
	catalog := filepath.Join(dir, "catalog.json")
	os.WriteFile(config, []byte(`{"base_url":"`+srv.URL+`"}`), 0o600)
	os.WriteFile(catalog, []byte(`{"streams":[{"stream":{"name":"users","json_schema":{}},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`), 0o600)

	o := airbyte.Options{Command: airbyte.CommandRead, ConfigPath: config, CatalogPath: catalog, Stdout: os.Stdout}
	o.Sync.Now = func() time.Time { return time.UnixMilli(1700000000000) }
	if err := airbyte.Run(context.Background(), testsource.Source(), o); err != nil {
		fmt.Println("exit 1")
	}
	// Output:
	// {"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1700000000000,"stream_status":{"stream_descriptor":{"name":"users"},"status":"STARTED"}}}
	// {"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1700000000000,"stream_status":{"stream_descriptor":{"name":"users"},"status":"RUNNING"}}}
	// {"type":"RECORD","record":{"stream":"users","data":{"id":1,"name":"Ada"},"emitted_at":1700000000000}}
	// {"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"__ab_no_cursor_state_message":true}},"sourceStats":{"recordCount":1.0}}}
	// {"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1700000000000,"stream_status":{"stream_descriptor":{"name":"users"},"status":"COMPLETE"}}}
}

// ParseState accepts the platform's array of per-stream states.
func ExampleParseState() {
	st, err := airbyte.ParseState([]byte(`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"events"},"stream_state":{"replication_key_value":"2024-01-01T00:00:00Z"}}}]`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.Names(), string(st.Stream("events")))
	// Output: [events] {"replication_key_value":"2024-01-01T00:00:00Z"}
}
