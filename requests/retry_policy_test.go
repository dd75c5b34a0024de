package requests_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/requests"
)

func body(code int, text string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, text)
	}
}

func TestRetryClassifiers(t *testing.T) {
	ok := jsonBody(`{"ok":true}`)
	ft0 := newFakeTime()
	resetIn := func(d time.Duration) string { return strconv.FormatInt(ft0.Now().Add(d).Unix(), 10) }
	github := []requests.RetryClassifier{requests.GitHubRateLimits()}
	salesforce := []requests.RetryClassifier{requests.SalesforceRequestLimit()}
	const ghPrimary = `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`
	const ghSecondary = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	tests := []struct {
		name      string
		classify  []requests.RetryClassifier
		maxAfter  time.Duration
		steps     []http.HandlerFunc
		wantCalls int
		wantWaits []time.Duration
		wantRate  string // a *RateLimitError whose message has this
		wantErr   int    // a plain StatusError
	}{
		{name: "GitHub primary 403 waits for the reset", classify: github, maxAfter: time.Hour,
			steps:     []http.HandlerFunc{body(403, ghPrimary, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", resetIn(20*time.Minute)), ok},
			wantCalls: 2, wantWaits: []time.Duration{20 * time.Minute}},
		{name: "GitHub primary 429 too", classify: github, maxAfter: time.Hour,
			steps:     []http.HandlerFunc{body(429, ghPrimary, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", resetIn(90*time.Second)), ok},
			wantCalls: 2, wantWaits: []time.Duration{90 * time.Second}},
		{name: "GitHub reset beyond MaxRetryAfter", classify: github, maxAfter: 10 * time.Minute,
			steps:     []http.HandlerFunc{body(403, ghPrimary, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", resetIn(55*time.Minute)), ok},
			wantCalls: 1, wantRate: "rate limit exhausted (GitHub primary rate limit); it resets at 2024-05-06T08:03:09Z, later than this source waits (10m0s); try again then: GET"},
		{name: "GitHub secondary with retry-after", classify: github,
			steps:     []http.HandlerFunc{body(403, ghSecondary, "Retry-After", "60"), ok},
			wantCalls: 2, wantWaits: []time.Duration{time.Minute}},
		{name: "GitHub secondary without headers waits a minute", classify: github,
			steps:     []http.HandlerFunc{body(403, ghSecondary), ok},
			wantCalls: 2, wantWaits: []time.Duration{time.Minute}},
		{name: "a 403 that is no rate limit is not retried", classify: github,
			steps:     []http.HandlerFunc{body(403, `{"message":"Resource not accessible by integration"}`, "X-RateLimit-Remaining", "4999"), ok},
			wantCalls: 1, wantErr: 403},
		{name: "without the classifier a rate-limit 403 is not retried",
			steps:     []http.HandlerFunc{body(403, ghPrimary, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", resetIn(time.Minute)), ok},
			wantCalls: 1, wantErr: 403},
		{name: "Salesforce REQUEST_LIMIT_EXCEEDED is not hammered", classify: salesforce,
			steps:     []http.HandlerFunc{body(403, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`), ok},
			wantCalls: 1, wantRate: "Salesforce REQUEST_LIMIT_EXCEEDED"},
		{name: "Salesforce other 403", classify: salesforce,
			steps:     []http.HandlerFunc{body(403, `[{"message":"The REST API is not enabled for this Organization.","errorCode":"API_DISABLED_FOR_ORG"}]`), ok},
			wantCalls: 1, wantErr: 403},
		{name: "classifiers leave 5xx to the default rules", classify: append(github, salesforce...),
			steps:     []http.HandlerFunc{body(503, `{}`), ok},
			wantCalls: 2, wantWaits: []time.Duration{500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sc := serve(t, tt.steps...)
			ft := newFakeTime()
			var logs []string
			d := retrying(ft, srv.Client(), requests.RetryOptions{Classifiers: tt.classify, MaxRetryAfter: tt.maxAfter,
				Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }})
			resp, err := requests.Do(context.Background(), d, requests.New(srv.URL+"/repos/o/r/issues"), 0)
			if got := int(sc.calls.Load()); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if got := ft.Waits(); !equalDurations(got, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tt.wantWaits)
			}
			var rl *requests.RateLimitError
			var se *requests.StatusError
			switch {
			case tt.wantRate != "":
				if !errors.As(err, &rl) || !strings.Contains(err.Error(), tt.wantRate) {
					t.Fatalf("err = %v, want a RateLimitError with %q", err, tt.wantRate)
				}
				if !errors.As(err, &se) || se.Status != 403 || se.BodyExcerpt == "" {
					t.Errorf("the RateLimitError does not carry the server's answer: %#v", se)
				}
			case tt.wantErr != 0:
				if !errors.As(err, &se) || se.Status != tt.wantErr || errors.As(err, &rl) {
					t.Fatalf("err = %v, want a plain StatusError %d", err, tt.wantErr)
				}
				if !strings.Contains(se.BodyExcerpt, "message") {
					t.Errorf("classifying lost the body: %q", se.BodyExcerpt)
				}
			default:
				if err != nil || !resp.Get("ok").Bool() {
					t.Fatalf("err = %v", err)
				}
			}
			if len(tt.wantWaits) > 0 && tt.wantWaits[0] >= 30*time.Second {
				all := strings.Join(logs, "\n")
				if !strings.Contains(all, "before retrying") || !strings.Contains(all, "resuming after waiting") {
					t.Errorf("a long wait is not logged:\n%s", all)
				}
			}
		})
	}
}

func TestRetryOptionsMerge(t *testing.T) {
	run := requests.RetryOptions{MaxAttempts: 5, MaxRetryAfter: time.Minute, Classifiers: []requests.RetryClassifier{requests.RateLimitHeaders()}}
	src := requests.RetryOptions{MaxRetryAfter: time.Hour, Classifiers: []requests.RetryClassifier{requests.SalesforceRequestLimit()}}
	m := run.Merge(src)
	if m.MaxAttempts != 5 || m.MaxRetryAfter != time.Hour || len(m.Classifiers) != 2 {
		t.Errorf("merged %+v", m)
	}
	if len(run.Classifiers) != 1 {
		t.Errorf("Merge changed its receiver")
	}
}
