package stripe_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integrations/stripe"
	"github.com/integ/integ/integtest"
	"github.com/tidwall/gjson"
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

// bookmark is a stream's replication_key_value in a final state of
// either protocol.
func bookmark(state []byte, stream string) int64 {
	if v := gjson.GetBytes(state, "bookmarks."+stream+".replication_key_value"); v.Exists() {
		return v.Int()
	}
	for _, s := range gjson.ParseBytes(state).Array() {
		if s.Get("stream.stream_descriptor.name").String() == stream {
			return s.Get("stream.stream_state.replication_key_value").Int()
		}
	}
	return -1
}

// balance_transactions and events are incremental on created: a second
// sync asks for created[gte]=<bookmark> in Unix seconds and gets what was
// created since, the bookmark's second included.
func TestIncremental(t *testing.T) {
	for _, p := range []integtest.Protocol{integtest.Singer, integtest.Airbyte} {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(5) // created t0, +1h, +2h, +3h, +3h
			srv := integtest.NewServer(t, f)
			incr := []string{"balance_transactions", "events"}
			first := integtest.Sync(t, stripe.Source(), config(srv), integtest.WithProtocol(p), integtest.WithStreams(incr...))
			sameLines(t, lines(srv), []string{
				"GET /v1/balance_transactions?limit=2",
				"GET /v1/balance_transactions?limit=2&starting_after=txn_1Fx0004",
				"GET /v1/balance_transactions?limit=2&starting_after=txn_1Fx0002",
				"GET /v1/events?limit=2",
				"GET /v1/events?limit=2&starting_after=evt_1Fx0004",
				"GET /v1/events?limit=2&starting_after=evt_1Fx0002",
			})
			for _, s := range incr {
				if n := len(first.Records(s)); n != 5 {
					t.Errorf("first sync: %d %s", n, s)
				}
				if b := bookmark(first.FinalState(), s); b != t0+3*3600 {
					t.Errorf("first sync: %s bookmark %d, want %d in %s", s, b, t0+3*3600, first.FinalState())
				}
				f.add(s, t0+3*3600) // in the bookmark's second, after the first sync read it
				f.add(s, t0+5*3600)
			}

			srv.Reset()
			second := integtest.Sync(t, stripe.Source(), config(srv), integtest.WithProtocol(p), integtest.WithStreams(incr...),
				integtest.WithState(first.FinalState()))
			gte := fmt.Sprintf("created[gte]=%d", t0+3*3600)
			sameLines(t, lines(srv), []string{
				"GET /v1/balance_transactions?" + gte + "&limit=2",
				"GET /v1/balance_transactions?" + gte + "&limit=2&starting_after=txn_1Fx0006",
				"GET /v1/events?" + gte + "&limit=2",
				"GET /v1/events?" + gte + "&limit=2&starting_after=evt_1Fx0006",
			})
			for _, s := range incr {
				var ids []string
				for _, r := range second.Records(s) {
					ids = append(ids, gjson.GetBytes(r, "id").String())
				}
				want := []string{"7", "6", "5", "4"}
				if len(ids) != len(want) {
					t.Errorf("second sync of %s: records %v, want the ids ending in %v", s, ids, want)
				}
				for i := range min(len(ids), len(want)) {
					if !strings.HasSuffix(ids[i], "000"+want[i]) {
						t.Errorf("second sync of %s: records %v, want the ids ending in %v", s, ids, want)
						break
					}
				}
				if b := bookmark(second.FinalState(), s); b != t0+5*3600 {
					t.Errorf("second sync: %s bookmark %d, want %d", s, b, t0+5*3600)
				}
			}
		})
	}
}

// start_date filters every stream, full refresh ones too; a bookmark
// later than it wins.
func TestStartDate(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(4))
	start := "2024-04-25T00:40:00Z" // between t0+1h and t0+2h
	const unix = 1714005600
	state := fmt.Sprintf(`{"bookmarks":{"events":{"replication_key":"created","replication_key_value":%d}}}`, t0+2*3600)
	res := integtest.Sync(t, stripe.Source(), config(srv, "start_date", start),
		integtest.WithStreams("customers", "events"), integtest.WithState(json.RawMessage(state)))
	sameLines(t, lines(srv), []string{
		fmt.Sprintf("GET /v1/customers?created[gte]=%d&limit=2", unix),
		fmt.Sprintf("GET /v1/events?created[gte]=%d&limit=2", t0+2*3600),
	})
	if n, m := len(res.Records("customers")), len(res.Records("events")); n != 2 || m != 2 {
		t.Errorf("%d customers and %d events, want 2 and 2", n, m)
	}
	// A full refresh of an incremental stream ignores the bookmark.
	srv.Reset()
	integtest.Sync(t, stripe.Source(), config(srv), integtest.WithStreams("events"),
		integtest.WithMode(integ.ModeFullRefresh), integtest.WithState(json.RawMessage(state)))
	sameLines(t, lines(srv), []string{"GET /v1/events?limit=2", "GET /v1/events?limit=2&starting_after=evt_1Fx0003"})
}

// Records are the API's objects as they came, but for the PaymentIntents'
// client_secret; canceled subscriptions are there.
func TestRecords(t *testing.T) {
	f := newFixture(3)
	srv := integtest.NewServer(t, f)
	res := integtest.Sync(t, stripe.Source(), config(srv))
	for _, s := range streams {
		got := res.Records(s)
		if len(got) != 3 {
			t.Errorf("%s: %d records, want 3", s, len(got))
			continue
		}
		for i, rec := range got {
			want := f.objects[s][2-i].raw // newest first
			if s == "payment_intents" {
				if gjson.GetBytes(rec, "client_secret").Exists() {
					t.Errorf("payment_intents: a client_secret was written: %s", rec)
				}
				var m map[string]any
				json.Unmarshal(want, &m)
				delete(m, "client_secret")
				want, _ = json.Marshal(m)
			}
			if !jsonEqual(rec, want) {
				t.Errorf("%s record %d:\n%s\nwant\n%s", s, i, rec, want)
			}
		}
	}
	if st := gjson.GetBytes(res.Records("subscriptions")[0], "status").String(); st != "canceled" {
		t.Errorf("the newest subscription is %q, want canceled", st)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && fmt.Sprint(x) == fmt.Sprint(y)
}
