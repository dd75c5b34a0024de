package requests

import (
	"context"
	"testing"
	"time"
)

// TestWatchdogForgetsEndedRequests: a request that ends leaves the list
// at once, whichever place it held, so the list holds only the requests
// in flight (not every request of the last timeout, for the timer to
// scan).
func TestWatchdogForgetsEndedRequests(t *testing.T) {
	wd := &watchdog{}
	far := time.Now().Add(time.Hour)
	var as []*attempt
	for range 4 {
		as = append(as, wd.watch(context.Background(), far, far))
	}
	inFlight := func() int {
		wd.mu.Lock()
		defer wd.mu.Unlock()
		n := 0
		for a := wd.head; a != nil; a = a.next {
			n++
		}
		return n
	}
	for i, k := range []int{1, 3, 0, 2} { // the middle, the first in, the last in, the only one
		as[k].done()
		as[k].done() // twice: no harm
		if n := inFlight(); n != 3-i {
			t.Fatalf("after %d ended: %d in the list, want %d", i+1, n, 3-i)
		}
	}
	wd.mu.Lock()
	wd.timer.Stop()
	wd.mu.Unlock()
}
