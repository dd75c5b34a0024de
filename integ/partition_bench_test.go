package integ_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/protocol/singer"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// bigIssues serves n GitHub-shaped issues, 100 a page, with Link pagination.
func bigIssues(b *testing.B, n int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		lo, hi := (page-1)*100, min(page*100, n)
		if hi < n {
			w.Header().Set("Link", fmt.Sprintf(`<%s/repos/acme/big/issues?state=all&per_page=100&page=%d>; rel="next"`, "http://"+r.Host, page+1))
		}
		var sb strings.Builder
		sb.WriteByte('[')
		for i := lo + 1; i <= hi; i++ {
			if i > lo+1 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"id":%d,"number":%d,"title":"issue number %d of a big repository","state":"open","updated_at":%q,"repository_url":"https://api.github.com/repos/acme/big"}`,
				i, i, i, ghEpoch.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
		}
		sb.WriteByte(']')
		io.WriteString(w, sb.String())
	}))
	b.Cleanup(srv.Close)
	return srv
}

// peakHeap samples the live heap every millisecond while fn runs and
// returns the greatest value seen.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	f := conc.GoContext(ctx, func(ctx context.Context) (struct{}, error) {
		s := make([]metrics.Sample, 1)
		copy(s, sample)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-ctx.Done():
				return struct{}{}, nil
			case <-t.C:
			}
		}
	})
	fn()
	cancel()
	_, _ = f.Await()
	return peak.Load()
}

// BenchmarkPartitionMemory compares the peak heap of one 100,000-record
// partition with the same records read as a top-level stream: a child's
// memory must not grow with its partition's size.
func BenchmarkPartitionMemory(b *testing.B) {
	const n = 100_000
	srv := bigIssues(b, n)
	issues := func(c *integ.HttpContext) error {
		return c.EmitPages(requests.New(srv.URL+"/repos/acme/big/issues").Query("state", "all").Query("per_page", "100"), requests.LinkHeader())
	}
	for _, tc := range []struct {
		name   string
		source *integ.Source
	}{
		{"top-level", integ.NewSource("gh", ghConfig{}, integ.WithStreams(
			integ.NewStream("issues", ghIssue{}, issues, integ.PrimaryKey("id"), integ.Incremental("updated_at"))))},
		{"partition", integ.NewSource("gh", ghConfig{}, integ.WithStreams(
			integ.NewStream("repositories", ghRepo{}, func(c *integ.HttpContext) error {
				return c.EmitRaw([]byte(`{"id":1,"name":"big","full_name":"acme/big"}`))
			}, integ.PrimaryKey("id")),
			integ.NewStream("issues", ghIssue{}, issues, integ.PrimaryKey("id"), integ.Incremental("updated_at"), integ.ChildOf("repositories"),
				integ.PartitionBy(func(r gjson.Result) string { return r.Get("full_name").String() }))))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if err := tc.source.Err(); err != nil {
				b.Fatal(err)
			}
			cfg, err := tc.source.ParseConfig(json.RawMessage(`{"base_url":"unused"}`))
			if err != nil {
				b.Fatal(err)
			}
			cat := &integ.Catalog{Streams: []integ.CatalogStream{{Name: "issues"}}}
			var peak uint64
			b.ReportAllocs()
			for b.Loop() {
				var out countingWriter
				p := peakHeap(func() {
					err = tc.source.Sync(context.Background(), integ.SyncOptions{
						Config: cfg, Catalog: cat, Protocol: singer.NewProtocol(nil), Output: driver.NewOutput(&out),
					})
				})
				if err != nil {
					b.Fatal(err)
				}
				if out.records != n {
					b.Fatalf("%d records, want %d", out.records, n)
				}
				peak = max(peak, p)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

// countingWriter counts Singer RECORD lines.
type countingWriter struct{ records int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.records += strings.Count(string(p), `{"type":"RECORD"`)
	return len(p), nil
}

// BenchmarkPartitionsParallel reads 100 repositories' issues (2 pages each)
// from a server that takes 2ms a request, one partition at a time and
// with the default bound.
func BenchmarkPartitionsParallel(b *testing.B) {
	repos := make([]string, 100)
	issues := map[string]int{}
	for i := range repos {
		repos[i] = fmt.Sprintf("acme/r%03d", i)
		issues[repos[i]] = 5
	}
	a := newGHAPI(b, issues, repos...)
	a.reposPage = 50
	a.setHook(func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/issues") {
			time.Sleep(2 * time.Millisecond)
		}
	})
	for _, bound := range []int{1, 4} {
		b.Run(fmt.Sprintf("bound=%d", bound), func(b *testing.B) {
			src := ghSource(b, nil, integ.WithPartitionParallelism(bound))
			for b.Loop() {
				out, err := ghSync(b, src, a, syncRun{catalog: ghCatalog("issues")})
				if err != nil {
					b.Fatal(err)
				}
				if n := strings.Count(out, `"type":"RECORD"`); n != 500 {
					b.Fatalf("%d records", n)
				}
			}
		})
	}
}
