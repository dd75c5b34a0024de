package shopify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// maxGraphQLBody bounds the body the middleware reads to find the cost and
// errors of a GraphQL response (a page of 250 orders is well under it).
const maxGraphQLBody = 64 << 20

// bucket paces queries by the GraphQL Admin API's calculated query cost.
// Every response says, in extensions.cost, what the query was expected to
// cost (requestedQueryCost) and the state of the app's leaky bucket
// (throttleStatus: maximumAvailable, currentlyAvailable, restoreRate points
// a second). Before each query the bucket waits until, restored at that
// rate, it holds the last query's cost on top of what the queries already
// sent or waiting will take, however many streams run at once, so
// THROTTLED answers stay exceptional. Until the first answer says how full the bucket is, one
// query goes alone.
//
// GraphQL errors, which come with HTTP 200, are the retry layer's
// (requests.GraphQLErrors, with throttleWait).
type bucket struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	known   bool
	probe   chan struct{} // closed when the first query is answered
	level   float64       // points available at `at`, as last reported
	at      time.Time
	maximum float64
	restore float64       // points a second
	need    float64       // the last query's cost: what the next one likely costs
	owed    float64       // points taken by queries sent or waiting, not yet answered
	sent    atomic.Uint64 // queries written to the wire
	applied uint64        // the latest query whose answer set level
}

func newBucket(now func() time.Time, sleep func(context.Context, time.Duration) error) *bucket {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepContext
	}
	return &bucket{now: now, sleep: sleep}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxRefill bounds one wait: a bucket that says it needs longer is not
// telling the truth, and the retry layer's cap on waits applies anyway.
const maxRefill = 10 * time.Minute

// refill is how long restoring points at rate a second takes.
func refill(points, rate float64) time.Duration {
	if !(points > 0) {
		return 0
	}
	s := points / rate
	if !(s < maxRefill.Seconds()) { // also NaN and +Inf
		return maxRefill
	}
	return time.Duration(s * float64(time.Second))
}

// ticket is what take hands a query: the points it took, and (once sent)
// its place in the order queries went out on the wire.
type ticket struct {
	cost float64
	seq  uint64
}

// take waits until the bucket can pay for the next query and takes its
// cost, which answer gives back once the query is answered.
func (b *bucket) take(ctx context.Context) (ticket, error) {
	for {
		b.mu.Lock()
		if !b.known {
			if b.probe == nil { // this query finds out how full the bucket is
				b.probe = make(chan struct{})
				b.mu.Unlock()
				return ticket{}, nil
			}
			p := b.probe
			b.mu.Unlock()
			select {
			case <-p:
				continue
			case <-ctx.Done():
				return ticket{}, ctx.Err()
			}
		}
		avail := min(b.maximum, b.level+b.now().Sub(b.at).Seconds()*b.restore) - b.owed
		t := ticket{cost: b.need}
		b.owed += t.cost
		d := refill(t.cost-avail, b.restore)
		b.mu.Unlock()
		if d > 0 {
			if err := b.sleep(ctx, d); err != nil {
				b.answer(t, gjson.Result{})
				return ticket{}, err
			}
		}
		return t, nil
	}
}

// answer gives back what take took for a query, and reads the bucket's
// state from the answer's extensions.cost when there is one. In parallel,
// answers arrive out of order: the report of the query written last is
// taken, and an older one only when it says the bucket holds less (the
// server may have charged that query last). It returns how
// long until the bucket holds what the query asked for (the wait a
// THROTTLED answer asks for).
func (b *bucket) answer(t ticket, cost gjson.Result) time.Duration {
	ts := cost.Get("throttleStatus")
	maximum, level, restore := ts.Get("maximumAvailable").Float(), ts.Get("currentlyAvailable").Float(), ts.Get("restoreRate").Float()
	valid := maximum > 0 && restore > 0
	need := min(max(cost.Get("requestedQueryCost").Float(), 0), maximum)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.owed = max(0, b.owed-t.cost)
	now := b.now()
	switch {
	case !valid:
	case t.seq > b.applied:
		b.known, b.maximum, b.level, b.restore, b.need, b.at, b.applied = true, maximum, level, restore, need, now, t.seq
	case level < min(b.maximum, b.level+now.Sub(b.at).Seconds()*b.restore):
		// Written earlier but charged later, perhaps: a lower report is
		// taken, since overdrawing costs a THROTTLED answer.
		b.level, b.at = level, now
	}
	if b.probe != nil && (b.known || t.cost == 0) {
		close(b.probe) // the waiting queries go on, or one of them probes again
		b.probe = nil
	}
	if !valid {
		return 0
	}
	return refill(need-level, restore)
}

func (b *bucket) middleware(next requests.Doer) requests.Doer {
	return requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodPost { // a bulk download: not a query
			return next.Do(req)
		}
		taken, err := b.take(req.Context())
		if err != nil {
			return nil, err
		}
		// The order requests are written in is (nearly) the order Shopify
		// charges them in: it tells a newer report from an older one.
		var wrote atomic.Uint64
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(b.sent.Add(1)) }}
		resp, err := next.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
		if taken.seq = wrote.Load(); taken.seq == 0 { // a transport without tracing
			taken.seq = b.sent.Add(1)
		}
		if err != nil || resp.StatusCode != http.StatusOK {
			b.answer(taken, gjson.Result{})
			return resp, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxGraphQLBody+1))
		resp.Body.Close()
		if err != nil {
			b.answer(taken, gjson.Result{})
			return nil, fmt.Errorf("reading the GraphQL response: %w", err)
		}
		if len(body) > maxGraphQLBody {
			b.answer(taken, gjson.Result{})
			return nil, fmt.Errorf("the GraphQL response is larger than %d MiB: lower page_size", maxGraphQLBody>>20)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		b.answer(taken, gjson.GetBytes(body, "extensions.cost"))
		return resp, nil
	})
}

// throttleWait is how long a THROTTLED query waits: until the bucket, as
// the answer reports it, holds what the query asked for (a fresh bucket's
// answer computes it), and at least 1 ms.
func throttleWait(body []byte) time.Duration {
	return max(newBucket(nil, nil).answer(ticket{}, gjson.GetBytes(body, "extensions.cost")), time.Millisecond)
}
