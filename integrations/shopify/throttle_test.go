package shopify

import (
	"context"
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

// The waits are computed from throttleStatus, on a fake clock.
func TestBucketWaits(t *testing.T) {
	cases := []struct {
		name                            string
		requested, maximum, avail, rate float64
		elapsed                         time.Duration // between the answer and the next query
		observe, next                   time.Duration
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
			b := newBucket(func() time.Time { return now }, nil)
			if got := b.observe(costOf(c.requested, c.maximum, c.avail, c.rate)); got != c.observe {
				t.Errorf("observe: wait %s, want %s", got, c.observe)
			}
			now = now.Add(c.elapsed)
			if got := b.reserve(); got != c.next {
				t.Errorf("next query waits %s, want %s", got, c.next)
			}
		})
	}
}

// Queries queued one after another each wait for their own cost.
func TestBucketQueues(t *testing.T) {
	now := time.Unix(1700000000, 0)
	b := newBucket(func() time.Time { return now }, nil)
	b.observe(costOf(100, 1000, 250, 50)) // room for two more queries
	var waits []time.Duration
	for range 4 {
		waits = append(waits, b.reserve())
	}
	want := []time.Duration{0, 0, time.Second, 3 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
}

// serveOnce is a Doer answering one body with status 200.
func serveOnce(body string) requests.Doer {
	return requests.DoerFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	})
}

func TestGraphQLErrorsBecomeStatuses(t *testing.T) {
	cases := []struct {
		body, retryAfter string
		status           int
	}{
		{`{"data":{"shop":{"name":"x"}},"extensions":{"cost":{"requestedQueryCost":1,"throttleStatus":{"maximumAvailable":1000,"currentlyAvailable":999,"restoreRate":50}}}}`, "", 200},
		{`{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],"extensions":{"cost":{"requestedQueryCost":752,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":666,"restoreRate":50.0}}}}`, "1.720", 429},
		{`{"errors":[{"message":"Access denied for orders field.","extensions":{"code":"ACCESS_DENIED"}}],"data":null}`, "", 403},
		{`{"errors":[{"message":"Internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`, "", 500},
		{`{"errors":[{"message":"Field 'x' doesn't exist on type 'Order'","extensions":{"code":"undefinedField"}}]}`, "", 400},
		{`{"errors":[]}`, "", 200},
		{`not json`, "", 200},
	}
	for _, c := range cases {
		b := newBucket(nil, func(context.Context, time.Duration) error { return nil })
		req, _ := http.NewRequest(http.MethodPost, "https://s.myshopify.com/admin/api/2026-01/graphql.json", nil)
		resp, err := b.middleware(serveOnce(c.body)).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != c.status || resp.Header.Get("Retry-After") != c.retryAfter || string(body) != c.body {
			t.Errorf("%s: %d Retry-After %q, body %s; want %d %q", c.body, resp.StatusCode, resp.Header.Get("Retry-After"), body, c.status, c.retryAfter)
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
		if d := b.reserve(); d < 0 {
			t.Fatalf("negative wait %s", d)
		}
	})
}
