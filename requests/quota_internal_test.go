package requests

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stepClock is a clock the test moves by hand.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

// quotaSim drives a Quota's turns by hand, with no goroutines: a waiter
// told to pace "sleeps" by moving the clock, then its turn is due. It
// records which flow each turn went to, and when.
type quotaSim struct {
	t       *testing.T
	q       *Quota
	clock   *stepClock
	queued  []*waiter // waiting, in any order
	flowOf  map[*waiter]string
	turns   []string
	at      []time.Time
	pending *signal // the pacer's signal, until its turn is due
}

func newQuotaSim(t *testing.T, slots int, rps float64) *quotaSim {
	c := &stepClock{now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	var l *Limiter
	if rps > 0 {
		l = NewLimiter(rps, 1).WithClock(c, nil)
	}
	return &quotaSim{t: t, q: NewQuota(slots, l), clock: c, flowOf: map[*waiter]string{}}
}

func (s *quotaSim) add(flow string, n int) {
	for range n {
		w := s.q.enqueue(flow)
		s.flowOf[w] = flow
		s.queued = append(s.queued, w)
		s.collect()
	}
}

// collect moves the waiters told to go to turns; it returns the pace
// signal one of them got, if any.
func (s *quotaSim) collect() (signal, bool) {
	var pace signal
	paced := false
	keep := s.queued[:0]
	for _, w := range s.queued {
		select {
		case sig := <-w.sig:
			if sig.pace {
				if paced {
					s.t.Fatal("two waiters pace at once")
				}
				pace, paced = sig, true
				keep = append(keep, w)
				continue
			}
			s.turns = append(s.turns, s.flowOf[w])
			s.at = append(s.at, s.clock.now)
		default:
			keep = append(keep, w)
		}
	}
	s.queued = keep
	if paced {
		s.pending = &pace
	}
	return pace, paced
}

// step lets the pending pacer's turn come; false when nothing paces.
func (s *quotaSim) step() bool {
	s.collect()
	if s.pending == nil {
		return false
	}
	p := *s.pending
	s.pending = nil
	s.clock.now = s.clock.now.Add(p.d)
	s.q.due(p)
	s.collect()
	return true
}

// release ends n requests' hold on their slots.
func (s *quotaSim) release(n int) {
	for range n {
		s.q.release()
	}
	s.collect()
}

// TestQuotaTurnsGoRound: with no rate and one slot, a flow with one request
// waiting (a list's next page) goes before another flow's queue of many (a
// child stream's partitions), and flows share turns evenly.
func TestQuotaTurnsGoRound(t *testing.T) {
	s := newQuotaSim(t, 1, 0)
	s.add("child", 6) // the first takes the slot
	s.add("list", 1)
	s.add("other", 2)
	for range 8 {
		s.release(1)
	}
	want := []string{"child", "list", "other", "child", "other", "child", "child", "child", "child"}
	if fmt.Sprint(s.turns) != fmt.Sprint(want) {
		t.Errorf("turns %v, want %v", s.turns, want)
	}
}

// TestQuotaPacedTurns: under a rate, a flow that becomes ready while
// another flow's turn is being paced gets the turn when it comes (it is
// not promised ahead), and every turn keeps the limiter's schedule: the
// list's pages, each sent as soon as the previous one's response is in,
// go at the next turn while the child stream's backlog takes the rest.
func TestQuotaPacedTurns(t *testing.T) {
	const rps = 40
	s := newQuotaSim(t, 100, rps)
	s.add("child", 200)
	latency := 4 // turns a list page takes to come back
	pages, sinceList := 0, -1
	for s.step() {
		if n := len(s.turns); s.turns[n-1] == "list" {
			sinceList = 0
		} else if sinceList >= 0 {
			sinceList++
		}
		if sinceList == latency && pages < 10 {
			pages++
			sinceList = -1
			s.add("list", 1)
		} else if pages == 0 && len(s.turns) == 3 {
			pages++
			s.add("list", 1)
		}
		s.release(1) // each turn's response ends a request
	}
	// After each list page, the next one is asked for latency turns later
	// and goes at the very next turn.
	var lists []int
	for i, f := range s.turns {
		if f == "list" {
			lists = append(lists, i)
		}
	}
	if len(lists) != 10 {
		t.Fatalf("%d list pages, want 10: %v", len(lists), s.turns)
	}
	for i := 1; i < len(lists); i++ {
		if gap := lists[i] - lists[i-1]; gap != latency+1 {
			t.Errorf("list page %d went %d turns after the previous one, want %d", i, gap, latency+1)
		}
	}
	if len(s.turns) != 210 {
		t.Errorf("%d turns, want 210", len(s.turns))
	}
	// The turns keep the rate and the window: no 41 within a second and
	// the margin, and consecutive turns 25 ms apart.
	for i := 1; i < len(s.at); i++ {
		if d := s.at[i].Sub(s.at[i-1]); d < time.Second/rps {
			t.Fatalf("turn %d came %v after the previous", i, d)
		}
		if i >= rps {
			if d := s.at[i].Sub(s.at[i-rps]); d < time.Second+WindowMargin {
				t.Fatalf("turns %d and %d are %v apart: %d in a second", i-rps, i, d, rps+1)
			}
		}
	}
}

// TestQuotaAbandon: a request that gives up while pacing hands its
// reserved turn back, and one that gives up after being told to go hands
// its slot back; the others still get every turn.
func TestQuotaAbandon(t *testing.T) {
	q := NewQuota(1, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.acquire(ctx); err == nil {
		t.Fatal("acquire with an ended context succeeded")
	}
	if _, err := q.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The slot is held: a request that gives up waiting leaves the queue.
	ctx, cancel = context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var err error
	wg.Go(func() { _, err = q.acquire(ctx) })
	deadline, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	for { // until it waits
		q.mu.Lock()
		n := q.waiting
		q.mu.Unlock()
		if n == 1 {
			break
		}
		if deadline.Err() != nil {
			t.Fatal("the request never queued")
		}
		runtime.Gosched()
	}
	cancel()
	wg.Wait()
	if err == nil {
		t.Fatal("the waiter was granted a held slot")
	}
	q.mu.Lock()
	waiting, used := q.waiting, q.used
	q.mu.Unlock()
	if waiting != 0 || used != 1 {
		t.Fatalf("waiting %d used %d, want 0 and 1", waiting, used)
	}
	q.release()
	if _, err := q.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestQuotaConcurrent runs requests of three flows through Share at once,
// on the real clock at a fast rate, a third of them giving up while they
// wait: no more than the cap are ever in flight, every other request goes,
// and the quota ends with nothing held, queued or pacing.
func TestQuotaConcurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := NewQuota(3, NewLimiter(2000, 1))
	giveUp, stop := context.WithCancel(ctx) // flow 0's requests, after the 10th request
	defer stop()
	var mu sync.Mutex
	inFlight, peak, sent := 0, 0, 0
	d := Chain(DoerFunc(func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		if sent++; sent == 10 {
			stop()
		}
		mu.Unlock()
		runtime.Gosched()
		mu.Lock()
		inFlight--
		mu.Unlock()
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
	}), Share(q))
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 90 {
		wg.Go(func() {
			rctx := WithFlow(ctx, fmt.Sprint(i%3))
			if i%3 == 0 {
				rctx = WithFlow(giveUp, "0") // gives up while it waits
			}
			req, _ := http.NewRequestWithContext(rctx, http.MethodGet, "https://api.test/", nil)
			resp, err := d.Do(req)
			if err != nil {
				if i%3 != 0 {
					t.Errorf("request %d: %v", i, err)
				}
				failed.Add(1)
				return
			}
			_ = resp.Body.Close()
		})
	}
	wg.Wait()
	if peak > 3 {
		t.Errorf("%d requests in flight at once, want at most 3", peak)
	}
	if want := 90 - int(failed.Load()); sent != want || failed.Load() > 30 || failed.Load() == 0 {
		t.Errorf("%d sent, %d gave up", sent, failed.Load())
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.used != 0 || q.waiting != 0 || q.pacing {
		t.Errorf("the quota ends with %d held, %d waiting, pacing %v", q.used, q.waiting, q.pacing)
	}
}

// TestQuotaPacerGivesUp: a request that gives up while it paces hands its
// turn back: the next request paces for the same turn, not one later.
func TestQuotaPacerGivesUp(t *testing.T) {
	s := newQuotaSim(t, 10, 40)
	s.add("a", 2) // the first goes at once, the second paces
	if len(s.turns) != 1 || s.pending == nil {
		t.Fatalf("turns %v, pacing %v", s.turns, s.pending != nil)
	}
	first := *s.pending
	s.pending = nil
	var pacer *waiter
	for _, w := range s.queued {
		pacer = w
	}
	s.q.mu.Lock()
	s.q.abandon(pacer, first)
	s.q.mu.Unlock()
	s.queued = nil
	s.add("b", 1)
	if s.pending == nil || s.pending.d != first.d {
		t.Fatalf("the next request paces %v, want %v", s.pending, first.d)
	}
	s.step()
	if fmt.Sprint(s.turns) != "[a b]" || s.at[1].Sub(s.at[0]) != first.d {
		t.Errorf("turns %v at %v", s.turns, s.at)
	}
}
