package requests_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/internal/conc"
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
		// The third would be 1 s after the first: the window's margin holds it back.
		{"burst 0 means 1", 2, 0, 3, []time.Duration{500 * time.Millisecond, 500*time.Millisecond + requests.WindowMargin}},
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
	wait(3)                      // two free, the third waits a full interval and the window's margin
	if got, want := ft.Waits(), []time.Duration{time.Hour, time.Second + requests.WindowMargin}; !equalDurations(got, want) {
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

// TestSlotsBoundInFlight: a server that holds each request until it is
// released counts how many requests it has at once; with 3 slots it never
// sees a fourth, and a slot is free again once the body is read to the
// end, or closed unread.
func TestSlotsBoundInFlight(t *testing.T) {
	for _, c := range []struct {
		name string
		use  func(*http.Response) // what the caller does with the body
	}{
		{"read to EOF", func(r *http.Response) { _, _ = io.ReadAll(r.Body) }},
		{"closed unread", func(r *http.Response) { _ = r.Body.Close() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			const slots, total = 3, 12
			var mu sync.Mutex
			inFlight, peak := 0, 0
			base := requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
				mu.Lock()
				inFlight++
				peak = max(peak, inFlight)
				mu.Unlock()
				time.Sleep(2 * time.Millisecond) // time for a request over the bound to show up
				body := &doneBody{Reader: strings.NewReader(`{"ok":true}`), done: func() {
					mu.Lock()
					inFlight--
					mu.Unlock()
				}}
				return &http.Response{StatusCode: 200, Body: body, Request: req}, nil
			})
			doer := requests.Chain(base, requests.LimitConcurrency(requests.NewSlots(slots)))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			fns := make([]func() error, total)
			for i := range fns {
				fns[i] = func() error {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.test/x", nil)
					resp, err := doer.Do(req)
					if err != nil {
						return err
					}
					c.use(resp)
					return nil
				}
			}
			if err := conc.Do(total, fns...); err != nil {
				t.Fatal(err)
			}
			if peak != slots {
				t.Errorf("%d requests in flight at once, want %d", peak, slots)
			}
		})
	}
}

// doneBody calls done once, when it is read to EOF or closed: the server's
// side of a request ends there.
type doneBody struct {
	io.Reader
	done func()
	once sync.Once
}

func (b *doneBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	if err == io.EOF {
		b.once.Do(b.done)
	}
	return n, err
}

func (b *doneBody) Close() error { b.once.Do(b.done); return nil }

// TestSlotsWaitEndsWithContext: a request waiting for a slot gives up when
// its context ends, and an error frees its slot at once.
func TestSlotsWaitEndsWithContext(t *testing.T) {
	s := requests.NewSlots(1)
	if s.Cap() != 1 || requests.NewSlots(0).Cap() != 1 {
		t.Fatalf("caps %d, %d: want at least 1", s.Cap(), requests.NewSlots(0).Cap())
	}
	failing := requests.Chain(requests.DoerFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	}), requests.LimitConcurrency(s))
	holding := requests.Chain(requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
	}), requests.LimitConcurrency(s))
	req, _ := http.NewRequest(http.MethodGet, "http://api.test/x", nil)
	for range 3 { // each failure hands its slot back
		if _, err := failing.Do(req); err == nil {
			t.Fatal("want the transport's error")
		}
	}
	resp, err := holding.Do(req) // holds the only slot: its body is never read
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := holding.Do(req.WithContext(ctx)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a slot past the deadline: %v", err)
	}
	_ = resp.Body.Close()
	if r, err := holding.Do(req); err != nil {
		t.Fatalf("after Close: %v", err)
	} else {
		_ = r.Body.Close()
	}
}
