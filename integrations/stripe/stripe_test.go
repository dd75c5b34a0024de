package stripe_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/integ/integ/integrations/stripe"
	"github.com/integ/integ/integtest"
)

var streams = []string{"customers", "charges", "invoices", "subscriptions", "payment_intents", "balance_transactions", "events"}

// config points the source at srv. The default rate limit (25 requests a
// second) is lifted so that the kit's many syncs run at once.
func config(srv *integtest.Server, extra ...any) map[string]any {
	c := map[string]any{"api_key": testKey, "base_url": srv.URL, "page_size": 2, "requests_per_second": 10000}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i].(string)] = extra[i+1]
	}
	return c
}

func TestConformance(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(3))
	integtest.Conformance(t, stripe.Source(), config(srv))
}

// line is a recorded request as "GET /v1/x?k=v&..." with its parameters
// decoded and sorted, for exact comparison.
func line(r integtest.Request) string {
	var ps []string
	for k, vs := range r.Query {
		for _, v := range vs {
			ps = append(ps, k+"="+v)
		}
	}
	sort.Strings(ps)
	if len(ps) == 0 {
		return r.Method + " " + r.Path
	}
	return r.Method + " " + r.Path + "?" + strings.Join(ps, "&")
}

func lines(srv *integtest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		out = append(out, line(r))
	}
	return out
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// Every request carries the key as a Bearer token, the pinned
// Stripe-Version and the documented parameters only; paging sends the last
// id of the previous page and stops on has_more=false, with no request
// for an empty page, whether the last page is full or not.
func TestRequests(t *testing.T) {
	for _, n := range []int{5, 4, 1, 0} {
		t.Run(fmt.Sprintf("%d objects", n), func(t *testing.T) {
			srv := integtest.NewServer(t, newFixture(n))
			res := integtest.Sync(t, stripe.Source(), config(srv), integtest.WithStreams("customers", "subscriptions"))
			for _, r := range srv.Requests() {
				if !r.HeaderIs("Authorization", "Bearer "+testKey) || r.Header.Get("Stripe-Version") != stripe.APIVersion {
					t.Errorf("%s: Authorization %q, Stripe-Version %q", r, r.Header.Get("Authorization"), r.Header.Get("Stripe-Version"))
				}
			}
			var want []string
			for _, s := range []struct{ name, extra string }{{"customers", ""}, {"subscriptions", "&status=all"}} {
				want = append(want, "GET /v1/"+s.name+"?limit=2"+s.extra)
				// Newest first: ids n, n-1, ... (the last two share a second; the fixture orders them by id).
				for last := n - 1; last > 1; last -= 2 {
					want = append(want, fmt.Sprintf("GET /v1/%s?limit=2&starting_after=%s_1Fx%04d%s", s.name, map[string]string{"customers": "cus", "subscriptions": "sub"}[s.name], last, s.extra))
				}
			}
			sameLines(t, lines(srv), want)
			if got := len(res.Records("customers")); got != n {
				t.Errorf("%d customers, want %d", got, n)
			}
			// status=all: canceled subscriptions too.
			if got := len(res.Records("subscriptions")); got != n {
				t.Errorf("%d subscriptions, want %d (canceled ones included)", got, n)
			}
		})
	}
}
