package requests

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Limiter is a token bucket shared by every stream of a run. It is safe
// for concurrent use and starts no goroutines: each Wait reserves a token
// (possibly in the future) under a mutex, then sleeps outside it.
// A nil *Limiter, or one with rps <= 0, never waits.
type Limiter struct {
	mu     sync.Mutex
	rps    float64
	burst  float64
	tokens float64
	last   time.Time

	clock Clock
	sleep func(context.Context, time.Duration) error
}

// NewLimiter allows rps requests per second on average with bursts of up
// to burst (at least 1). The bucket starts full.
func NewLimiter(rps float64, burst int) *Limiter {
	b := float64(max(burst, 1))
	return &Limiter{rps: rps, burst: b, tokens: b, clock: systemClock{}, sleep: sleepContext}
}

// WithClock replaces the time source and sleep function, for tests. Call
// it before sharing l.
func (l *Limiter) WithClock(c Clock, sleep func(context.Context, time.Duration) error) *Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clock, l.sleep = c, sleep
	l.last = time.Time{}
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
	d := l.reserve()
	if d <= 0 {
		return nil
	}
	if err := l.sleep(ctx, d); err != nil {
		l.mu.Lock()
		l.tokens = min(l.tokens+1, l.burst) // hand back the unused reservation
		l.mu.Unlock()
		return err
	}
	return nil
}

// reserve takes a token and returns how long to wait for it.
func (l *Limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if !l.last.IsZero() {
		if el := now.Sub(l.last); el > 0 {
			l.tokens = min(l.burst, l.tokens+el.Seconds()*l.rps)
		}
	}
	l.last = now
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.rps * float64(time.Second))
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
