package shopify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
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
// a second). Before the next query the bucket waits until, restored at
// that rate, it holds the cost of the last query: Shopify is never asked a
// query it would refuse, so THROTTLED answers stay exceptional.
//
// The middleware also turns GraphQL errors, which come with HTTP 200, into
// the statuses the rest of the stack understands: THROTTLED becomes 429
// with Retry-After computed from throttleStatus (the retry layer waits and
// resends), ACCESS_DENIED 403 (the stream is reported, the others go on),
// INTERNAL_SERVER_ERROR 500 (retried), and any other 400.
type bucket struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu        sync.Mutex
	known     bool
	available float64 // points at `at`; negative while queries are queued
	maximum   float64
	restore   float64 // points a second
	need      float64 // the cost of the last query: what the next one likely costs
	at        time.Time
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

// reserve spends the next query's cost from the projected bucket and
// returns how long to wait until the bucket holds it.
func (b *bucket) reserve() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.known {
		return 0
	}
	now := b.now()
	avail := min(b.maximum, b.available+now.Sub(b.at).Seconds()*b.restore)
	b.available, b.at = avail-b.need, now // queries waiting in parallel queue behind this one
	return refill(b.need-avail, b.restore)
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

// observe reads a response's cost; it returns the wait until the bucket
// holds what the query asked for (for a THROTTLED answer).
func (b *bucket) observe(cost gjson.Result) time.Duration {
	ts := cost.Get("throttleStatus")
	maximum, avail, restore := ts.Get("maximumAvailable").Float(), ts.Get("currentlyAvailable").Float(), ts.Get("restoreRate").Float()
	if maximum <= 0 || restore <= 0 {
		return 0
	}
	need := min(cost.Get("requestedQueryCost").Float(), maximum)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.known, b.maximum, b.available, b.restore, b.need, b.at = true, maximum, avail, restore, need, b.now()
	return refill(need-avail, restore)
}

func (b *bucket) middleware(next requests.Doer) requests.Doer {
	return requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodPost { // a bulk download: not a query
			return next.Do(req)
		}
		if d := b.reserve(); d > 0 {
			if err := b.sleep(req.Context(), d); err != nil {
				return nil, err
			}
		}
		resp, err := next.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxGraphQLBody+1))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the GraphQL response: %w", err)
		}
		if len(body) > maxGraphQLBody {
			return nil, fmt.Errorf("the GraphQL response is larger than %d MiB: lower page_size", maxGraphQLBody>>20)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		wait := b.observe(gjson.GetBytes(body, "extensions.cost"))
		errs := gjson.GetBytes(body, "errors")
		if !errs.IsArray() || len(errs.Array()) == 0 {
			return resp, nil
		}
		status := http.StatusBadRequest
		errs.ForEach(func(_, e gjson.Result) bool {
			switch e.Get("extensions.code").String() {
			case "THROTTLED":
				status = http.StatusTooManyRequests
				resp.Header.Set("Retry-After", strconv.FormatFloat(max(wait.Seconds(), 0.001), 'f', 3, 64))
				return false
			case "ACCESS_DENIED":
				status = http.StatusForbidden
			case "INTERNAL_SERVER_ERROR":
				status = http.StatusInternalServerError
			}
			return true
		})
		resp.StatusCode, resp.Status = status, fmt.Sprintf("%d %s", status, http.StatusText(status))
		return resp, nil
	})
}
