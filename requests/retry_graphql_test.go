package requests_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

const (
	gqlThrottled = `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],"extensions":{"cost":{"requestedQueryCost":50,"throttleStatus":{"maximumAvailable":1000,"currentlyAvailable":10,"restoreRate":50}}}}`
	gqlDenied    = `{"errors":[{"message":"Access denied for orders field. Required access: read_orders access scope.","extensions":{"code":"ACCESS_DENIED"}}],"data":{"orders":null}}`
	gqlSyntax    = `{"errors":[{"message":"syntax error, unexpected end of file","locations":[{"line":1,"column":9}]}]}`
	gqlInternal  = `{"errors":[{"message":"Internal error. Looks like something went wrong on our end.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`
	gqlGitHub    = `{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}`
	gqlData      = `{"data":{"shop":{"name":"acme"}}}`
)

// throttleWait is Shopify's wait: until the bucket holds the query's cost.
func throttleWait(body []byte) time.Duration {
	c := gjson.GetBytes(body, "extensions.cost")
	need := c.Get("requestedQueryCost").Float() - c.Get("throttleStatus.currentlyAvailable").Float()
	return time.Duration(need / c.Get("throttleStatus.restoreRate").Float() * float64(time.Second))
}

// TestGraphQLErrorsIn200: GraphQL errors arrive with HTTP 200; with
// GraphQLErrors as a success classifier a throttle is waited out and
// retried, and other errors fail with the server's message.
func TestGraphQLErrorsIn200(t *testing.T) {
	gql := requests.GraphQLErrors(requests.GraphQLOptions{Wait: throttleWait})
	cases := []struct {
		name       string
		steps      []string
		noClassify bool
		wantCalls  int
		wantWaits  []time.Duration
		wantStatus int    // 0: success
		wantMsg    string // in the error
	}{
		{"throttled then data", []string{gqlThrottled, gqlThrottled, gqlData}, false, 3, []time.Duration{800 * time.Millisecond, 800 * time.Millisecond}, 0, ""},
		{"throttled to the end", []string{gqlThrottled}, false, 3, []time.Duration{800 * time.Millisecond, 800 * time.Millisecond}, 429, "Throttled"},
		{"github rate limited", []string{gqlGitHub, gqlData}, false, 2, []time.Duration{500 * time.Millisecond}, 0, ""},
		{"access denied", []string{gqlDenied}, false, 1, nil, 403, "read_orders"},
		{"syntax error", []string{gqlSyntax}, false, 1, nil, 400, "syntax error"},
		{"internal error retried", []string{gqlInternal, gqlData}, false, 2, []time.Duration{500 * time.Millisecond}, 0, ""},
		{"no errors", []string{gqlData}, false, 1, nil, 0, ""},
		{"empty errors", []string{`{"errors":[],"data":{}}`}, false, 1, nil, 0, ""},
		{"without the classifier a 200 is a success", []string{gqlThrottled}, true, 1, nil, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var steps []http.HandlerFunc
			for _, s := range tc.steps {
				steps = append(steps, jsonBody(s))
			}
			srv, sc := serve(t, steps...)
			ft := newFakeTime()
			opts := requests.RetryOptions{MaxAttempts: 3, InitialInterval: time.Second}
			if !tc.noClassify {
				opts.SuccessClassifiers = []requests.RetryClassifier{gql}
			}
			d := retrying(ft, http.DefaultClient, opts)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := requests.Do(ctx, d, requests.New(srv.URL+"/graphql.json").Method(http.MethodPost).JSONBody(map[string]any{"query": "{shop{name}}"}), 0)
			if got := int(sc.calls.Load()); got != tc.wantCalls {
				t.Errorf("%d requests, want %d", got, tc.wantCalls)
			}
			if got := ft.Waits(); len(got) != len(tc.wantWaits) || len(got) > 0 && got[0] != tc.wantWaits[0] {
				t.Errorf("waits %v, want %v", got, tc.wantWaits)
			}
			if tc.wantStatus == 0 {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				resp.Release()
				return
			}
			var se *requests.StatusError
			if !errors.As(err, &se) || se.Status != tc.wantStatus || se.Attempts != tc.wantCalls {
				t.Fatalf("want a StatusError %d after %d attempts, got %v", tc.wantStatus, tc.wantCalls, err)
			}
			if !strings.Contains(string(se.Body), tc.wantMsg) {
				t.Errorf("the error's body %q lacks %q", se.Body, tc.wantMsg)
			}
		})
	}
}

// FuzzGraphQLErrors: any body is classified without a panic, as a success
// or one of the documented statuses.
func FuzzGraphQLErrors(f *testing.F) {
	for _, s := range []string{gqlThrottled, gqlDenied, gqlSyntax, gqlInternal, gqlGitHub, gqlData, `{"errors":{}}`, `{"errors":[1,"x",null]}`, `[`} {
		f.Add([]byte(s))
	}
	gql := requests.GraphQLErrors(requests.GraphQLOptions{Wait: throttleWait})
	f.Fuzz(func(t *testing.T, body []byte) {
		a := gql(&http.Response{StatusCode: 200}, body, time.Time{})
		switch a.Status {
		case 0, 400, 401, 403, 404, 429, 500:
		default:
			t.Fatalf("status %d", a.Status)
		}
		if a.Wait < 0 {
			t.Fatalf("negative wait %s", a.Wait)
		}
	})
}
