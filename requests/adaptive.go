package requests

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Budget is what a response's headers say about the client's allowance.
type Budget struct {
	Used, Limit float64   // units spent and allowed; Limit > 0
	Reset       time.Time // when a fixed window refills; zero if none
	Leak        float64   // units per second a leaky bucket drains; 0 if none
}

// BudgetReader reads a Budget from a response's headers; ok is false when
// they say nothing about it.
type BudgetReader func(h http.Header, now time.Time) (b Budget, ok bool)

// AdaptiveOptions configures NewAdaptive. Zero fields take the defaults.
type AdaptiveOptions struct {
	// Readers are tried in order on every response; the first that finds
	// a budget wins.
	Readers []BudgetReader
	// Reserve is the fraction of the limit left unspent for other clients
	// of the same account (default 0.1, at least one unit).
	Reserve float64
	// SlowBelow is the fraction of a window's limit below which requests
	// are spread evenly until the reset (default 0.25).
	SlowBelow float64
	// MaxWait bounds one wait; a longer one fails with a *RateLimitError
	// saying when the budget refills (default 5m).
	MaxWait time.Duration

	Clock Clock                                            // default: time.Now
	Sleep func(ctx context.Context, d time.Duration) error // default: timer
	Logf  func(format string, args ...any)                 // default: silent
}

// Adaptive paces requests by the budget the server reports in its
// headers, so a client slows down before it is refused: it waits for a
// leaky bucket to drain (Shopify), spreads the rest of a window's
// allowance until its reset and waits for the reset once only the reserve
// is left (x-ratelimit-*), and stops before a quota without a reset is
// spent (Salesforce's 24-hour allowance). Until a response has told it the
// budget it does not wait. Safe for concurrent use; it starts no goroutines.
type Adaptive struct {
	o AdaptiveOptions

	mu     sync.Mutex
	known  bool
	b      Budget
	seen   time.Time // when b was read, for the leak
	nextAt time.Time // the paced slot after the last one handed out
}

