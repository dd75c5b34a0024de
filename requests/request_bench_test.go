package requests_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/integ/integ/requests"
)

// benchSink keeps results alive: the requestresult analyzer rejects _ =.
var benchSink *requests.Request

// benchBase is a typical first page: a few query parameters and headers.
func benchBase() *requests.Request {
	return requests.New("https://api.test/v1/items?filter=a%20b").
		Query("limit", "100").Query("offset", "0").Query("sort", "updated").
		Header("Accept", "application/json").Header("X-Api-Version", "2024-01-01")
}

// BenchmarkOffsetPage is what EmitPages does per page with an offset
// paginator, less the HTTP round trip: derive the next request, build it.
func BenchmarkOffsetPage(b *testing.B) {
	ctx := context.Background()
	p := requests.Offset("offset", "limit", 100)
	req := benchBase()
	b.ReportAllocs()
	for b.Loop() {
		next, err := p.Next(req, nil, 100)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := next.Build(ctx); err != nil {
			b.Fatal(err)
		}
		req = next
	}
}

// BenchmarkNextURLPage derives a page from a relative next link.
func BenchmarkNextURLPage(b *testing.B) {
	ctx := context.Background()
	req := benchBase()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		next := req.Resolve("?cursor=" + strconv.Itoa(i))
		if _, err := next.Build(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChain builds a first request from scratch, as a runner does once
// per stream or partition.
func BenchmarkChain(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchSink = benchBase()
	}
}

// BenchmarkDerive derives one request from a shared base, as partitions do.
func BenchmarkDerive(b *testing.B) {
	base := benchBase()
	b.ReportAllocs()
	for b.Loop() {
		benchSink = base.SetQuery("since", "2024-01-01T00:00:00Z").Header("X-Partition", "acme/one")
	}
}

// BenchmarkNextURLAbsolute derives a page from an absolute next link, the
// commonest kind (PokeAPI, Stripe-like APIs), and builds it.
func BenchmarkNextURLAbsolute(b *testing.B) {
	ctx := context.Background()
	req := requests.New("http://127.0.0.1:46523/api/v2/pokemon?limit=1000&offset=0").Header("Accept", "application/json")
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i += 1000
		next := req.Resolve("http://127.0.0.1:46523/api/v2/pokemon?offset=" + strconv.Itoa(i) + "&limit=1000")
		if _, err := next.Build(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
