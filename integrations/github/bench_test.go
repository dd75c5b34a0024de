package github

import (
	"fmt"
	"testing"
	"time"

	"github.com/integ/integ/integtest"
)

// BenchmarkIssues syncs the issues of 8 repositories, 2,000 each (20 pages
// apiece, every third a pull request that is dropped), through the real
// command tree against the fixture server.
func BenchmarkIssues(b *testing.B) {
	f := newFixture("acme")
	for i := range 8 {
		f.addRepo(fmt.Sprintf("acme/repo%d", i), 2000, 0)
	}
	srv := integtest.NewServer(b, f)
	f.baseURL = srv.URL
	cfg := map[string]any{"base_url": srv.URL, "organization": "acme",
		"credentials": map[string]any{"auth_type": "token", "personal_access_token": testToken}}
	b.ResetTimer()
	var n int
	for range b.N {
		srv.Reset()
		res := integtest.Sync(b, Source(), cfg, integtest.WithStreams("issues"), integtest.WithLogLevel("warn"), integtest.WithTimeout(time.Minute))
		n += len(res.Records("issues"))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
