package singer

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

// BenchmarkSyncPagesRedacting is BenchmarkSyncPages/page=1000 with the
// session's output filter on and one run-time token registered (as with
// OAuth): the cost of scanning every write for it.
func BenchmarkSyncPagesRedacting(b *testing.B) {
	for _, secrets := range []int{0, 2} {
		name := map[int]string{0: "no-secret", 2: "two-tokens"}[secrets]
		b.Run(name, func(b *testing.B) {
			const pages, perPage = 50, 1000
			src := integ.NewSource("bench", listConfig{}, integ.WithStreams(integ.NewStream("pokemon", named{},
				func(c *integ.HttpContext) error {
					return c.EmitPages(requests.New("http://api.test/list").Query("page", "0"), requests.NextURL("next"), "results")
				}, integ.PrimaryKey("name"))))
			cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"http://api.test"}`))
			if err != nil {
				b.Fatal(err)
			}
			sess := integ.NewSession()
			if secrets > 0 {
				sess.AddSecret("eyJhbGciOiJSUzI1NiJ9.access-token-not-in-output")
				sess.AddSecret("refresh-token-not-in-output-either")
			}
			doer := pagesDoer(pages, perPage)
			b.ReportAllocs()
			var written int64
			for b.Loop() {
				cw := &countingWriter{}
				out := driver.NewOutput(cw)
				out.SetFilter(sess.RedactOutput)
				err := src.Sync(context.Background(), integ.SyncOptions{
					Config: cfg, Protocol: NewProtocol(nil), Output: out,
					HTTP: integ.HTTPOptions{Doer: doer, Session: sess},
				})
				if err != nil {
					b.Fatal(err)
				}
				written += cw.n
			}
			b.ReportMetric(float64(pages*perPage*b.N)/b.Elapsed().Seconds(), "records/s")
			b.SetBytes(written / int64(b.N))
		})
	}
}
