package hubspot

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/requests"
)

// writeConfig writes cfg where a command line can read it.
func writeConfig(t *testing.T, cfg any) string {
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A refused token is a config error in plain words, in check and in a
// sync, and the sync stops at the first refusal.
func TestBadCredentials(t *testing.T) {
	srv := serve(t, newFixture(3))
	cfg := tokenConfig(srv)
	cfg["credentials"] = map[string]any{"auth_type": "private_app", "access_token": "pat-na1-00000000-wrong-token-000000000000"}

	check := integtest.Run(t, Source(), []string{"check", "--config", writeConfig(t, cfg)})
	var status struct {
		ConnectionStatus struct{ Status, Message string } `json:"connectionStatus"`
	}
	if m := check.MessagesOf("CONNECTION_STATUS"); len(m) != 1 || json.Unmarshal(m[0], &status) != nil {
		t.Fatalf("check: %s", check.Stdout)
	}
	if msg := status.ConnectionStatus.Message; status.ConnectionStatus.Status != "FAILED" ||
		!strings.Contains(msg, "refused the credentials") || !strings.Contains(msg, "check the token") {
		t.Errorf("check: %+v", status.ConnectionStatus)
	}

	for _, p := range []integtest.Protocol{integtest.Singer, integtest.Airbyte} {
		srv.Reset()
		res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams("owners", "deals"), integtest.WithExpectedFailure())
		msg := res.Failure()
		if !strings.Contains(msg, "refused the credentials") || !strings.Contains(msg, "check the token") {
			t.Errorf("%s: failure %q", p, msg)
		}
		if p == integtest.Airbyte && res.FailureType() != "config_error" {
			t.Errorf("failure type %q", res.FailureType())
		}
		for _, r := range srv.Requests() {
			if strings.Contains(r.Path, "/objects/") {
				t.Errorf("%s: a request after the credentials were refused: %s", p, r)
			}
		}
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
		f.fault = func(r *http.Request, _ int) (int, http.Header, string, bool) {
			if strings.HasPrefix(r.URL.Path, "/crm/v3/objects/deals") {
				return http.StatusForbidden, nil, bodyMissingScopes, true
			}
			return 0, nil, "", false
		}
		srv := serve(t, f)
		for _, p := range []integtest.Protocol{integtest.Singer, integtest.Airbyte} {
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
		f.fault = func(r *http.Request, _ int) (int, http.Header, string, bool) {
			if r.URL.Path == "/crm/v3/owners" {
				return http.StatusForbidden, nil, bodyMissingScopes, true
			}
			return 0, nil, "", false
		}
		srv := serve(t, f)
		res := integtest.Run(t, Source(), []string{"check", "--config", writeConfig(t, tokenConfig(srv))})
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
		disc := integtest.Run(t, Source(), []string{"discover", "--config", writeConfig(t, tokenConfig(srv))})
		var names []string
		for _, m := range disc.MessagesOf("CATALOG") {
			var c struct {
				Catalog struct {
					Streams []struct{ Name string } `json:"streams"`
				} `json:"catalog"`
			}
			_ = json.Unmarshal(m, &c)
			for _, s := range c.Catalog.Streams {
				names = append(names, s.Name)
			}
		}
		if strings.Join(names, ",") != "owners,contacts,companies,tickets" {
			t.Errorf("discovered %v", names)
		}
		if out := string(disc.Stdout); !strings.Contains(out, `"stream_descriptor":{"name":"deals"}`) || !strings.Contains(out, "required scopes") {
			t.Errorf("discover does not report deals")
		}
	})
}

// sleeps records the retry layer's waits instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// fastHTTP retries up to 5 times and records the waits.
func fastHTTP(s *sleeps) integtest.Option {
	return integtest.WithHTTP(integ.HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: 5, Sleep: s.sleep}})
}

// A 429 is waited out as HubSpot's body says, and the sync goes on.
func TestRateLimited(t *testing.T) {
	f := newFixture(4)
	seen := map[string]int{}
	f.fault = func(r *http.Request, _ int) (int, http.Header, string, bool) {
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
		var s sleeps
		res := integtest.Sync(t, Source(), tokenConfig(srv), integtest.WithStreams("deals"), integtest.WithMode(c.mode), fastHTTP(&s))
		if n := len(res.Records("deals")); n != 4 {
			t.Errorf("%s: %d deals", c.mode, n)
		}
		var waits []time.Duration
		for _, d := range s.all() {
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
	f.fault = func(r *http.Request, _ int) (int, http.Header, string, bool) {
		if strings.Contains(r.URL.Path, "/objects/") {
			return http.StatusTooManyRequests, nil, bodyDaily, true
		}
		return 0, nil, "", false
	}
	srv := serve(t, f)
	var s sleeps
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

// A burst of 5xx answers is retried.
func TestServerErrorBurst(t *testing.T) {
	f := newFixture(5)
	seen := map[string]int{}
	f.fault = func(r *http.Request, _ int) (int, http.Header, string, bool) {
		key := r.Method + " " + r.URL.String()
		if seen[key] >= 3 {
			return 0, nil, "", false
		}
		seen[key]++
		return []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}[seen[key]-1],
			nil, `{"status":"error","message":"internal error","correlationId":"4c5a2b1e-0000-4000-8000-00000000000c"}`, true
	}
	srv := serve(t, f)
	var s sleeps
	for _, mode := range []integ.SyncMode{integ.ModeFullRefresh, integ.ModeIncremental} {
		res := integtest.Sync(t, Source(), tokenConfig(srv), integtest.WithMode(mode), fastHTTP(&s))
		for _, st := range crmStreams {
			if n := len(res.Records(st)); n != 5 {
				t.Errorf("%s %s: %d records", mode, st, n)
			}
		}
	}
}

// fakeClock is a clock that sleeping moves forward.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
	s   sleeps
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
	return c.s.sleep(ctx, d)
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
	for _, d := range clock.s.all() {
		total += d
	}
	// 3 searches at 2 per second, the first at once: a second of waiting
	// (and the limiter's margin: no second may see a third search); the
	// owners' two GETs and the properties GET add none.
	if want := time.Second + requests.WindowMargin; total != want {
		t.Errorf("searches waited %s (%v), want %s", total, clock.s.all(), want)
	}
}
