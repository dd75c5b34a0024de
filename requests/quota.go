package requests

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// flowKey is the context key of a request's flow.
type flowKey struct{}

// WithFlow names who ctx's requests are for (a stream, say). A Quota
// shares its slots and turns fairly between flows.
func WithFlow(ctx context.Context, flow string) context.Context {
	return context.WithValue(ctx, flowKey{}, flow)
}

// FlowOf is the flow ctx's requests belong to ("" when none was named).
func FlowOf(ctx context.Context) string {
	f, _ := ctx.Value(flowKey{}).(string)
	return f
}

// Quota is a run's one budget of requests: at most Cap in flight at once
// and, with a Limiter, no more than its rate. Requests that must wait are
// queued by flow (see WithFlow), and each free turn goes to the flow served
// least recently, so a stream with one request waiting is not stuck behind
// another stream's many (a child stream's partitions, say): every stream
// gets its share and none starves. A request holds its slot from its turn
// until its response body is read to the end or closed.
//
// The rate's turns are handed out one at a time, when they come: the
// request that waits for a turn is chosen when the turn is due, not when
// it is reserved, so a flow that has just become ready does not wait
// behind turns already promised to others. Quota starts no goroutines.
type Quota struct {
	mu      sync.Mutex
	cap     int
	used    int      // slots held
	limiter *Limiter // nil: no rate
	pacing  bool     // a waiter is sleeping until the next turn is due
	waiting int
	flows   map[string]*flow
	served  uint64 // turns given so far
}

// flow is one flow's queue of waiting requests.
type flow struct {
	id    int // order of first use, to break ties
	queue []*waiter
	last  uint64 // Quota.served when this flow was last given a turn
}

// waiter is one request waiting for its turn. The Quota sends it one
// signal: go (it holds a slot: send now) or pace (sleep until the turn
// reserved for the next request is due, then give it out).
type waiter struct {
	flow *flow
	sig  chan signal
}

type signal struct {
	pace bool
	d    time.Duration // pace: how long until the turn
	r    reservation
}

// NewQuota allows n requests in flight at once (at least 1), sent at
// l's rate (nil: no rate).
func NewQuota(n int, l *Limiter) *Quota {
	if l != nil && l.rps <= 0 {
		l = nil
	}
	return &Quota{cap: max(n, 1), limiter: l, flows: map[string]*flow{}}
}

// Cap is how many requests may be in flight at once.
func (b *Quota) Cap() int { return b.cap }

// acquire waits for a slot and a turn for ctx's flow, or fails when ctx
// ends first. On success the caller holds a slot and must release it; the
// turn's reservation is returned (its zero value without a rate).
func (b *Quota) acquire(ctx context.Context) (reservation, error) {
	if err := ctx.Err(); err != nil {
		return reservation{}, err
	}
	name := FlowOf(ctx)
	if b.limiter == nil && b.take(name) {
		return reservation{}, nil
	}
	w := b.enqueue(name)
	for {
		select {
		case s := <-w.sig:
			if !s.pace {
				return s.r, nil
			}
			if err := b.limiter.sleep(ctx, s.d); err != nil {
				b.mu.Lock()
				b.abandon(w, s)
				b.mu.Unlock()
				return reservation{}, err
			}
			b.due(s)
		case <-ctx.Done():
			b.mu.Lock()
			select {
			case s := <-w.sig: // the signal crossed the cancellation
				if s.pace {
					b.abandon(w, s)
				} else {
					b.used-- // granted: hand the slot back
					b.dispatch()
				}
			default:
				b.abandon(w, signal{})
			}
			b.mu.Unlock()
			return reservation{}, ctx.Err()
		}
	}
}

// take gives flow a free slot at once when nobody waits and there is no
// rate to keep: the usual request, spared a waiter and its signal.
func (b *Quota) take(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiting > 0 || b.used >= b.cap {
		return false
	}
	f := b.flows[name]
	if f == nil {
		f = &flow{id: len(b.flows)}
		b.flows[name] = f
	}
	b.used++
	b.served++
	f.last = b.served
	return true
}

