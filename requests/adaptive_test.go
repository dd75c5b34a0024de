package requests_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/requests"
)

// shopify is a fake Shopify Admin API with its leaky bucket: 40 calls,
// draining 2 a second on clock ft; a call into a full bucket gets 429.
type shopify struct {
	mu    sync.Mutex
	ft    *fakeTime
	used  float64
	last  time.Time
	calls int
	t429  int
}

func (s *shopify) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.ft.Now()
	if !s.last.IsZero() {
		s.used = max(0, s.used-now.Sub(s.last).Seconds()*2)
	}
	s.last = now
	s.calls++
	if s.used+1 > 40 {
		s.t429++
		w.Header().Set("Retry-After", "1.0")
		w.WriteHeader(429)
		fmt.Fprint(w, `{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}`)
		return
	}
	s.used++
	w.Header().Set("X-Shopify-Shop-Api-Call-Limit", fmt.Sprintf("%d/40", int(s.used+0.5)))
	fmt.Fprint(w, `{"products":[]}`)
}

func TestAdaptiveShopifyNeverHitsTheBucketLimit(t *testing.T) {
	for _, adaptive := range []bool{false, true} {
		ft := newFakeTime()
		api := &shopify{ft: ft}
		srv := httptest.NewServer(api)
		mws := []requests.Middleware{}
		if adaptive {
			a := requests.NewAdaptive(requests.AdaptiveOptions{Readers: []requests.BudgetReader{requests.ShopifyCallLimit(2)}, Clock: ft, Sleep: ft.Sleep})
			mws = append(mws, requests.AdaptiveLimit(a))
		}
		d := requests.Chain(srv.Client(), mws...)
		for range 100 {
			_, _ = requests.Do(context.Background(), d, requests.New(srv.URL+"/admin/api/2024-10/products.json"), 0)
			ft.Sleep(context.Background(), 10*time.Millisecond) // the client's own work
		}
		srv.Close()
		switch {
		case !adaptive && api.t429 == 0:
			t.Errorf("the fake API never refused an unpaced client: the test proves nothing")
		case adaptive && api.t429 > 0:
			t.Errorf("paced client got %d 429s", api.t429)
		case adaptive:
			// 36 calls fit under the reserve (40 minus 10%); the other 64
			// go at the leak rate, 2 a second.
			elapsed := ft.Now().Sub(newFakeTime().Now())
			if elapsed < 31*time.Second || elapsed > 34*time.Second {
				t.Errorf("100 calls took %s, want about 32s", elapsed)
			}
		}
	}
}

func TestAdaptiveWindowSpreadsThenWaitsForReset(t *testing.T) {
	ft := newFakeTime()
	reset := ft.Now().Add(100 * time.Second)
	a := requests.NewAdaptive(requests.AdaptiveOptions{Readers: []requests.BudgetReader{requests.RateLimitRemaining()}, Clock: ft, Sleep: ft.Sleep})
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "100")
	h.Set("X-RateLimit-Remaining", "60")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	a.Observe(h)
	ctx := context.Background()
	// 60 left, 10 reserved: 50 usable; the first 25 go at once (above
	// SlowBelow), the next 25 are spread until the reset.
	for range 25 {
		if err := a.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(ft.Waits()) != 0 {
		t.Fatalf("waited with budget to spare: %v", ft.Waits())
	}
	for range 25 {
		if err := a.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if w := ft.Waits(); len(w) < 20 {
		t.Errorf("low budget not spread: waits %v", w)
	}
	if ft.Now().After(reset) {
		t.Errorf("spreading overshot the reset: now %s", ft.Now())
	}
	// Only the reserve left: the next waits for the reset.
	if err := a.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if ft.Now().Before(reset) {
		t.Errorf("request sent before the reset with only the reserve left: now %s, reset %s", ft.Now(), reset)
	}
	// Past the reset the budget is unknown until a response says.
	before := len(ft.Waits())
	_ = a.Wait(ctx)
	if len(ft.Waits()) != before {
		t.Errorf("waited after the reset")
	}
}

func TestAdaptiveLongWaitFailsWithTheReset(t *testing.T) {
	ft := newFakeTime()
	a := requests.NewAdaptive(requests.AdaptiveOptions{Readers: []requests.BudgetReader{requests.RateLimitRemaining()}, Clock: ft, Sleep: ft.Sleep, MaxWait: time.Minute})
	h := http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Reset": {strconv.FormatInt(ft.Now().Add(time.Hour).Unix(), 10)}}
	a.Observe(h)
	var rl *requests.RateLimitError
	if err := a.Wait(context.Background()); !errors.As(err, &rl) || !rl.ResetAt.Equal(ft.Now().Add(time.Hour).Truncate(time.Second)) {
		t.Errorf("err = %v", err)
	}
}

func TestAdaptiveSalesforceStopsBeforeTheReserve(t *testing.T) {
	ft := newFakeTime()
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/5000", 4490+calls))
		fmt.Fprint(w, `{"totalSize":0,"done":true,"records":[]}`)
	}))
	defer srv.Close()
	a := requests.NewAdaptive(requests.AdaptiveOptions{Readers: []requests.BudgetReader{requests.SalesforceLimitInfo()}, Clock: ft, Sleep: ft.Sleep})
	d := requests.Chain(srv.Client(), requests.AdaptiveLimit(a))
	var err error
	for range 20 {
		if _, err = requests.Do(context.Background(), d, requests.New(srv.URL+"/services/data/v60.0/query"), 0); err != nil {
			break
		}
	}
	var rl *requests.RateLimitError
	if !errors.As(err, &rl) || calls != 10 {
		t.Errorf("after %d calls: %v", calls, err)
	}
}

