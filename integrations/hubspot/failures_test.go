package hubspot

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/requests"
)

// A refused token is a config error in plain words, in check and in a
// sync; with the injected 401s of TestFailures, the sync stops at the
// first refusal.
func TestBadCredentials(t *testing.T) {
	srv := serve(t, newFixture(3))
	cfg := tokenConfig(srv)
	cfg["credentials"] = map[string]any{"auth_type": "private_app", "access_token": "pat-na1-00000000-wrong-token-000000000000"}
	// Every stream selected (no catalog): the refusal comes first from the
	// properties HubSpot's schemas are resolved from, and reads the same.
	integtest.BadCredentials(t, Source(), cfg, []string{"refused the credentials", "check the token"})
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/objects/") {
			t.Errorf("a request after the credentials were refused: %s", r)
		}
	}
}

// TestFailures runs integtest's failure suite over both ways HubSpot is
// read: search requests (incremental) and list pages (full refresh).
func TestFailures(t *testing.T) {
	for _, mode := range []integ.SyncMode{integ.ModeIncremental, integ.ModeFullRefresh} {
		f := newFixture(3)
		f.bodies = map[string][]byte{}
		integtest.Failures(t, Source(), f, func(srv *integtest.Server) any { return tokenConfig(srv) }, integtest.WithMode(mode))
	}
}

// Without the deals scope, deals fails with HubSpot's MISSING_SCOPES
// message; the other streams sync. Discover leaves deals out and says why.
func TestMissingScope(t *testing.T) {
	check := func(t *testing.T, res *integtest.Result) {
		t.Helper()
		for _, s := range []string{"contacts", "companies", "tickets", "owners"} {
			if len(res.Records(s)) != 3 {
				t.Errorf("%s: %d records", s, len(res.Records(s)))
			}
		}
		if len(res.Records("deals")) != 0 {
			t.Errorf("deals: %d records", len(res.Records("deals")))
		}
		logs := strings.Join(res.Logs(), "\n") + "\n" + res.Failure()
		if !strings.Contains(logs, `"deals"`) || !strings.Contains(logs, "required scopes") {
			t.Errorf("deals not reported with HubSpot's message:\n%s", logs)
		}
	}
	// The scope was revoked after discover: the catalog has deals, the
	// read is refused.
	t.Run("read", func(t *testing.T) {
		f := newFixture(3)
		f.Fault = func(r *http.Request, _ int) (int, http.Header, string, bool) {
			if strings.HasPrefix(r.URL.Path, "/crm/v3/objects/deals") {
				return http.StatusForbidden, nil, bodyMissingScopes, true
			}
			return 0, nil, "", false
		}
		srv := serve(t, f)
		for _, p := range integtest.Protocols() {
			res := integtest.Sync(t, Source(), tokenConfig(srv), integtest.WithProtocol(p), integtest.WithExpectedFailure(),
				integtest.WithStreams("contacts", "companies", "deals", "tickets", "owners"))
			check(t, res)
			if p == integtest.Airbyte && res.FailureType() != "config_error" {
				t.Errorf("failure type %q", res.FailureType())
			}
		}
	})
	t.Run("check", func(t *testing.T) {
		f := newFixture(3)
		f.Fault = func(r *http.Request, _ int) (int, http.Header, string, bool) {
			if r.URL.Path == "/crm/v3/owners" {
				return http.StatusForbidden, nil, bodyMissingScopes, true
			}
			return 0, nil, "", false
		}
		srv := serve(t, f)
		res := integtest.Check(t, Source(), tokenConfig(srv))
		if m := res.MessagesOf("CONNECTION_STATUS"); len(m) != 1 || !strings.Contains(string(m[0]), `"SUCCEEDED"`) {
			t.Errorf("check with a valid token lacking one scope: %s", res.Stdout)
		}
		if logs := strings.Join(res.Logs(), "\n"); !strings.Contains(logs, "cannot read owners") || !strings.Contains(logs, "required scopes") {
			t.Errorf("no warning: %s", logs)
		}
	})
	t.Run("discover", func(t *testing.T) {
		f := newFixture(3)
		f.denied["deals"] = true
		srv := serve(t, f)
		disc := integtest.Discover(t, Source(), tokenConfig(srv), integtest.WithProtocol(integtest.Airbyte))
		names := disc.CatalogStreams()
		if strings.Join(names, ",") != "owners,contacts,companies,tickets" {
			t.Errorf("discovered %v", names)
		}
		if out := string(disc.Stdout); !strings.Contains(out, `"stream_descriptor":{"name":"deals"}`) || !strings.Contains(out, "required scopes") {
			t.Errorf("discover does not report deals")
		}
	})
}

