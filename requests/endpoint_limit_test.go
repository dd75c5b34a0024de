package requests_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/requests"
)

// mostInAnySecond is the most arrivals any half-open second holds, give or
// take a millisecond: Limiter's float arithmetic may send a nanosecond early.
func mostInAnySecond(at []time.Time) int {
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	most := 0
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < time.Second-time.Millisecond; j++ {
			n++
		}
		most = max(most, n)
	}
	return most
}

// TestEndpointLimitOnTopOfTheRunsRate: searches get 4 a second of their
// own while every request keeps the run's 10 a second and 3 in flight, with
// 6 callers sending at once (synctest's fake clock: arrivals are counted,
// nothing is timed). Other requests are not held up by the searches'
// slower rate: they get the rest of the run's budget.
func TestEndpointLimitOnTopOfTheRunsRate(t *testing.T) {
	cases := []struct {
		name       string
		searchRPS  float64
		burst      int
		wantSearch int           // most searches in any second
		wantAll    int           // most requests in any second
		wantOthers time.Duration // the other requests all arrive within
	}{
		// 24 others at what the searches leave of 10 a second: 4 s.
		{"4 a second", 4, 1, 4, 10, 4200 * time.Millisecond},
		{"2 a second, burst 2", 2, 2, 3, 10, 3200 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var search, all, others []time.Time
				inFlight, peak := 0, 0
				api := requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
					mu.Lock()
					now := time.Now()
					all = append(all, now)
					if strings.HasSuffix(req.URL.Path, "/search") {
						search = append(search, now)
					} else {
						others = append(others, now)
					}
					inFlight++
					peak = max(peak, inFlight)
					mu.Unlock()
					time.Sleep(50 * time.Millisecond) // the server's latency
					mu.Lock()
					inFlight--
					mu.Unlock()
					return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
				})
				el := requests.NewEndpointLimiter(requests.EndpointLimit{
					Match: func(r *http.Request) bool {
						return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/search")
					},
					RPS: tc.searchRPS, Burst: tc.burst,
				})
				d := requests.Chain(api,
					el.Gate(),
					requests.LimitConcurrency(requests.NewSlots(3)),
					requests.RateLimit(requests.NewLimiter(10, 1)),
					el.Commit(),
				)
				start := time.Now()
				var fns []func() error
				for w := range 6 {
					fns = append(fns, func() error {
						for i := range 8 {
							method, path := http.MethodGet, "/crm/v3/objects/contacts"
							_ = i
							if w%2 == 0 { // 3 callers search, 3 read
								method, path = http.MethodPost, "/crm/v3/objects/contacts/search"
							}
							req, _ := http.NewRequestWithContext(context.Background(), method, "https://api.example.com"+path, nil)
							resp, err := d.Do(req)
							if err != nil {
								return err
							}
							resp.Body.Close()
						}
						return nil
					})
				}
				if err := conc.Do(len(fns), fns...); err != nil {
					t.Fatal(err)
				}
				span := others[len(others)-1].Sub(start)
				if len(search) != 24 || len(all) != 48 {
					t.Fatalf("%d searches, %d requests; want 24 and 48", len(search), len(all))
				}
				if got := mostInAnySecond(search); got > tc.wantSearch {
					t.Errorf("%d searches in one second, want at most %d", got, tc.wantSearch)
				}
				if got := mostInAnySecond(all); got > tc.wantAll {
					t.Errorf("%d requests in one second, want at most %d", got, tc.wantAll)
				}
				if peak > 3 {
					t.Errorf("%d requests in flight, want at most 3", peak)
				}
				if span > tc.wantOthers {
					t.Errorf("the other requests took %s of fake time, want at most %s: the searches' rate held them up", span, tc.wantOthers)
				}
				t.Logf("%s: searches %d/s at most, all %d/s at most, others done after %s, searches after %s", tc.name,
					mostInAnySecond(search), mostInAnySecond(all), span, search[len(search)-1].Sub(start))
			})
		})
	}
}

// TestEndpointLimitNilAndUnmatched: no limits, no limiter; a request that
// matches no limit passes straight through.
func TestEndpointLimitNilAndUnmatched(t *testing.T) {
	if requests.NewEndpointLimiter() != nil || requests.NewEndpointLimiter(requests.EndpointLimit{RPS: 1}) != nil {
		t.Fatalf("a limiter without a usable limit")
	}
	var nilLimiter *requests.EndpointLimiter
	calls := 0
	api := requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
		calls++
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	ft := newFakeTime()
	el := requests.NewEndpointLimiter(requests.EndpointLimit{Match: func(r *http.Request) bool { return r.URL.Path == "/slow" }, RPS: 1}).WithClock(ft, ft.Sleep)
	for _, d := range []requests.Doer{
		requests.Chain(api, nilLimiter.Gate(), nilLimiter.Commit()),
		requests.Chain(api, el.Gate(), el.Commit()),
	} {
		for range 3 {
			req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/fast", nil)
			if _, err := d.Do(req); err != nil {
				t.Fatal(err)
			}
		}
	}
	if calls != 6 || len(ft.Waits()) != 0 {
		t.Fatalf("%d calls, waits %v; want 6 and none", calls, ft.Waits())
	}
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/slow", nil)
		requests.Chain(api, el.Gate(), el.Commit()).Do(req)
	}
	if got := ft.Waits(); len(got) != 2 || got[0] != time.Second || got[1] != time.Second {
		t.Fatalf("waits %v, want 1s twice", got)
	}
}
