package shopify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

func costOf(requested, maximum, avail, restore float64) gjson.Result {
	return gjson.Parse(`{"requestedQueryCost":` + ftoa(requested) + `,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":` +
		ftoa(maximum) + `,"currentlyAvailable":` + ftoa(avail) + `,"restoreRate":` + ftoa(restore) + `}}`)
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// recorder is a bucket on a fake clock that records its waits.
func recorder(now *time.Time) (*bucket, *[]time.Duration) {
	var waits []time.Duration
	b := newBucket(func() time.Time { return *now }, func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		*now = now.Add(d)
		return nil
	})
	return b, &waits
}

// take is b.take bounded by a deadline: a bucket that never lets a query
// through fails the test instead of hanging it.
func take(t *testing.T, b *bucket) ticket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tk, err := b.take(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// The waits are computed from throttleStatus, on a fake clock.
func TestBucketWaits(t *testing.T) {
	cases := []struct {
		name                            string
		requested, maximum, avail, rate float64
		elapsed                         time.Duration // between the answer and the next query
		throttled, next                 time.Duration
	}{
		{"full bucket", 102, 1000, 898, 50, 0, 0, 0},
		{"enough left", 100, 1000, 150, 50, 0, 0, 0},
		{"short: wait for the points", 100, 1000, 40, 50, 0, 1200 * time.Millisecond, 1200 * time.Millisecond},
		{"short, but time passed", 100, 1000, 40, 50, 600 * time.Millisecond, 1200 * time.Millisecond, 600 * time.Millisecond},
		{"empty, fast restore", 252, 2000, 0, 100, 0, 2520 * time.Millisecond, 2520 * time.Millisecond},
		{"cost above the bucket: capped", 5000, 1000, 0, 50, 0, 20 * time.Second, 20 * time.Second},
		{"no throttle status", 100, 0, 0, 0, 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := time.Unix(1700000000, 0)
			b, waits := recorder(&now)
			probe := take(t, b)
			probe.seq = b.sent.Add(1)
			if got := b.answer(probe, costOf(c.requested, c.maximum, c.avail, c.rate)); got != c.throttled {
				t.Errorf("answer: wait %s, want %s", got, c.throttled)
			}
			now = now.Add(c.elapsed)
			take(t, b) // still unknown without a status: it probes, alone
			var got time.Duration
			if len(*waits) > 0 {
				got = (*waits)[0]
			}
			if got != c.next {
				t.Errorf("next query waits %s, want %s", got, c.next)
			}
		})
	}
}

// Queries sent one after another, before any is answered, each wait for
// their own cost on top of the others'.
func TestBucketQueues(t *testing.T) {
	now := time.Unix(1700000000, 0)
	b, waits := recorder(&now)
	probe := take(t, b)
	probe.seq = b.sent.Add(1)
	b.answer(probe, costOf(100, 1000, 250, 50)) // room for two more queries
	var sent []ticket
	for range 4 {
		tk := take(t, b)
		tk.seq = b.sent.Add(1) // as the middleware does when it is written
		sent = append(sent, tk)
	}
	// 250 points: two queries at once, then one every 2s (100 points at 50/s).
	want := []time.Duration{time.Second, 2 * time.Second}
	if fmt.Sprint(*waits) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", *waits, want)
	}
	// Answers give the taken points back. The report of the query written
	// last wins; an older one only when it says the bucket holds less.
	b.answer(sent[3], costOf(100, 1000, 150, 50))
	b.answer(sent[2], costOf(100, 1000, 1000, 50)) // older and higher: ignored
	b.answer(sent[0], gjson.Result{})
	b.answer(sent[1], gjson.Result{})
	*waits = nil
	take(t, b)
	take(t, b)
	if fmt.Sprint(*waits) != "[1s]" {
		t.Errorf("150 points for two queries of 100: waits %v, want [1s]", *waits)
	}
	old := ticket{seq: 1}
	b.answer(old, costOf(100, 1000, 0, 50)) // older but lower: taken
	*waits = nil
	take(t, b)
	if fmt.Sprint(*waits) != "[6s]" { // 100 points, and the 200 owed
		t.Errorf("an empty bucket with 200 points owed: waits %v, want [6s]", *waits)
	}
}

