package integtest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// Waits records the retry layer's waits instead of sleeping, so that a
// test asserts a connector waited what the API asked, at once. Its zero
// value is ready; it is safe for concurrent use.
type Waits struct {
	mu sync.Mutex
	d  []time.Duration
}

// WithWaits retries every request up to attempts times (counting the
// first), recording each wait in w instead of sleeping.
//
//	var w integtest.Waits
//	integtest.Sync(t, src, cfg, integtest.WithWaits(&w, 3))
//	if w.Count(10*time.Second) != 1 { ... }
func WithWaits(w *Waits, attempts int) Option {
	return WithHTTP(integ.HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: attempts, Sleep: w.Sleep}})
}

// Sleep records d and returns at once: a requests.RetryOptions.Sleep (or
// AdaptiveOptions.Sleep).
func (w *Waits) Sleep(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return nil
}

// All returns the waits so far, in order.
func (w *Waits) All() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.d)
}

// Count returns how many waits were exactly d.
func (w *Waits) Count(d time.Duration) int {
	n := 0
	for _, x := range w.All() {
		if x == d {
			n++
		}
	}
	return n
}

// Total returns the sum of the waits.
func (w *Waits) Total() time.Duration {
	var sum time.Duration
	for _, x := range w.All() {
		sum += x
	}
	return sum
}
