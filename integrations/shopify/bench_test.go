package shopify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/integ/integ/integtest"
)

// BenchmarkMiddlewarePage is what the cost middleware adds to one page of
// 250 orders: reading the body, finding extensions.cost and errors.
func BenchmarkMiddlewarePage(b *testing.B) {
	s := newShop(250)
	page, err := s.page("orders", "", map[string]any{"first": 250.0})
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"data": page, "extensions": s.cost(252, 12)})
	var waits int
	defer func() { b.ReportMetric(float64(waits)/float64(b.N), "waits/op") }()
	mw := newBucket(nil, func(context.Context, time.Duration) error { waits++; return nil }).middleware(serveOnce(string(body)))
	req, _ := http.NewRequest(http.MethodPost, "https://s.myshopify.com/admin/api/2026-01/graphql.json", nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := mw.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
	}
}

// BenchmarkSyncOrders syncs 2000 orders in pages of 250 through the
// command tree (Singer), against the fixture.
func BenchmarkSyncOrders(b *testing.B) {
	_, cfg := start(b, newShop(2000))
	cfg = cfg[:len(cfg)-len(`,"page_size":2}`)] + `,"page_size":250}`
	for b.Loop() {
		res := integtest.Sync(b, Source(), cfg, integtest.WithStreams("orders"), integtest.WithLogLevel("warn"))
		if n := len(res.Records("orders")); n != 2000 {
			b.Fatalf("%d orders", n)
		}
	}
}
