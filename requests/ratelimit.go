package requests

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"
)

// WindowMargin is how much longer than a second the window is in which a
// Limiter counts its requests: a request delayed on its way (or the
// server's clock) by up to this much still lands in a second that has room
// for it.
const WindowMargin = 50 * time.Millisecond

// maxWindow bounds the requests a Limiter remembers for its window; faster
// limiters keep only the spacing (a margin of 50 ms is noise at that rate).
const maxWindow = 4096

// Limiter is a token bucket shared by every stream of a run: rps requests
// per second on average, bursts of up to burst. On top of the bucket, no
// window of one second plus WindowMargin holds more than floor(rps) +
// burst - 1 requests, so a server counting the requests of any one second
// never sees more than the bucket allows, even when the network delays
// some requests more than others. The margin has a price: a backlog goes
// at (floor(rps) + burst - 1) per second and margin, 38 a second at 40. A
// fraction above 1 is not reached (2.5 a second allows 2 in any second).
// It is safe for concurrent use and starts
// no goroutines: each Wait reserves a send time (in order of arrival)
// under a mutex, then sleeps outside it.
// A nil *Limiter, or one with rps <= 0, never waits.
type Limiter struct {
	mu       sync.Mutex
	rps      float64
	interval time.Duration // 1/rps
	burst    int
	tat      time.Time   // the theoretical arrival time of the next request (GCRA)
	last     time.Time   // the latest send time handed out
	window   []time.Time // ring of the latest send times; nil: no window
	head     int         // the oldest entry of window, the next one replaced
	seq      uint64      // reservations made

	clock Clock
	sleep func(context.Context, time.Duration) error
}

// NewLimiter allows rps requests per second on average with bursts of up
// to burst (at least 1). The bucket starts full.
func NewLimiter(rps float64, burst int) *Limiter {
	l := &Limiter{rps: rps, burst: max(burst, 1), clock: systemClock{}, sleep: sleepContext}
	if rps > 0 {
		l.interval = time.Duration(float64(time.Second) / rps)
		if n := windowSize(rps, l.burst); n <= maxWindow {
			l.window = make([]time.Time, n)
		}
	}
	return l
}

// windowSize is how many requests a window of a second (plus the margin)
// may hold: what the bucket lets through in a half-open second.
func windowSize(rps float64, burst int) int {
	if rps >= maxWindow {
		return maxWindow + 1
	}
	return max(1, int(math.Floor(rps))+burst-1)
}

// WithClock replaces the time source and sleep function, for tests. Call
// it before sharing l.
func (l *Limiter) WithClock(c Clock, sleep func(context.Context, time.Duration) error) *Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clock, l.sleep = c, sleep
	l.tat, l.last = time.Time{}, time.Time{}
	clear(l.window)
	return l
}

// Wait blocks until a request may be sent or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil || l.rps <= 0 {
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d, r := l.reserve()
	if d <= 0 {
		return nil
	}
	if err := l.sleep(ctx, d); err != nil {
		l.unreserve(r)
		return err
	}
	l.sent(r, l.clock.Now())
	return nil
}

// reservation is what reserve changed, to undo it.
type reservation struct {
	seq       uint64
	slot      int // its index in the window
	tat, last time.Time
	evicted   time.Time
}

// reserve hands out the next send time and returns how long to wait for
// it. Send times never go backwards, so the window's ring stays sorted.
func (l *Limiter) reserve() (time.Duration, reservation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	t := now
	if l.tat.IsZero() {
		l.tat = now
	}
	if e := l.tat.Add(-time.Duration(l.burst-1) * l.interval); e.After(t) {
		t = e // the bucket is empty until then
	}
	if l.last.After(t) {
		t = l.last
	}
	r := reservation{tat: l.tat, last: l.last}
	if l.window != nil {
		r.evicted = l.window[l.head]
		if !r.evicted.IsZero() {
			if e := r.evicted.Add(time.Second + WindowMargin); e.After(t) {
				t = e // the window already holds as many as it may
			}
		}
		l.window[l.head] = t
		r.slot = l.head
		l.head = (l.head + 1) % len(l.window)
	}
	l.tat = later(l.tat, t).Add(l.interval)
	l.last = t
	l.seq++
	r.seq = l.seq
	return t.Sub(now), r
}

// sent records that the request holding r went out at at, later than
// its reserved time (its waiter woke late, its connection was slow to
// open): the window then counts it from when it went, so the requests
// after it keep their distance. The window's entries may then be out of
// order; the entry reserve compares with is then later than the oldest of
// the window, which only holds the next request back a little longer.
func (l *Limiter) sent(r reservation, at time.Time) {
	if r.seq == 0 {
		return // no turn was reserved
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.window == nil || l.seq-r.seq >= uint64(len(l.window)) {
		return // no window, or r's entry holds a later request now
	}
	if at.After(l.window[r.slot]) {
		l.window[r.slot] = at
	}
}

// unreserve gives back a send time that will not be used, if no later one
// has been handed out since (those keep their places).
func (l *Limiter) unreserve(r reservation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.seq != l.seq {
		return
	}
	l.tat, l.last = r.tat, r.last
	if l.window != nil {
		l.head = (l.head + len(l.window) - 1) % len(l.window)
		l.window[l.head] = r.evicted
	}
	l.seq--
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// RateLimit waits on l before each request. Place it inside Retry so that
// retries are limited too.
func RateLimit(l *Limiter) Middleware {
	return func(next Doer) Doer {
		return DoerFunc(func(req *http.Request) (*http.Response, error) {
			if err := l.Wait(req.Context()); err != nil {
				return nil, fmt.Errorf("rate limit: %w", err)
			}
			return next.Do(req)
		})
	}
}

// Slots bounds how many requests are in flight at once across a whole run:
// every stream, partition and page shares it. A request holds its slot from
// before it is sent until its response body is read to the end or closed,
// or its context ends.
// A nil *Slots never waits.
type Slots struct{ ch chan struct{} }

// NewSlots allows n requests in flight at once (at least 1).
func NewSlots(n int) *Slots { return &Slots{ch: make(chan struct{}, max(n, 1))} }

// Cap is how many requests may be in flight at once.
func (s *Slots) Cap() int { return cap(s.ch) }

// acquire takes a slot, or fails when ctx ends first.
func (s *Slots) acquire(ctx context.Context) error {
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Slots) release() { <-s.ch }

// LimitConcurrency holds one of s's slots for each request. Place it
// outside RateLimit: a request waiting for a slot then holds no rate token,
// so requests released together by slots never exceed the rate.
func LimitConcurrency(s *Slots) Middleware {
	return func(next Doer) Doer {
		if s == nil {
			return next
		}
		return DoerFunc(func(req *http.Request) (*http.Response, error) {
			if err := s.acquire(req.Context()); err != nil {
				return nil, fmt.Errorf("concurrency limit: %w", err)
			}
			resp, err := next.Do(req)
			if err != nil || resp == nil || resp.Body == nil {
				s.release()
				return resp, err
			}
			resp.Body = holdSlot(req.Context(), resp.Body, s.release)
			return resp, nil
		})
	}
}
