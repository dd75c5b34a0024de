package integ

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/requests"
)

// A refused check reads as a refused sync does: who refused what, the API's
// own words, and what to do, in the message people see.
func TestCheckExplainsRefusal(t *testing.T) {
	for _, tc := range []struct {
		status int
		kind   FailureKind
		want   string
	}{
		{http.StatusUnauthorized, ConfigFailure, "the API refused the credentials"},
		{http.StatusForbidden, ConfigFailure, "the API refused access"},
		{http.StatusNotFound, ConfigFailure, "check the config's base URL"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			w.Write([]byte(`{"errors":[{"code":"not_authenticated","detail":"Missing or invalid private key."}]}`))
		}))
		src := eventsSource(t)
		cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
		err := src.Check(context.Background(), cfg, nil, HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: 1}})
		srv.Close()
		msg := UserMessage(err)
		if KindOf(err) != tc.kind || !strings.Contains(msg, `stream "events"`) || !strings.Contains(msg, tc.want) ||
			!strings.Contains(msg, "Missing or invalid private key.") || strings.Contains(msg, `{"errors"`) {
			t.Errorf("%d: %v: %q", tc.status, KindOf(err), msg)
		}
	}
}

// The run's own client bounds the wait for response headers in the
// Timeout middleware (its transport's own bound is off): a server that
// does not answer fails the request at HeaderTimeout, as a timeout.
func TestHeaderTimeoutOfTheRunsClient(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	src := eventsSource(t)
	cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
	env, err := src.buildHTTP(cfg, HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: 1}, HeaderTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer env.close()
	if tr := env.owned[0].Transport.(*http.Transport); tr.ResponseHeaderTimeout != 0 {
		t.Errorf("the transport still arms a timer a request: ResponseHeaderTimeout %v", tr.ResponseHeaderTimeout)
	}
	start := time.Now()
	_, err = requests.Do(context.Background(), env.doer, requests.New(srv.URL+"/events"), 0)
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() || !strings.Contains(err.Error(), "response headers") {
		t.Fatalf("err %v, want a timeout awaiting response headers", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("failed after %v, want about the 50ms header timeout", took)
	}
}
