package requests_test

import (
	"net/http"
	"testing"

	"github.com/integ/integ/requests"
)

// BenchmarkAuthorize is the auth middleware's per-request cost, the
// transport left out.
func BenchmarkAuthorize(b *testing.B) {
	resp := &http.Response{StatusCode: 200, Body: http.NoBody}
	base := requests.DoerFunc(func(*http.Request) (*http.Response, error) { return resp, nil })
	for _, c := range []struct {
		name string
		a    requests.Authenticator
	}{
		{"header", requests.APIKeyHeader("X-Api-Key", "", "key-123")},
		{"header scoped", requests.ScopeTo(requests.APIKeyHeader("X-Api-Key", "", "key-123"), requests.NewHosts("https://api.example.com"))},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := requests.Chain(base, requests.Authorize(c.a))
			req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/v1/items?limit=100", nil)
			req.Header.Set("User-Agent", "integ-test/1")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Do(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