// enqueue queues a waiter for flow and gives out what is free.
func (b *Quota) enqueue(name string) *waiter {
	w := &waiter{sig: make(chan signal, 1)}
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.flows[name]
	if f == nil {
		f = &flow{id: len(b.flows)}
		b.flows[name] = f
	}
	w.flow = f
	f.queue = append(f.queue, w)
	b.waiting++
	b.dispatch()
	return w
}

// due gives out the turn s's waiter paced for, now that it has come: to
// the flow served least recently (perhaps the pacer's own), then reserves
// the next turn.
func (b *Quota) due(s signal) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.limiter.sent(s.r, b.limiter.clock.Now())
	b.pacing = false
	b.grant(b.next(), s.r)
	b.dispatch()
}

// abandon takes w out of the queue when its request gives up waiting; a
// pacer's reserved turn is handed back. Called with b.mu held.
func (b *Quota) abandon(w *waiter, s signal) {
	if s.pace {
		b.limiter.unreserve(s.r)
		b.pacing = false
	}
	b.leave(w)
	b.dispatch()
}

// release frees a slot.
func (b *Quota) release() {
	b.mu.Lock()
	b.used--
	b.dispatch()
	b.mu.Unlock()
}

// dispatch gives out what is free: with no rate, a slot to each waiter in
// turn; with a rate, turns that are due now, then one waiter is told to
// pace until the next. Called with b.mu held.
func (b *Quota) dispatch() {
	for !b.pacing && b.used < b.cap && b.waiting > 0 {
		if b.limiter == nil {
			b.grant(b.next(), reservation{})
			continue
		}
		d, r := b.limiter.reserve()
		if d <= 0 {
			b.grant(b.next(), r)
			continue
		}
		// Any waiter can keep time; whoever is next when the turn is due
		// gets it. Waiters in a queue have no signal pending.
		b.pacing = true
		b.next().sig <- signal{pace: true, d: d, r: r}
	}
}

// next is the first waiter of the flow served least recently.
func (b *Quota) next() *waiter {
	var best *flow
	for _, f := range b.flows {
		if len(f.queue) > 0 && (best == nil || f.last < best.last || f.last == best.last && f.id < best.id) {
			best = f
		}
	}
	return best.queue[0]
}

// grant gives w a slot and tells it to send, at the turn r.
func (b *Quota) grant(w *waiter, r reservation) {
	b.leave(w)
	b.used++
	b.served++
	w.flow.last = b.served
	w.sig <- signal{r: r}
}

// leave takes w out of its flow's queue.
func (b *Quota) leave(w *waiter) {
	q := w.flow.queue
	for i, x := range q {
		if x == w {
			w.flow.queue = append(q[:i], q[i+1:]...)
			b.waiting--
			return
		}
	}
}

// Share holds one of b's slots, and waits for a turn under its rate, for
// each request. Place it inside Retry, so that every attempt takes a turn.
func Share(b *Quota) Middleware {
	return func(next Doer) Doer {
		if b == nil {
			return next
		}
		return DoerFunc(func(req *http.Request) (*http.Response, error) {
			r, err := b.acquire(req.Context())
			if err != nil {
				return nil, fmt.Errorf("request quota: %w", err)
			}
			if b.limiter != nil {
				// The window counts the request from when it is written to
				// the connection (a new connection, a busy machine can hold
				// it a while after its turn): the server sees it then.
				req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
					WroteRequest: func(httptrace.WroteRequestInfo) { b.limiter.sent(r, b.limiter.clock.Now()) },
				}))
			}
			resp, err := next.Do(req)
			if err != nil || resp == nil || resp.Body == nil {
				b.release()
				return resp, err
			}
			resp.Body = holdSlot(req.Context(), resp.Body, b.release)
			return resp, nil
		})
	}
}
