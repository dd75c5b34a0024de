package requests_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

// TestLimiterScheduleWindow runs a backlog of requests through a limiter
// on a fake clock and counts them the way a server would: in every window
// of one second, after each request has been delayed on its way by a
// different amount (up to 45 ms), there are no
// more than the bucket allows in a second (rps, plus the burst beyond the
// first), and the backlog still goes at close to the rate.
func TestLimiterScheduleWindow(t *testing.T) {
	for _, c := range []struct {
		rps    float64
		burst  int
		n      int
		perSec int // the most any second may see
	}{
		{40, 1, 400, 40},
		{25, 5, 300, 29}, // Stripe's own limit: a burst, then the rate
		{9, 1, 100, 9},   // HubSpot's
		{2.5, 1, 30, 2},  // a fraction: no second sees a third request
		{0.5, 1, 10, 1},
		{1000, 1, 3000, 1000},
	} {
		t.Run(fmt.Sprintf("%v/s burst %d", c.rps, c.burst), func(t *testing.T) {
			ft := newFakeTime()
			l := requests.NewLimiter(c.rps, c.burst).WithClock(ft, ft.Sleep)
			start := ft.Now()
			sends := make([]time.Time, c.n)
			for i := range sends {
				if err := l.Wait(context.Background()); err != nil {
					t.Fatal(err)
				}
				sends[i] = ft.Now()
			}
			jitters := []time.Duration{0, 45 * time.Millisecond} // tolerated: 45 ms more for some requests than others
			for _, pattern := range []string{"none", "alternating", "first late"} {
				arrive := make([]time.Time, len(sends))
				for i, s := range sends {
					var j time.Duration
					switch pattern {
					case "alternating":
						j = jitters[i%2]
					case "first late":
						j = jitters[1] * time.Duration(len(sends)-i) / time.Duration(len(sends))
					}
					arrive[i] = s.Add(j)
				}
				if got := maxInWindow(arrive, time.Second); got > c.perSec {
					t.Errorf("jitter %s: %d requests in one second, want at most %d", pattern, got, c.perSec)
				}
			}
			// The backlog keeps the rate less the margin, give or take one
			// window: the margin is all it costs.
			took := sends[len(sends)-1].Sub(start)
			// A fraction above 1 is not reached: no second holds more than
			// floor(rps) (plus the burst).
			rate := min(c.rps, float64(c.perSec))
			ideal := time.Duration(float64(c.n-c.burst) / rate * float64(time.Second))
			limit := time.Duration(float64(ideal)*float64(time.Second+requests.WindowMargin)/float64(time.Second)) + time.Second
			if took > limit {
				t.Errorf("%d requests took %v, want at most %v (%v at %v/s)", c.n, took, limit, ideal, rate)
			}
			interval := time.Duration(float64(time.Second)/c.rps) - time.Microsecond
			for i := c.burst; i < len(sends); i++ {
				if d := sends[i].Sub(sends[i-c.burst]); d < interval {
					t.Fatalf("request %d went %v after request %d: a burst beyond %d", i, d, i-c.burst, c.burst)
				}
			}
		})
	}
}

// TestLimiterLateSend: a request that goes out later than its turn (its
// waiter woke late) moves the window, so the request a window after it
// still keeps a second and the margin from it.
func TestLimiterLateSend(t *testing.T) {
	ft := newFakeTime()
	late := 300 * time.Millisecond
	first := true
	oversleep := func(ctx context.Context, d time.Duration) error {
		if first {
			first = false
			d += late
		}
		return ft.Sleep(ctx, d)
	}
	l := requests.NewLimiter(2, 1).WithClock(ft, oversleep)
	t0 := ft.Now()
	var sends []time.Duration
	for range 4 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		sends = append(sends, ft.Now().Sub(t0))
	}
	// 0; 0.5 s + late (the sleep overran); a window after the first; and
	// the fourth a window after the late second, not after its turn: the
	// second, third and fourth would otherwise share a second.
	want := []time.Duration{0, 500*time.Millisecond + late, time.Second + requests.WindowMargin, 500*time.Millisecond + late + time.Second + requests.WindowMargin}
	if !slices.Equal(sends, want) {
		t.Errorf("sends at %v, want %v", sends, want)
	}
}

// maxInWindow is the most times in any window [t, t+w).
func maxInWindow(at []time.Time, w time.Duration) int {
	at = slices.Clone(at)
	slices.SortFunc(at, func(x, y time.Time) int { return x.Compare(y) })
	best, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// TestQuotaCountsFromTheWrite: through Share, the window counts a request
// from when it was written to the connection (httptrace's WroteRequest),
// not from its turn: a request held 300 ms after its turn (a slow dial)
// pushes the request a window after it back as far.
func TestQuotaCountsFromTheWrite(t *testing.T) {
	ft := newFakeTime()
	l := requests.NewLimiter(2, 1).WithClock(ft, ft.Sleep)
	t0 := ft.Now()
	var sends []time.Duration
	calls := 0
	doer := requests.Chain(requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
		calls++
		if calls == 2 {
			_ = ft.Sleep(req.Context(), 300*time.Millisecond) // the connection takes a while
		}
		if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteRequest != nil {
			tr.WroteRequest(httptrace.WroteRequestInfo{})
		}
		sends = append(sends, ft.Now().Sub(t0))
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
	}), requests.Share(requests.NewQuota(4, l)))
	for range 4 {
		req, _ := http.NewRequest(http.MethodGet, "https://api.test/", nil)
		resp, err := doer.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	// The second goes at 0.5 s but is written at 0.8 s; the fourth, two
	// requests later, a second and the margin after that.
	want := []time.Duration{0, 800 * time.Millisecond, time.Second + requests.WindowMargin, 1800*time.Millisecond + requests.WindowMargin}
	if !slices.Equal(sends, want) {
		t.Errorf("written at %v, want %v", sends, want)
	}
}

// BenchmarkQuotaShare is the quota's cost per request (no rate: a slot and
// a turn), against the plain slots it replaces, from 8 goroutines in 4
// flows.
func BenchmarkQuotaShare(b *testing.B) {
	ok := requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
	})
	for _, c := range []struct {
		name string
		mw   requests.Middleware
	}{
		{"slots", requests.LimitConcurrency(requests.NewSlots(4))},
		{"quota", requests.Share(requests.NewQuota(4, nil))},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := requests.Chain(ok, c.mw)
			var n atomic.Int64
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				ctx := requests.WithFlow(context.Background(), fmt.Sprint(n.Add(1)%4))
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.test/", nil)
				for pb.Next() {
					resp, err := d.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_ = resp.Body.Close()
				}
			})
		})
	}
}
