package requests

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"
)

// EndpointLimit gives the requests Match selects a rate of their own, on
// top of the run's: HubSpot's search endpoints at 4 a second, Shopify's
// bulk operations. A request matching several limits takes the first.
type EndpointLimit struct {
	Match func(*http.Request) bool
	RPS   float64 // requests a second; <= 0: no limit
	Burst int     // at least 1
}

// EndpointLimiter enforces EndpointLimits within one HTTP stack: one
// client, one budget. It is two middlewares around the run's own
// concurrency and rate limits, so that a request of a limited class waits
// for its class's turn before it takes a slot or a turn of the run's (it
// holds none of the run's budget while its class is slow), and its
// class's turn is spent when the run's limits let it go (so waiting for
// those never bunches the class's requests). Requests of one class go
// through the run's limits one at a time. A nil *EndpointLimiter limits
// nothing.
type EndpointLimiter struct {
	classes []*endpointClass
}

// endpointClass is one limit's token bucket, spent at send time by the
// one request holding its gate.
type endpointClass struct {
	EndpointLimit
	gate   chan struct{} // held from the class's turn until the request is let go
	mu     sync.Mutex    // tokens, last: Gate peeks while Commit spends
	tokens float64
	last   time.Time
	clock  Clock
	sleep  func(context.Context, time.Duration) error
}

// NewEndpointLimiter returns the limiter of limits; nil when none limits
// anything.
func NewEndpointLimiter(limits ...EndpointLimit) *EndpointLimiter {
	var l EndpointLimiter
	for _, lim := range limits {
		if lim.Match == nil || lim.RPS <= 0 {
			continue
		}
		lim.Burst = max(lim.Burst, 1)
		l.classes = append(l.classes, &endpointClass{EndpointLimit: lim, gate: make(chan struct{}, 1),
			tokens: float64(lim.Burst), clock: systemClock{}, sleep: sleepContext})
	}
	if len(l.classes) == 0 {
		return nil
	}
	return &l
}

// WithClock replaces the time source and sleep function, for tests. Call
// it before sharing l.
func (l *EndpointLimiter) WithClock(c Clock, sleep func(context.Context, time.Duration) error) *EndpointLimiter {
	if l != nil {
		for _, cl := range l.classes {
			cl.clock, cl.sleep = c, sleep
		}
	}
	return l
}

// endpointPass is a limited request's hold on its class's gate.
type endpointPass struct {
	class *endpointClass
	once  sync.Once
}

// spend takes the class's token now and opens the gate to the next
// request of the class.
func (p *endpointPass) spend() {
	p.once.Do(func() {
		c := p.class
		c.mu.Lock()
		c.refill()
		c.tokens--
		c.mu.Unlock()
		<-c.gate
	})
}

// abandon opens the gate without spending: the request never went.
func (p *endpointPass) abandon() { p.once.Do(func() { <-p.class.gate }) }

type endpointPassKey struct{}

// Gate is the outer middleware: place it outside the run's concurrency and
// rate limits (and inside Retry, so that every attempt waits its turn).
func (l *EndpointLimiter) Gate() Middleware {
	return func(next Doer) Doer {
		if l == nil {
			return next
		}
		return DoerFunc(func(req *http.Request) (*http.Response, error) {
			c := l.classOf(req)
			if c == nil {
				return next.Do(req)
			}
			ctx := req.Context()
			select {
			case c.gate <- struct{}{}:
			case <-ctx.Done():
				return nil, fmt.Errorf("endpoint rate limit: %w", ctx.Err())
			}
			p := &endpointPass{class: c}
			if d := c.untilToken(); d > 0 {
				if err := c.sleep(ctx, d); err != nil {
					p.abandon()
					return nil, fmt.Errorf("endpoint rate limit: %w", err)
				}
			}
			resp, err := next.Do(req.WithContext(context.WithValue(ctx, endpointPassKey{}, p)))
			p.abandon() // a no-op once Commit let it go
			return resp, err
		})
	}
}

// Commit is the inner middleware: place it right inside the run's
// concurrency and rate limits. It spends the class's turn as the request
// goes out.
func (l *EndpointLimiter) Commit() Middleware {
	return func(next Doer) Doer {
		if l == nil {
			return next
		}
		return DoerFunc(func(req *http.Request) (*http.Response, error) {
			if p, ok := req.Context().Value(endpointPassKey{}).(*endpointPass); ok {
				p.spend()
			}
			return next.Do(req)
		})
	}
}

func (l *EndpointLimiter) classOf(req *http.Request) *endpointClass {
	for _, c := range l.classes {
		if c.Match(req) {
			return c
		}
	}
	return nil
}

// refill adds the tokens earned since last. Called with c.mu held.
func (c *endpointClass) refill() {
	now := c.clock.Now()
	if !c.last.IsZero() {
		if el := now.Sub(c.last); el > 0 {
			c.tokens = min(float64(c.Burst), c.tokens+el.Seconds()*c.RPS)
		}
	}
	c.last = now
}

// untilToken is how long until the bucket holds a whole token.
func (c *endpointClass) untilToken() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refill()
	if c.tokens >= 1 {
		return 0
	}
	// Rounded up: a wait a nanosecond short would let a request in early.
	return time.Duration(math.Ceil((1 - c.tokens) / c.RPS * float64(time.Second)))
}