// Until the first answer, one query goes alone; the others go when it is
// answered, or one of them probes in its place if the answer had no cost.
func TestBucketProbe(t *testing.T) {
	b := newBucket(nil, nil)
	probe := take(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.take(ctx); err == nil {
		t.Fatal("a second query went before the first was answered")
	}
	b.answer(probe, gjson.Result{}) // a 502: still unknown
	probe = take(t, b)              // probes in its place
	probe.seq = b.sent.Add(1)
	b.answer(probe, costOf(10, 1000, 1000, 50))
	for range 3 {
		take(t, b)
	}
}

// serveOnce is a Doer answering one body with status 200.
func serveOnce(body string) requests.Doer {
	return requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	})
}

// TestGraphQLErrorsBecomeStatuses: the source's retry layer reads GraphQL
// errors in a 200 as statuses, a THROTTLED one waiting as long as
// throttleStatus says the bucket needs to hold the query's cost.
func TestGraphQLErrorsBecomeStatuses(t *testing.T) {
	gql := requests.GraphQLErrors(requests.GraphQLOptions{Wait: throttleWait})
	cases := []struct {
		body   string
		wait   time.Duration
		status int
	}{
		{`{"data":{"shop":{"name":"x"}},"extensions":{"cost":{"requestedQueryCost":1,"throttleStatus":{"maximumAvailable":1000,"currentlyAvailable":999,"restoreRate":50}}}}`, 0, 0},
		{`{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],"extensions":{"cost":{"requestedQueryCost":752,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":666,"restoreRate":50.0}}}}`, 1720 * time.Millisecond, 429},
		{`{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}`, time.Millisecond, 429},
		{`{"errors":[{"message":"Access denied for orders field.","extensions":{"code":"ACCESS_DENIED"}}],"data":null}`, 0, 403},
		{`{"errors":[{"message":"Internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`, 0, 500},
		{`{"errors":[{"message":"Field 'x' doesn't exist on type 'Order'","extensions":{"code":"undefinedField"}}]}`, 0, 400},
		{`{"errors":[]}`, 0, 0},
		{`not json`, 0, 0},
	}
	for _, c := range cases {
		a := gql(&http.Response{StatusCode: 200}, []byte(c.body), time.Now())
		if a.Status != c.status || a.Wait.Round(time.Millisecond) != c.wait {
			t.Errorf("%s: status %d, wait %s; want %d, %s", c.body, a.Status, a.Wait, c.status, c.wait)
		}
	}
}

// Any answer is passed on with a status, never a panic.
func FuzzGraphQLAnswer(f *testing.F) {
	f.Add(`{"errors":[{"extensions":{"code":"THROTTLED"}}],"extensions":{"cost":{"requestedQueryCost":1e308,"throttleStatus":{"maximumAvailable":1,"currentlyAvailable":-5,"restoreRate":1e-300}}}}`)
	f.Add(`{"errors":"[API] Invalid API key"}`)
	f.Fuzz(func(t *testing.T, body string) {
		b := newBucket(nil, func(context.Context, time.Duration) error { return nil })
		req, _ := http.NewRequest(http.MethodPost, "https://s.myshopify.com/", nil)
		resp, err := b.middleware(serveOnce(body)).Do(req)
		if err != nil || resp.StatusCode < 200 {
			t.Fatalf("%v %v", resp, err)
		}
		b.mu.Lock()
		owed, probing := b.owed, b.probe != nil
		b.mu.Unlock()
		if owed != 0 || probing {
			t.Fatalf("after the answer: owed %v, probe open %v", owed, probing)
		}
	})
}