func TestBudgetReaders(t *testing.T) {
	now := newFakeTime().Now()
	tests := []struct {
		name string
		read requests.BudgetReader
		h    http.Header
		want requests.Budget
		ok   bool
	}{
		{"shopify", requests.ShopifyCallLimit(0), http.Header{"X-Shopify-Shop-Api-Call-Limit": {"32/40"}}, requests.Budget{Used: 32, Limit: 40, Leak: 2}, true},
		{"shopify plus", requests.ShopifyCallLimit(20), http.Header{"X-Shopify-Shop-Api-Call-Limit": {"1/400"}}, requests.Budget{Used: 1, Limit: 400, Leak: 20}, true},
		{"shopify junk", requests.ShopifyCallLimit(0), http.Header{"X-Shopify-Shop-Api-Call-Limit": {"32"}}, requests.Budget{}, false},
		{"shopify zero limit", requests.ShopifyCallLimit(0), http.Header{"X-Shopify-Shop-Api-Call-Limit": {"1/0"}}, requests.Budget{}, false},
		{"github", requests.RateLimitRemaining(), http.Header{"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Remaining": {"4999"}, "X-Ratelimit-Reset": {strconv.FormatInt(now.Add(time.Hour).Unix(), 10)}},
			requests.Budget{Used: 1, Limit: 5000, Reset: now.Add(time.Hour)}, true},
		{"seconds reset, no limit", requests.RateLimitRemaining(), http.Header{"X-Ratelimit-Remaining": {"9"}, "X-Ratelimit-Reset": {"30"}},
			requests.Budget{Used: 1, Limit: 10, Reset: now.Add(30 * time.Second)}, true},
		{"no reset", requests.RateLimitRemaining(), http.Header{"X-Ratelimit-Remaining": {"9"}}, requests.Budget{}, false},
		{"salesforce", requests.SalesforceLimitInfo(), http.Header{"Sforce-Limit-Info": {"api-usage=4990/5000"}}, requests.Budget{Used: 4990, Limit: 5000}, true},
		{"salesforce with others", requests.SalesforceLimitInfo(), http.Header{"Sforce-Limit-Info": {"per-app-api-usage=1/10(appName=x), api-usage=18/5000"}}, requests.Budget{Used: 18, Limit: 5000}, true},
		{"salesforce absent", requests.SalesforceLimitInfo(), http.Header{}, requests.Budget{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.read(tt.h, now)
			if ok != tt.ok || ok && (got.Used != tt.want.Used || got.Limit != tt.want.Limit || got.Leak != tt.want.Leak || !got.Reset.Equal(tt.want.Reset)) {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAdaptiveConcurrentUse(t *testing.T) {
	ft := newFakeTime()
	a := requests.NewAdaptive(requests.AdaptiveOptions{Readers: []requests.BudgetReader{requests.ShopifyCallLimit(2)}, Clock: ft, Sleep: ft.Sleep})
	var tasks []func() error
	for i := range 8 {
		tasks = append(tasks, func() error {
			for j := range 20 {
				a.Observe(http.Header{"X-Shopify-Shop-Api-Call-Limit": {fmt.Sprintf("%d/40", (i+j)%40)}})
				if err := a.Wait(context.Background()); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := conc.Do(8, tasks...); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkAdaptiveWait(b *testing.B) {
	a := requests.NewAdaptive(requests.AdaptiveOptions{Readers: []requests.BudgetReader{requests.ShopifyCallLimit(2)}})
	h := http.Header{"X-Shopify-Shop-Api-Call-Limit": {"1/40"}}
	b.ReportAllocs()
	for b.Loop() {
		a.Observe(h)
		_ = a.Wait(context.Background())
	}
}
