package requests_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/requests"
)

func TestLimiterBurstThenSpacing(t *testing.T) {
	tests := []struct {
		name  string
		rps   float64
		burst int
		n     int
		want  []time.Duration // recorded sleeps
	}{
		{"burst 3 at 10 rps", 10, 3, 6, []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}},
		{"burst 0 means 1", 2, 0, 3, []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}},
		{"unlimited", 0, 1, 10, nil},
		{"negative unlimited", -1, 1, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTime()
			l := requests.NewLimiter(tt.rps, tt.burst).WithClock(ft, ft.Sleep)
			for range tt.n {
				if err := l.Wait(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if got := ft.Waits(); !equalDurations(got, tt.want) {
				t.Errorf("waits = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLimiterRefillsWhileIdle(t *testing.T) {
	ft := newFakeTime()
	l := requests.NewLimiter(1, 2).WithClock(ft, ft.Sleep)
	ctx := context.Background()
	wait := func(n int) {
		for range n {
			if err := l.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	wait(2)                      // empties the bucket without waiting
	_ = ft.Sleep(ctx, time.Hour) // idle: refills to burst, not beyond
	wait(3)                      // two free, the third waits a full interval
	if got, want := ft.Waits(), []time.Duration{time.Hour, time.Second}; !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	ft := newFakeTime()
	// Sleep records but does not advance the clock, so every waiter holds a
	// distinct future slot: the waits must be 1..n intervals.
	var mu sync.Mutex
	var waits []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return nil
	}
	l := requests.NewLimiter(100, 1).WithClock(ft, sleep)
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(waits) != n-1 {
		t.Fatalf("%d waits, want %d", len(waits), n-1)
	}
	seen := map[time.Duration]bool{}
	for _, w := range waits {
		slot := w / (10 * time.Millisecond)
		if w%(10*time.Millisecond) != 0 || slot < 1 || slot >= n || seen[w] {
			t.Errorf("bad or duplicate wait %v", w)
		}
		seen[w] = true
	}
}

func TestLimiterCanceled(t *testing.T) {
	ft := newFakeTime()
	l := requests.NewLimiter(1, 1).WithClock(ft, ft.Sleep)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want Canceled", err)
	}
	var nilLimiter *requests.Limiter
	if err := nilLimiter.Wait(context.Background()); err != nil {
		t.Errorf("nil limiter: %v", err)
	}
}

func TestRateLimitMiddleware(t *testing.T) {
	ft := newFakeTime()
	l := requests.NewLimiter(5, 1).WithClock(ft, ft.Sleep)
	calls := 0
	d := requests.Chain(requests.DoerFunc(func(*http.Request) (*http.Response, error) {
		calls++
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}), requests.RateLimit(l))
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, "https://api.test/", nil)
		if _, err := d.Do(req); err != nil {
			t.Fatal(err)
		}
	}
	if want := []time.Duration{200 * time.Millisecond, 200 * time.Millisecond}; calls != 3 || !equalDurations(ft.Waits(), want) {
		t.Errorf("calls %d waits %v, want 3 and %v", calls, ft.Waits(), want)
	}
}
