package singer

import (
	"context"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
)

// BenchmarkSyncPagesRedacting is BenchmarkSyncPages/page=1000 with the
// session's output filter on and one run-time token registered (as with
// OAuth): the cost of scanning every write for it.
func BenchmarkSyncPagesRedacting(b *testing.B) {
	for _, secrets := range []int{0, 2} {
		name := map[int]string{0: "no-secret", 2: "two-tokens"}[secrets]
		b.Run(name, func(b *testing.B) {
			const pages, perPage = 50, 1000
			src, cfg := listSource(b, "pokemon")
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
