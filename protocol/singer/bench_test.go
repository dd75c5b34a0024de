package singer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/internal/bench"
	"github.com/integ/integ/requests"
)

// pagesDoer answers PokeAPI-shaped pages from memory, so the benchmark
// measures integ's path (read, split, envelope, write), not a network.
func pagesDoer(pages, perPage int) requests.Doer {
	bodies := make([][]byte, pages)
	for p := range pages {
		var b bytes.Buffer
		next := "null"
		if p+1 < pages {
			next = strconv.Quote("http://api.test/list?page=" + strconv.Itoa(p+1))
		}
		fmt.Fprintf(&b, `{"count":%d,"next":%s,"results":[`, pages*perPage, next)
		for i := range perPage {
			if i > 0 {
				b.WriteByte(',')
			}
			id := p*perPage + i + 1
			fmt.Fprintf(&b, `{"name":"pokemon-%d","url":"http://api.test/api/v2/pokemon/%d/"}`, id, id)
		}
		b.WriteString("]}")
		bodies[p] = b.Bytes()
	}
	return requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(bodies[p])), Request: r}, nil
	})
}

type listConfig struct {
	BaseURL string `json:"base_url"`
}

type named struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// listSource is a source with one stream, stream, reading pagesDoer's
// pages with EmitPages, and its config.
func listSource(tb testing.TB, stream string) (*integ.Source, *integ.Config) {
	tb.Helper()
	src := integ.NewSource("bench", listConfig{}, integ.WithStreams(integ.NewStream(stream, named{},
		func(c *integ.HttpContext) error {
			return c.EmitPages(requests.New("http://api.test/list").Query("page", "0"), requests.NextURL("next"), "results")
		}, integ.PrimaryKey("name"))))
	cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"http://api.test"}`))
	if err != nil {
		tb.Fatal(err)
	}
	return src, cfg
}

func BenchmarkSyncPages(b *testing.B) {
	for _, perPage := range []int{100, 1000} {
		b.Run(fmt.Sprintf("page=%d", perPage), func(b *testing.B) {
			const pages = 50
			src, cfg := listSource(b, "pokemon")
			doer := pagesDoer(pages, perPage)
			b.ReportAllocs()
			var written int64
			for b.Loop() {
				cw := &countingWriter{}
				err := src.Sync(context.Background(), integ.SyncOptions{
					Config: cfg, Protocol: NewProtocol(nil), Output: driver.NewOutput(cw),
					HTTP: integ.HTTPOptions{Doer: doer},
				})
				if err != nil {
					b.Fatal(err)
				}
				written += cw.n
			}
			elapsed := b.Elapsed().Seconds()
			b.ReportMetric(float64(pages*perPage*b.N)/elapsed, "records/s")
			b.ReportMetric(float64(b.N*pages*perPage)/float64(b.N), "records/op")
			b.SetBytes(written / int64(b.N))
		})
	}
}

// BenchmarkSyncPagesFloor reads BenchmarkSyncPages's pages with the
// protocol floor (internal/bench.FloorLines): the same fetch, one-pass
// check and RECORD envelope, with no engine. SyncPages over
// SyncPagesFloor is what the engine costs per page, without the network,
// the kernel and the other processes that make make bench's wall times
// swing by 5 to 10% from run to run. Run both with -cpu 1, as the
// binaries run (procs.Default):
//
//	go test -run '^$' -bench 'SyncPages(Floor)?$' -cpu 1 -count 6 ./protocol/singer
func BenchmarkSyncPagesFloor(b *testing.B) {
	for _, perPage := range []int{100, 1000} {
		b.Run(fmt.Sprintf("page=%d", perPage), func(b *testing.B) {
			const pages = 50
			doer := pagesDoer(pages, perPage)
			b.ReportAllocs()
			var written int64
			for b.Loop() {
				cw := &countingWriter{}
				n, err := bench.FloorLines(context.Background(), doer, "http://api.test/list?page=0", bench.ModeSinger, "pokemon", cw)
				if err != nil || n != pages {
					b.Fatalf("%d pages, %v; want %d", n, err, pages)
				}
				written += cw.n
			}
			elapsed := b.Elapsed().Seconds()
			b.ReportMetric(float64(pages*perPage*b.N)/elapsed, "records/s")
			b.SetBytes(written / int64(b.N))
		})
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ = time.Now

// BenchmarkStateMessage measures a STATE message with a few streams'
// bookmarks: written at checkpoints, not per record.
func BenchmarkStateMessage(b *testing.B) {
	st := integ.NewState()
	for _, n := range []string{"pokemon", "type", "ability", "events"} {
		st.Set(n, json.RawMessage(`{"replication_key":"updated_at","replication_key_value":"2024-05-01T00:00:00Z"}`))
	}
	enc := NewProtocol(nil).Stream(&driver.Stream{Name: "items", PrimaryKey: []string{"id"}, Schema: json.RawMessage(`{}`)})
	cp := &driver.Checkpoint{Stream: "items", Value: st.Stream("events"), All: st.Streams}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = enc.State(buf[:0], cp)
	}
}
