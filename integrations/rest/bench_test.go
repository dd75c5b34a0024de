package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
)

// BenchmarkSyncDriftWatch measures what watching an inferred schema costs
// a sync of 5000 records (50 pages): with a given schema nothing is
// watched; with an inferred one every record is compared with it.
func BenchmarkSyncDriftWatch(b *testing.B) {
	var page strings.Builder
	page.WriteString(`{"data": [`)
	for i := 0; i < 100; i++ {
		if i > 0 {
			page.WriteByte(',')
		}
		fmt.Fprintf(&page, `{"id": %d, "title": "post %d", "updated_at": "2024-01-01T00:00:00Z", "author": {"name": "a", "tags": ["x", "y"]}, "count": %d}`, i, i, i)
	}
	page.WriteString(`]}`)
	body := page.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n, _ := strconv.Atoi(r.URL.Query().Get("page")); n > 50 {
			io.WriteString(w, `{"data": []}`)
			return
		}
		io.WriteString(w, body)
	}))
	defer srv.Close()
	schema := `{"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "updated_at": {"type": "string"}, "author": {"type": "object", "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}}, "count": {"type": "integer"}}}`
	for _, tc := range []struct{ name, schema string }{{"given", `, "schema": ` + schema}, {"inferred", ""}} {
		b.Run(tc.name, func(b *testing.B) {
			src := Source()
			cfg, err := src.ParseConfig(json.RawMessage(`{"base_url": "` + srv.URL + `", "streams": [{"name": "posts", "path": "/p", "records_path": "data", "primary_key": ["id"], "pagination": {"type": "page"}` + tc.schema + `}]}`))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			resolved, err := src.Resolve(ctx, cfg, fastRetry)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := resolved.Sync(ctx, integ.SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(io.Discard), HTTP: fastRetry}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
