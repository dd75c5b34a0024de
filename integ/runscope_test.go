package integ

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

// TestDroppedBodyDoesNotStarveTheSync: with one request in flight allowed,
// a runner that never closes a streamed body must not block the next
// stream's requests for good: the body's slot is given back when its
// runner returns.
func TestDroppedBodyDoesNotStarveTheSync(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":1}`))
	}))
	defer api.Close()
	type rec struct {
		ID int `json:"id"`
	}
	src := NewSource("t", struct{}{},
		WithStreams(
			NewStream("leaky", rec{}, func(c *HttpContext) error {
				resp, err := requests.DoRaw(c.Context(), c.http.doer, requests.New(api.URL+"/download"))
				if err != nil {
					return err
				}
				_ = resp // the runner forgets resp.Body.Close()
				return c.Emit(map[string]int{"id": 1})
			}),
			NewStream("next", rec{}, func(c *HttpContext) error {
				return c.EmitObject(requests.New(api.URL + "/item"))
			}),
		))
	cfg, err := src.ParseConfig(json.RawMessage(`{"max_concurrent_requests":1}`))
	if err != nil {
		t.Fatal(err)
	}
	// The deadline only bounds the failure: a leaked slot blocks forever.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := src.Sync(ctx, SyncOptions{Config: cfg, Protocol: &lineProtocol{}, Output: driver.NewOutput(&out)}); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if !strings.Contains(out.String(), "next") {
		t.Fatalf("the second stream wrote nothing:\n%s", out.String())
	}
}
