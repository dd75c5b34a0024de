package requests_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/integ/integ/requests"
)

// A middleware stack used as an http.Client's transport: the client's
// callers get the stack's retries without knowing about it.
func TestRoundTripperCarriesMiddleware(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	stack := requests.Chain(requests.Transport(http.DefaultTransport),
		requests.Retry(requests.RetryOptions{MaxAttempts: 3, InitialInterval: 1, MaxInterval: 1}),
		requests.Authorize(requests.Bearer("tok")))
	client := &http.Client{Transport: requests.RoundTripper(stack)}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "Bearer tok" || hits.Load() != 2 {
		t.Fatalf("status %d, body %q, %d hits; want 200, the bearer token, and one retry", resp.StatusCode, body, hits.Load())
	}
}
