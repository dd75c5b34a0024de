package integ

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

// TestRateReadsStreamsAtOnce: with requests_per_second and no
// max_parallel_streams, streams sync at once. The server holds stream a's
// only request until stream b's arrives; one stream at a time, a would
// wait for b, which would never come (the test's deadline ends it). With
// max_parallel_streams 1 the order is a, then b.
func TestRateReadsStreamsAtOnce(t *testing.T) {
	for _, c := range []struct {
		settings string
		together bool
	}{
		{`"requests_per_second":100`, true},
		{`"requests_per_second":100,"max_parallel_streams":1`, false},
		{``, false},
	} {
		t.Run(c.settings, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			bArrived := make(chan struct{})
			var once sync.Once
			var mu sync.Mutex
			var order []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				order = append(order, r.URL.Path)
				mu.Unlock()
				switch r.URL.Path {
				case "/b":
					once.Do(func() { close(bArrived) })
				case "/a":
					if c.together {
						select {
						case <-bArrived:
						case <-ctx.Done():
							http.Error(w, "b never came", http.StatusInternalServerError)
							return
						}
					}
				}
				_, _ = w.Write([]byte(`[{"id":1}]`))
			}))
			defer srv.Close()
			type rec struct {
				ID int `json:"id"`
			}
			get := func(path string) RunnerFunc {
				return func(c *HttpContext) error { return c.EmitBatch(requests.New(srv.URL+path), nil) }
			}
			src := NewSource("two", struct{}{}, WithStreams(
				NewStream("a", rec{}, get("/a"), PrimaryKey("id")),
				NewStream("b", rec{}, get("/b"), PrimaryKey("id")),
			))
			cfg, err := src.ParseConfig(json.RawMessage("{" + c.settings + "}"))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := src.Sync(ctx, SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&out)}); err != nil {
				t.Fatal(err)
			}
			if !c.together && fmt.Sprint(order) != "[/a /b]" {
				t.Errorf("requests %v, want /a then /b", order)
			}
		})
	}
}

// TestStreamsAreFlows: each stream's requests, and each child stream's
// (all its partitions), are one flow of the run's quota, named by the
// stream, so that turns go round the streams.
func TestStreamsAreFlows(t *testing.T) {
	var mu sync.Mutex
	flows := map[string]string{} // path: flow
	doer := requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		flows[r.URL.Path] = requests.FlowOf(r.Context())
		mu.Unlock()
		body := `[{"id":1},{"id":2}]`
		if r.URL.Path != "/parents" {
			body = `{"id":7}`
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	type rec struct {
		ID int `json:"id"`
	}
	src := NewSource("flows", struct{}{}, WithStreams(
		NewStream("parents", rec{}, func(c *HttpContext) error {
			return c.EmitBatch(requests.New("http://api.test/parents"), nil)
		}, PrimaryKey("id")),
		NewStream("children", rec{}, func(c *HttpContext) error {
			return c.EmitObject(requests.New("http://api.test/child/" + c.Parent().Get("id").String()))
		}, ChildOf("parents"), PrimaryKey("id")),
	))
	cfg, err := src.ParseConfig(json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := src.Sync(ctx, SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&out), HTTP: HTTPOptions{Doer: doer}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/parents": "parents", "/child/1": "children", "/child/2": "children"}
	if fmt.Sprint(flows) != fmt.Sprint(want) {
		t.Errorf("flows %v, want %v", flows, want)
	}
	if n := bytes.Count(out.Bytes(), []byte("REC children")); n != 2 {
		t.Errorf("%d child records, want 2", n)
	}
}
