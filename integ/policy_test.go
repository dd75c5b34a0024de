package integ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

// Bodies as the vendors document them.
const (
	hubspotMissingScopes = `{"status":"error","message":"This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.","correlationId":"b1b2c3d4","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.deals.read"]}}],"category":"MISSING_SCOPES"}`
	githubNotFound       = `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/issues/issues#list-repository-issues","status":"404"}`
	githubBadCredentials = `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`
	salesforceLimit      = `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`
)

// policyAPI answers /<name> with one page of two records, or with the
// status and body configured for that name.
func policyAPI(t *testing.T, refusals map[string]func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		name := strings.TrimPrefix(r.URL.Path, "/")
		if refuse, ok := refusals[name]; ok {
			refuse(w)
			return
		}
		fmt.Fprint(w, `{"data":[{"id":1},{"id":2}]}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func refuse(status int, body string, hdr ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

func listStream(name string, opts ...StreamOption) *Stream {
	return NewStream(name, struct {
		ID int `json:"id"`
	}{}, func(c *HttpContext) error {
		var cfg eventsConfig
		if err := c.Load(&cfg, nil); err != nil {
			return err
		}
		return c.EmitPages(requests.New(cfg.BaseURL+"/"+name), requests.NextURL("next"), "data")
	}, append([]StreamOption{PrimaryKey("id")}, opts...)...)
}

// syncStreams runs the streams one after the other and returns the output,
// the log and the error.
func syncStreams(t *testing.T, srv *httptest.Server, opts []SourceOption, streams ...*Stream) (string, string, error) {
	t.Helper()
	src := NewSource("policy", eventsConfig{}, append([]SourceOption{WithStreams(streams...)}, opts...)...)
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out, log bytes.Buffer
	err = src.Sync(context.Background(), SyncOptions{
		Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&out), Parallelism: 1,
		Logger: slog.New(slog.NewTextHandler(&log, nil)),
		HTTP:   HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: 1}},
	})
	return out.String(), log.String(), err
}

func TestSyncForbiddenStreamFailsAloneWithAScopeMessage(t *testing.T) {
	srv, _ := policyAPI(t, map[string]func(http.ResponseWriter){"deals": refuse(403, hubspotMissingScopes)})
	out, _, err := syncStreams(t, srv, nil, listStream("contacts"), listStream("deals"), listStream("companies"))
	if err == nil {
		t.Fatal("a sync with a refused stream succeeded")
	}
	for _, want := range []string{"END contacts ok records=2", "END deals failed", "END companies ok records=2"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	msg := UserMessage(err)
	for _, want := range []string{`stream "deals"`, "403 Forbidden", "hasn't been granted all required scopes", "permission or scope"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if KindOf(err) != ConfigFailure {
		t.Errorf("kind %v, want config_error", KindOf(err))
	}
}

func TestSyncBadCredentialsAbortLaterStreams(t *testing.T) {
	srv, hits := policyAPI(t, map[string]func(http.ResponseWriter){"issues": refuse(401, githubBadCredentials)})
	out, log, err := syncStreams(t, srv, nil, listStream("issues"), listStream("pulls"), listStream("commits"))
	if err == nil || !strings.Contains(UserMessage(err), "refused the credentials") || !strings.Contains(UserMessage(err), "Bad credentials") {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(out, "START pulls") || strings.Contains(out, "START commits") || hits.Load() != 1 {
		t.Errorf("streams after a refused credential ran (%d requests):\n%s", hits.Load(), out)
	}
	if !strings.Contains(log, "stream not started") {
		t.Errorf("no warning for the streams not started:\n%s", log)
	}
}

func TestSyncSkipPolicyEndsTheStreamWithAWarning(t *testing.T) {
	srv, _ := policyAPI(t, map[string]func(http.ResponseWriter){"issues": refuse(404, githubNotFound)})
	out, log, err := syncStreams(t, srv, []SourceOption{WithErrorPolicy(SkipOn(http.StatusNotFound))},
		listStream("repos"), listStream("issues"), listStream("pulls"))
	if err != nil {
		t.Fatalf("a skipped stream failed the sync: %v", err)
	}
	if !strings.Contains(out, "END issues ok records=0") || !strings.Contains(out, "END pulls ok records=2") {
		t.Errorf("output:\n%s", out)
	}
	if !strings.Contains(log, "stream skipped") || !strings.Contains(log, "404 Not Found: Not Found") {
		t.Errorf("no skip warning:\n%s", log)
	}
}

func TestSyncStreamPolicyOverridesSource(t *testing.T) {
	srv, hits := policyAPI(t, map[string]func(http.ResponseWriter){"deals": refuse(403, hubspotMissingScopes)})
	abortOn403 := func(err error) ErrorAction {
		var se *requests.StatusError
		if errors.As(err, &se) && se.Status == 403 {
			return Abort
		}
		return Default
	}
	_, _, err := syncStreams(t, srv, []SourceOption{WithErrorPolicy(abortOn403)},
		listStream("deals", OnError(SkipOn(403))), listStream("contacts"))
	if err != nil || hits.Load() != 2 {
		t.Errorf("the stream's Skip must win over the source's Abort: %v, %d requests", err, hits.Load())
	}
	_, _, err = syncStreams(t, srv, []SourceOption{WithErrorPolicy(abortOn403)}, listStream("deals"), listStream("contacts"))
	if err == nil || hits.Load() != 3 {
		t.Errorf("the source's Abort must stop contacts: %v, %d requests", err, hits.Load())
	}
}

func TestDecideTable(t *testing.T) {
	st := func(code int, body string) error {
		return fmt.Errorf("stream %q: %w", "s", &requests.StatusError{Method: "GET", URL: "https://api.test/x", Status: code, Attempts: 1, BodyExcerpt: body})
	}
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	skip404 := SkipOn(404)
	failAll := func(error) ErrorAction { return Fail }
	tests := []struct {
		name           string
		stream, source ErrorPolicy
		err            error
		want           ErrorAction
		kind           FailureKind
		msgHas         string
		started        bool
	}{
		{"401 aborts", nil, nil, st(401, githubBadCredentials), Abort, ConfigFailure, "refused the credentials", false},
		{"403 fails its stream", nil, nil, st(403, hubspotMissingScopes), Fail, ConfigFailure, "permission or scope", false},
		{"404 mid-sync fails, not the user's config", nil, nil, st(404, githubNotFound), Fail, SystemFailure, "may have been deleted", true},
		{"404 on the first request points at the config", nil, nil, st(404, githubNotFound), Fail, ConfigFailure, "check the config's base URL", false},
		{"400 says the server refused", nil, nil, st(400, `{"error":{"message":"Invalid date"}}`), Fail, SystemFailure, "the server refused: GET https://api.test/x answered 400 Bad Request: Invalid date", true},
		{"422 says the server refused", nil, nil, st(422, `{"message":"Validation Failed"}`), Fail, SystemFailure, "answered 422 Unprocessable Entity: Validation Failed", false},
		{"Salesforce array body", nil, nil, st(403, salesforceLimit), Fail, ConfigFailure, "TotalRequests Limit exceeded. (REQUEST_LIMIT_EXCEEDED)", false},
		{"503 transient", nil, nil, st(503, ""), Fail, TransientFailure, "try again later", false},
		{"unreachable host aborts", nil, nil, fmt.Errorf("GET x: %w", opErr), Abort, TransientFailure, "", false},
		{"spent rate limit aborts", nil, nil, &requests.RateLimitError{Reason: "r", Err: &requests.StatusError{Status: 403}}, Abort, TransientFailure, "rate limit exhausted (r)", false},
		{"source SkipOn", nil, skip404, st(404, ""), Skip, SystemFailure, "", true},
		{"stream wins over source", failAll, skip404, st(404, ""), Fail, ConfigFailure, "", false},
		{"stream Default defers to source", skip404, failAll, st(401, ""), Fail, ConfigFailure, "", false},
		{"plain error fails", nil, nil, errors.New("boom"), Fail, SystemFailure, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &Source{onError: tt.source}
			s := &Stream{Name: "s", onError: tt.stream}
			if got := src.decide(s, tt.err); got != tt.want {
				t.Errorf("decide = %v, want %v", got, tt.want)
			}
			e := explain("s", tt.err, tt.started)
			if KindOf(e) != tt.kind {
				t.Errorf("kind %v, want %v", KindOf(e), tt.kind)
			}
			if !strings.Contains(UserMessage(e), tt.msgHas) {
				t.Errorf("message %q lacks %q", UserMessage(e), tt.msgHas)
			}
		})
	}
}

// githubAPI answers like GitHub out of its primary rate limit: a 403 with
// x-ratelimit-remaining 0 and the reset in epoch seconds, then a page.
func TestSyncWaitsOutAGitHubRateLimitReset(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 30, 19, 0, 0, 0, time.UTC)}
	reset := clock.now.Add(40 * time.Minute)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("x-ratelimit-limit", "5000")
			w.Header().Set("x-ratelimit-remaining", "0")
			w.Header().Set("x-ratelimit-used", "5000")
			w.Header().Set("x-ratelimit-reset", fmt.Sprint(reset.Unix()))
			w.Header().Set("x-ratelimit-resource", "core")
			w.WriteHeader(403)
			fmt.Fprint(w, `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`)
			return
		}
		fmt.Fprint(w, `{"data":[{"id":1}]}`)
	}))
	defer srv.Close()
	run := func(maxWait time.Duration) (string, string, error) {
		hits.Store(0)
		clock.waits = nil
		src := NewSource("github", eventsConfig{}, WithStreams(listStream("issues")), WithRetry(requests.RetryOptions{
			MaxRetryAfter: maxWait,
			Classifiers:   []requests.RetryClassifier{requests.GitHubRateLimits()},
		}))
		cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
		var out, log bytes.Buffer
		err := src.Sync(context.Background(), SyncOptions{
			Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&out),
			Logger: slog.New(slog.NewTextHandler(&log, nil)),
			HTTP:   HTTPOptions{Retry: requests.RetryOptions{Clock: clock, Sleep: clock.Sleep}},
		})
		return out.String(), log.String(), err
	}
	out, log, err := run(time.Hour)
	if err != nil || !strings.Contains(out, "END issues ok records=1") {
		t.Fatalf("the reset was not waited for: %v\n%s", err, out)
	}
	if len(clock.waits) != 1 || clock.waits[0] != 40*time.Minute {
		t.Errorf("waits %v, want [40m]", clock.waits)
	}
	if !strings.Contains(log, "waiting 40m0s, until 2026-11-30T19:40:00Z") || !strings.Contains(log, "resuming after waiting 40m0s") {
		t.Errorf("the long wait is not logged:\n%s", log)
	}

	clock.now = reset.Add(-40 * time.Minute)
	out, _, err = run(5 * time.Minute)
	if err == nil || hits.Load() != 1 || len(clock.waits) != 0 {
		t.Fatalf("a reset beyond MaxRetryAfter was waited for: %v, %d requests, waits %v", err, hits.Load(), clock.waits)
	}
	msg := UserMessage(err)
	for _, want := range []string{"rate limit exhausted (GitHub primary rate limit)", "it resets at 2026-11-30T19:40:00Z", "API rate limit exceeded for user ID 1."} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if KindOf(err) != TransientFailure || !strings.Contains(out, "END issues failed") {
		t.Errorf("kind %v\n%s", KindOf(err), out)
	}
}

type fakeClock struct {
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return nil
}

func TestEmitPagesRefusesARepeatedRequestFromAnyPaginator(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, `{"data":[{"id":1}],"page":"`+r.URL.Query().Get("page")+`"}`)
	}))
	defer srv.Close()
	// A custom paginator that goes 1, 2, 3, 2: the API's "next" cycles.
	cycle := map[string]string{"": "1", "1": "2", "2": "3", "3": "2"}
	p := requests.PaginatorFunc(func(prev *requests.Request, resp *requests.JSONResponse, count int) (*requests.Request, error) {
		return prev.Clone().SetQuery("page", cycle[resp.Get("page").String()]), nil
	})
	st := NewStream("loop", struct {
		ID int `json:"id"`
	}{}, func(c *HttpContext) error {
		return c.EmitPages(requests.New(srv.URL+"/items"), p, "data")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src := NewSource("loop", eventsConfig{}, WithStreams(st))
	cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = src.Sync(ctx, SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&out)})
	if !errors.Is(err, requests.ErrPaginationLoop) || !strings.Contains(err.Error(), "page=2") {
		t.Fatalf("err = %v", err)
	}
	if hits.Load() != 4 || !strings.Contains(out.String(), "END loop failed records=4") {
		t.Errorf("%d requests, want 4:\n%s", hits.Load(), out.String())
	}
}

// FuzzAPIMessage: any error body (server-controlled, possibly cut short)
// gives a one-line message or none, never a panic.
func FuzzAPIMessage(f *testing.F) {
	for _, s := range []string{hubspotMissingScopes, githubNotFound, salesforceLimit, `{"error":{"message":"x"}}`, `{"error":"invalid_grant","error_description":"expired"}`, `[{"message":`, `<html>`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		_ = APIMessage(body)
	})
}

func TestSkippedUnsortedStreamKeepsItsBookmark(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") != "0" {
			w.WriteHeader(404)
			fmt.Fprint(w, githubNotFound)
			return
		}
		fmt.Fprint(w, `{"data":[{"id":2,"updated_at":"2024-01-02T00:00:00Z"},{"id":1,"updated_at":"2024-01-01T00:00:00Z"}],"next":1}`)
	}))
	defer srv.Close()
	st := NewStream("events", event{}, eventsRunner, PrimaryKey("id"), Incremental("updated_at"))
	out, log, err := syncStreams(t, srv, []SourceOption{WithErrorPolicy(SkipOn(404))}, st)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "END events ok records=2") || !strings.Contains(log, "stream skipped") {
		t.Errorf("output:\n%s\nlog:\n%s", out, log)
	}
	// The stream is unsorted and did not finish: moving its bookmark to
	// the newest record read would lose the older ones it never reached.
	if strings.Contains(out, "2024-01-02") && strings.Contains(lines(out, "STATE")[len(lines(out, "STATE"))-1], "2024-01-02") {
		t.Errorf("a skipped unsorted stream moved its bookmark:\n%s", out)
	}
}

func TestWithAdaptiveLimitPacesTheRun(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		w.Header().Set("X-Shopify-Shop-Api-Call-Limit", "39/40") // nearly full: every call must wait for the leak
		next := ""
		if n < 3 {
			next = fmt.Sprintf(`,"next":"?page=%d"`, n+1)
		}
		fmt.Fprintf(w, `{"data":[{"id":%d}]%s}`, n, next)
	}))
	defer srv.Close()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	sleep := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		return clock.Sleep(ctx, d)
	}
	out, _, err := syncStreams(t, srv, []SourceOption{WithAdaptiveLimit(requests.AdaptiveOptions{
		Readers: []requests.BudgetReader{requests.ShopifyCallLimit(2)}, Clock: clock, Sleep: sleep,
	})}, listStream("products"))
	if err != nil || !strings.Contains(out, "END products ok records=3") {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(clock.waits) != 2 || clock.waits[0] <= 0 {
		t.Errorf("waits %v, want one before each request after the first", clock.waits)
	}
}

func TestSyncSalesforceRequestLimitStopsWithoutHammering(t *testing.T) {
	srv, hits := policyAPI(t, map[string]func(http.ResponseWriter){
		"Account": refuse(403, salesforceLimit, "Sforce-Limit-Info", "api-usage=15001/15000"),
	})
	_, log, err := syncStreams(t, srv, []SourceOption{WithRetry(requests.RetryOptions{
		MaxAttempts: 5, Classifiers: []requests.RetryClassifier{requests.SalesforceRequestLimit()},
	})}, listStream("Account"), listStream("Contact"), listStream("Opportunity"))
	if err == nil || hits.Load() != 1 {
		t.Fatalf("%d requests (want 1: no retry, no other stream): %v", hits.Load(), err)
	}
	msg := UserMessage(err)
	for _, want := range []string{`stream "Account"`, "REQUEST_LIMIT_EXCEEDED", "24-hour API request allowance is used up", "try again later"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if KindOf(err) != TransientFailure || !strings.Contains(log, "stream not started") {
		t.Errorf("kind %v, log:\n%s", KindOf(err), log)
	}
}

// BenchmarkLoopCheck is what EmitPages' loop check adds to every page.
func BenchmarkLoopCheck(b *testing.B) {
	sent := sentRequests{}
	req := requests.New("https://api.hubapi.com/crm/v3/objects/deals/search").Method("POST").
		Body([]byte(`{"filterGroups":[{"filters":[{"propertyName":"hs_lastmodifieddate","operator":"GTE","value":"1700000000000"}]}],"limit":100,"after":"0"}`))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sent.add(req.Clone().SetQuery("n", strconv.Itoa(i)))
	}
}