// NewAdaptive returns a limiter reading the budget with o.Readers.
func NewAdaptive(o AdaptiveOptions) *Adaptive {
	if o.Reserve <= 0 {
		o.Reserve = 0.1
	}
	if o.SlowBelow <= 0 {
		o.SlowBelow = 0.25
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 5 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Sleep == nil {
		o.Sleep = sleepContext
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return &Adaptive{o: o}
}

// Observe updates the budget from a response's headers.
func (a *Adaptive) Observe(h http.Header) {
	now := a.o.Clock.Now()
	for _, read := range a.o.Readers {
		b, ok := read(h, now)
		if !ok || b.Limit <= 0 {
			continue
		}
		a.mu.Lock()
		a.known, a.b, a.seen = true, b, now
		a.mu.Unlock()
		return
	}
}

// Wait blocks until the budget allows one more request, or fails with a
// *RateLimitError when it will not within MaxWait.
func (a *Adaptive) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := a.reserve()
	if err != nil || d <= 0 {
		return err
	}
	if d >= time.Second {
		a.o.Logf("requests: the API's rate-limit budget is low; waiting %s", d.Round(time.Millisecond))
	}
	return a.o.Sleep(ctx, d)
}

// reserve spends one unit of the projected budget and returns how long to
// wait before using it.
func (a *Adaptive) reserve() (time.Duration, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.known {
		return 0, nil
	}
	now := a.o.Clock.Now()
	b := &a.b
	reserve := max(1, a.o.Reserve*b.Limit)
	var d time.Duration
	switch {
	case b.Leak > 0:
		if el := now.Sub(a.seen).Seconds(); el > 0 {
			b.Used = max(0, b.Used-el*b.Leak)
		}
		a.seen = now
		b.Used++
		if over := b.Used - (b.Limit - reserve); over > 0 {
			d = time.Duration(over / b.Leak * float64(time.Second))
		}
	case !b.Reset.IsZero():
		if !now.Before(b.Reset) {
			a.known = false // the window refilled; the next response says by how much
			return 0, nil
		}
		usable := b.Limit - b.Used - reserve
		b.Used++
		switch {
		case usable < 1:
			d = b.Reset.Sub(now)
		case usable < a.o.SlowBelow*b.Limit:
			slot := now
			if a.nextAt.After(now) {
				slot = a.nextAt
			}
			a.nextAt = slot.Add(time.Duration(float64(b.Reset.Sub(now)) / usable))
			d = slot.Sub(now)
		}
	default: // a quota that does not refill within a sync
		if b.Limit-b.Used-reserve < 1 {
			return 0, &RateLimitError{Reason: fmt.Sprintf("%.0f of the API's %.0f requests are used and the rest is kept for other clients of the account", b.Used, b.Limit)}
		}
		b.Used++
	}
	if d > a.o.MaxWait {
		return 0, &RateLimitError{Reason: "the API's rate-limit budget is spent", ResetAt: now.Add(d), MaxWait: a.o.MaxWait}
	}
	return d, nil
}

// AdaptiveLimit waits on a before each request and feeds it every
// response's headers. Place it inside Retry so that retries are paced too.
func AdaptiveLimit(a *Adaptive) Middleware {
	return func(next Doer) Doer {
		return DoerFunc(func(req *http.Request) (*http.Response, error) {
			if err := a.Wait(req.Context()); err != nil {
				return nil, fmt.Errorf("adaptive rate limit: %w", err)
			}
			resp, err := next.Do(req)
			if err == nil {
				a.Observe(resp.Header)
			}
			return resp, err
		})
	}
}

// parseCount reads a request count a server sent: finite, 0 to 1e12.
func parseCount(v string) (float64, bool) {
	n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(n >= 0 && n <= 1e12) { // also rejects NaN
		return 0, false
	}
	return n, true
}

// parseFraction reads "used/limit".
func parseFraction(v string) (used, limit float64, ok bool) {
	u, l, found := strings.Cut(strings.TrimSpace(v), "/")
	if !found {
		return 0, 0, false
	}
	used, ok1 := parseCount(u)
	limit, ok2 := parseCount(l)
	if !ok1 || !ok2 || limit <= 0 {
		return 0, 0, false
	}
	return used, limit, true
}

// ShopifyCallLimit reads Shopify's X-Shopify-Shop-Api-Call-Limit: 32/40, a
// leaky bucket draining leak calls a second (2 on standard plans, 20 on
// Shopify Plus; 0 means 2).
func ShopifyCallLimit(leak float64) BudgetReader {
	if leak <= 0 {
		leak = 2
	}
	return func(h http.Header, _ time.Time) (Budget, bool) {
		used, limit, ok := parseFraction(h.Get("X-Shopify-Shop-Api-Call-Limit"))
		return Budget{Used: used, Limit: limit, Leak: leak}, ok
	}
}

// RateLimitRemaining reads x-ratelimit-limit, x-ratelimit-remaining and
// x-ratelimit-reset (epoch seconds, or seconds from now), as GitHub and
// many others send them. Without a limit, the remaining count plus one
// stands in for it.
func RateLimitRemaining() BudgetReader {
	return func(h http.Header, now time.Time) (Budget, bool) {
		rem, ok := parseCount(h.Get("X-RateLimit-Remaining"))
		if !ok {
			return Budget{}, false
		}
		d, ok := parseReset(h.Get("X-RateLimit-Reset"), now)
		if !ok {
			return Budget{}, false
		}
		limit, ok := parseCount(h.Get("X-RateLimit-Limit"))
		if !ok || limit <= 0 || limit < rem {
			limit = rem + 1
		}
		return Budget{Used: limit - rem, Limit: limit, Reset: now.Add(d)}, true
	}
}

// SalesforceLimitInfo reads Salesforce's Sforce-Limit-Info:
// api-usage=4990/5000, the org's rolling 24-hour allowance: a quota no
// sync can wait for, so Adaptive stops before the reserve is touched.
func SalesforceLimitInfo() BudgetReader {
	return func(h http.Header, _ time.Time) (Budget, bool) {
		for part := range strings.SplitSeq(h.Get("Sforce-Limit-Info"), ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.EqualFold(k, "api-usage") {
				used, limit, ok := parseFraction(v)
				return Budget{Used: used, Limit: limit}, ok
			}
		}
		return Budget{}, false
	}
}