// fastHTTP retries up to 5 times and records the waits.
func fastHTTP(w *integtest.Waits) integtest.Option { return integtest.WithWaits(w, 5) }

// A 429 is waited out as HubSpot's body says, and the sync goes on.
func TestRateLimited(t *testing.T) {
	f := newFixture(4)
	seen := map[string]int{}
	f.Fault = func(r *http.Request, _ int) (int, http.Header, string, bool) {
		key := r.Method + " " + r.URL.Path
		if !strings.Contains(key, "/objects/deals") || seen[key] >= 2 {
			return 0, nil, "", false
		}
		seen[key]++
		if r.Method == http.MethodPost {
			return http.StatusTooManyRequests, nil, bodySecondly, true
		}
		return http.StatusTooManyRequests, http.Header{"X-Hubspot-Ratelimit-Interval-Milliseconds": {"10000"}, "X-Hubspot-Ratelimit-Max": {"190"}, "X-Hubspot-Ratelimit-Remaining": {"0"}}, bodyTenSecondly, true
	}
	srv := serve(t, f)
	for _, c := range []struct {
		mode integ.SyncMode
		wait time.Duration
	}{{integ.ModeFullRefresh, 10 * time.Second}, {integ.ModeIncremental, time.Second}} {
		clear(seen)
		var s integtest.Waits
		res := integtest.Sync(t, Source(), tokenConfig(srv), integtest.WithStreams("deals"), integtest.WithMode(c.mode), fastHTTP(&s))
		if n := len(res.Records("deals")); n != 4 {
			t.Errorf("%s: %d deals", c.mode, n)
		}
		var waits []time.Duration
		for _, d := range s.All() {
			if d >= time.Second { // the limiter's own pauses are shorter
				waits = append(waits, d)
			}
		}
		if len(waits) != 2 || waits[0] != c.wait || waits[1] != c.wait {
			t.Errorf("%s: waits %v, want two of %s", c.mode, waits, c.wait)
		}
	}
}

// The daily limit is not waited for: the sync stops, saying why.
func TestDailyLimit(t *testing.T) {
	f := newFixture(4)
	f.Fault = func(r *http.Request, _ int) (int, http.Header, string, bool) {
		if strings.Contains(r.URL.Path, "/objects/") {
			return http.StatusTooManyRequests, nil, bodyDaily, true
		}
		return 0, nil, "", false
	}
	srv := serve(t, f)
	var s integtest.Waits
	res := integtest.Sync(t, Source(), tokenConfig(srv), integtest.WithProtocol(integtest.Airbyte), integtest.WithStreams("deals", "tickets"),
		fastHTTP(&s), integtest.WithExpectedFailure())
	if msg := res.Failure(); !strings.Contains(msg, "daily request limit") {
		t.Errorf("failure %q", msg)
	}
	n := 0
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/objects/") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d object requests after a spent daily limit, want 1", n)
	}
}

// fakeClock is a clock that sleeping moves forward.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
	s   integtest.Waits
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return c.s.Sleep(ctx, d)
}

// Searches are paced at search_requests_per_second; other requests are not
// held back by that limit.
func TestSearchPace(t *testing.T) {
	clock := &fakeClock{now: epoch}
	old := newSearchLimiter
	newSearchLimiter = func(rps float64) *requests.Limiter {
		return requests.NewLimiter(rps, 1).WithClock(clock, clock.sleep)
	}
	t.Cleanup(func() { newSearchLimiter = old })
	srv := serve(t, newFixture(5))
	res := integtest.Sync(t, Source(), tokenConfig(srv, "search_requests_per_second", 2), integtest.WithStreams("deals", "owners"))
	if len(res.Records("deals")) != 5 || len(res.Records("owners")) != 3 {
		t.Fatalf("deals %d owners %d", len(res.Records("deals")), len(res.Records("owners")))
	}
	var total time.Duration
	for _, d := range clock.s.All() {
		total += d
	}
	// 3 searches at 2 per second, the first at once: a second of waiting
	// (and the limiter's margin: no second may see a third search); the
	// owners' two GETs and the properties GET add none.
	if want := time.Second + requests.WindowMargin; total != want {
		t.Errorf("searches waited %s (%v), want %s", total, clock.s.All(), want)
	}
}
