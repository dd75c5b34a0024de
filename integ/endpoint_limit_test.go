package integ

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

// searchConfig is a config with the searches' rate in it.
type searchConfig struct {
	SearchRate float64 `json:"search_requests_per_second" default:"2"`
}

// TestEndpointLimitWithinTheRunsBudget: with requests_per_second 10, a
// source's search endpoint limited to 4 a second gets no more, while a
// stream of other requests syncs beside it at the rest of the budget
// (synctest's fake clock and an in-memory API: arrivals are counted,
// nothing is timed). Without the option, the searches take half the budget.
func TestEndpointLimitWithinTheRunsBudget(t *testing.T) {
	for _, limited := range []bool{true, false} {
		name := map[bool]string{true: "limited", false: "without the option"}[limited]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var searches, all []time.Time
				api := requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
					mu.Lock()
					all = append(all, time.Now())
					if strings.HasSuffix(req.URL.Path, "/search") {
						searches = append(searches, time.Now())
					}
					mu.Unlock()
					return &http.Response{StatusCode: 200, Header: http.Header{}, Request: req,
						Body: io.NopCloser(strings.NewReader(`{"id":1}`))}, nil
				})
				type rec struct {
					ID int `json:"id"`
				}
				reads := func(method, path string) RunnerFunc {
					return func(c *HttpContext) error {
						for range 12 {
							if _, err := c.Do(requests.New("https://api.example.com" + path).Method(method)); err != nil {
								return err
							}
						}
						return c.Emit(rec{ID: 1})
					}
				}
				opts := []SourceOption{WithStreams(
					NewStream("searched", rec{}, reads(http.MethodPost, "/crm/v3/objects/contacts/search")),
					NewStream("listed", rec{}, reads(http.MethodGet, "/crm/v3/owners")),
				)}
				if limited {
					opts = append(opts, WithEndpointLimit(func(r *http.Request) bool {
						return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/search")
					}, func(c searchConfig) (float64, int) { return c.SearchRate, 1 }))
				}
				src := NewSource("t", searchConfig{}, opts...)
				cfg, err := src.ParseConfig(json.RawMessage(`{"requests_per_second":10,"max_parallel_streams":2,"search_requests_per_second":2}`))
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				if err := src.Sync(context.Background(), SyncOptions{Config: cfg, Protocol: &lineProtocol{}, Output: driver.NewOutput(&out), HTTP: HTTPOptions{Doer: api}}); err != nil {
					t.Fatal(err)
				}
				most := func(at []time.Time) int {
					slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
					n := 0
					for i := range at {
						j := i
						for j < len(at) && at[j].Sub(at[i]) < time.Second-time.Millisecond {
							j++
						}
						n = max(n, j-i)
					}
					return n
				}
				s, a := most(searches), most(all)
				t.Logf("searches: %d in a second at most; all: %d", s, a)
				if len(searches) != 12 || len(all) != 24 || a > 10 {
					t.Fatalf("%d searches, %d requests, %d in one second; want 12, 24, at most 10", len(searches), len(all), a)
				}
				if limited && s > 2 {
					t.Errorf("%d searches in one second, want at most 2", s)
				}
				if !limited && s <= 2 {
					t.Errorf("without the limit, searches went at %d a second: the test cannot tell", s)
				}
			})
		})
	}
}
