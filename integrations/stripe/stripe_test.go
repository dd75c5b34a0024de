package stripe_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integrations/stripe"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/golden"
	"github.com/tidwall/gjson"
)

var streams = []string{"customers", "charges", "invoices", "subscriptions", "payment_intents", "balance_transactions", "events"}

// config points the source at srv. The default rate limit (25 requests a
// second) is lifted so that the kit's many syncs run at once.
func config(srv *integtest.Server, extra ...any) map[string]any {
	// One stream at a time (a rate would read them at once): tests assert
	// the order of requests.
	c := map[string]any{"api_key": testKey, "base_url": srv.URL, "page_size": 2, "requests_per_second": 10000, "max_parallel_streams": 1}
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

// at is a clock fixed at Unix second sec, for the sync's end.
func at(sec int64) integtest.Option {
	return integtest.WithClock(func() time.Time { return time.Unix(sec, 0) })
}

// balance_transactions and events are incremental on created: a first
// sync without a start date reads everything created before it as one
// window; the next one reads [its end, now) with created[gte] and
// created[lt] in Unix seconds, so an object created in the first sync's
// last second is read by the second.
func TestIncremental(t *testing.T) {
	for _, p := range []integtest.Protocol{integtest.Singer, integtest.Airbyte} {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(5) // created t0, +1h, +2h, +3h, +3h
			srv := integtest.NewServer(t, f)
			incr := []string{"balance_transactions", "events"}
			end1 := int64(t0 + 4*3600)
			first := integtest.Sync(t, stripe.Source(), config(srv), integtest.WithProtocol(p), integtest.WithStreams(incr...), at(end1))
			lt := fmt.Sprintf("created[lt]=%d", end1)
			sameLines(t, lines(srv), []string{
				"GET /v1/balance_transactions?" + lt + "&limit=2",
				"GET /v1/balance_transactions?" + lt + "&limit=2&starting_after=txn_1Fx0004",
				"GET /v1/balance_transactions?" + lt + "&limit=2&starting_after=txn_1Fx0002",
				"GET /v1/events?" + lt + "&limit=2",
				"GET /v1/events?" + lt + "&limit=2&starting_after=evt_1Fx0004",
				"GET /v1/events?" + lt + "&limit=2&starting_after=evt_1Fx0002",
			})
			for _, s := range incr {
				if n := len(first.Records(s)); n != 5 {
					t.Errorf("first sync: %d %s", n, s)
				}
				if b := bookmark(first.FinalState(), s); b != end1 {
					t.Errorf("first sync: %s bookmark %d, want the sync's end %d in %s", s, b, end1, first.FinalState())
				}
				f.add(s, end1) // in the first sync's last second, which it did not ask for
				f.add(s, t0+5*3600)
			}

			srv.Reset()
			end2 := int64(t0 + 6*3600)
			second := integtest.Sync(t, stripe.Source(), config(srv), integtest.WithProtocol(p), integtest.WithStreams(incr...),
				integtest.WithState(first.FinalState()), at(end2))
			window := fmt.Sprintf("created[gte]=%d&created[lt]=%d", end1, end2)
			sameLines(t, lines(srv), []string{
				"GET /v1/balance_transactions?" + window + "&limit=2",
				"GET /v1/events?" + window + "&limit=2",
			})
			for _, s := range incr {
				var ids []string
				for _, r := range second.Records(s) {
					ids = append(ids, gjson.GetBytes(r, "id").String())
				}
				if !slices.Equal(ids, []string{prefixes[s] + "_1Fx0007", prefixes[s] + "_1Fx0006"}) {
					t.Errorf("second sync of %s: records %v, want the two created since", s, ids)
				}
				if b := bookmark(second.FinalState(), s); b != end2 {
					t.Errorf("second sync: %s bookmark %d, want %d", s, b, end2)
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
	end := int64(t0 + 10*3600)
	state := fmt.Sprintf(`{"bookmarks":{"events":{"replication_key":"created","replication_key_value":%d}}}`, t0+2*3600)
	res := integtest.Sync(t, stripe.Source(), config(srv, "start_date", start),
		integtest.WithStreams("customers", "events"), integtest.WithState(json.RawMessage(state)), at(end))
	sameLines(t, lines(srv), []string{
		fmt.Sprintf("GET /v1/customers?created[gte]=%d&limit=2", unix),
		fmt.Sprintf("GET /v1/events?created[gte]=%d&created[lt]=%d&limit=2", t0+2*3600, end),
	})
	if n, m := len(res.Records("customers")), len(res.Records("events")); n != 2 || m != 2 {
		t.Errorf("%d customers and %d events, want 2 and 2", n, m)
	}
	// A full refresh of an incremental stream ignores the bookmark.
	srv.Reset()
	integtest.Sync(t, stripe.Source(), config(srv), integtest.WithStreams("events"),
		integtest.WithMode(integ.ModeFullRefresh), integtest.WithState(json.RawMessage(state)), at(end))
	lt := fmt.Sprintf("created[lt]=%d", end)
	sameLines(t, lines(srv), []string{"GET /v1/events?" + lt + "&limit=2", "GET /v1/events?" + lt + "&limit=2&starting_after=evt_1Fx0003"})
}

// Records are the API's objects as they came, but for the PaymentIntents'
// client_secret; canceled subscriptions are there.
func TestRecords(t *testing.T) {
	for _, p := range []integtest.Protocol{integtest.Singer, integtest.Airbyte} {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(3)
			srv := integtest.NewServer(t, f)
			res := integtest.Sync(t, stripe.Source(), config(srv), integtest.WithProtocol(p))
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
			if n := len(res.Records("invoice_line_items")); n != 1+2+3 {
				t.Errorf("%d invoice lines, want 6", n)
			}
			if subs := res.Records("subscriptions"); len(subs) == 0 || gjson.GetBytes(subs[0], "status").String() != "canceled" {
				t.Errorf("the newest subscription must be the canceled one: %s", subs)
			}
		})
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && fmt.Sprint(x) == fmt.Sprint(y)
}

// A refused key (401) is a config error in plain words that ends the
// sync after its first request, without echoing the key.
func TestBadKey(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(2))
	cfg := config(srv, "api_key", "sk_test_51WrongKeyXyZ0987654321")
	integtest.BadCredentials(t, stripe.Source(), cfg, []string{"refused the credentials", "401", "Invalid API Key provided", "key in the config"})
	// Two syncs and a check, each stopped at its first request.
	sameLines(t, lines(srv), []string{"GET /v1/customers?limit=2", "GET /v1/customers?limit=2", "GET /v1/customers?limit=2"})
}

// A restricted key without read access to one object: that stream fails
// with Stripe's words, naming the permission; every other stream syncs.
func TestRestrictedKey(t *testing.T) {
	const restricted = "rk_test_51RestrictedKeyAbC0123456789"
	for _, p := range []integtest.Protocol{integtest.Singer, integtest.Airbyte} {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(3)
			f.key, f.denied["charges"] = restricted, "rak_charge_read"
			srv := integtest.NewServer(t, f)
			res := integtest.Sync(t, stripe.Source(), config(srv, "api_key", restricted), integtest.WithProtocol(p), integtest.WithExpectedFailure())
			msg := res.Failure()
			if res.ExitCode != 1 || !strings.Contains(msg, `stream "charges"`) || !strings.Contains(msg, "403") ||
				!strings.Contains(msg, "Having the 'rak_charge_read' permission would allow this request to continue") {
				t.Errorf("exit %d, failure %q", res.ExitCode, msg)
			}
			if p == integtest.Airbyte && res.FailureType() != "config_error" {
				t.Errorf("failure type %q, want config_error", res.FailureType())
			}
			for _, s := range streams {
				want := 3
				if s == "charges" {
					want = 0
				}
				if n := len(res.Records(s)); n != want {
					t.Errorf("%s: %d records, want %d", s, n, want)
				}
			}
		})
	}
}

// rateLimited is Stripe's 429 body.
const rateLimited = `{"error":{"code":"rate_limit","doc_url":"https://stripe.com/docs/error-codes/rate-limit","message":"Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.","type":"invalid_request_error"}}`

// A 429 without Retry-After is backed off and the sync goes on (with it,
// and bursts of 5xx, are TestFailures'). Stripe-Should-Retry wins over
// the status: false is not retried, true is.
func TestRetries(t *testing.T) {
	never := func(*http.Request, int) bool { return false }
	cases := []struct {
		name     string
		failing  func(r *http.Request, n int) bool // which responses fail
		status   int
		header   http.Header
		body     string
		requests int // failures + the 2 pages
		waits    int
		ok       bool
	}{
		{"429 without Retry-After", func(_ *http.Request, n int) bool { return n == 1 }, 429, nil, rateLimited, 1 + 2, 1, true},
		{"Stripe-Should-Retry: false", func(_ *http.Request, n int) bool { return n == 1 }, 500, http.Header{"Stripe-Should-Retry": {"false"}}, `{"error":{"message":"An unknown error occurred","type":"api_error"}}`, 1, 0, false},
		{"Stripe-Should-Retry: true", func(_ *http.Request, n int) bool { return n == 1 }, 409, http.Header{"Stripe-Should-Retry": {"true"}}, `{"error":{"code":"lock_timeout","message":"This object cannot be accessed right now because another API request or Stripe process is currently accessing it.","type":"invalid_request_error"}}`, 1 + 2, 1, true},
		{"no fault", never, 0, nil, "", 2, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(3)
			f.fault = func(r *http.Request, n int) (int, http.Header, string, bool) {
				if c.failing(r, n) {
					return c.status, c.header, c.body, true
				}
				return 0, nil, "", false
			}
			srv := integtest.NewServer(t, f)
			var w integtest.Waits
			opts := []integtest.Option{integtest.WithStreams("customers"), integtest.WithWaits(&w, 4)}
			if !c.ok {
				opts = append(opts, integtest.WithExpectedFailure())
			}
			res := integtest.Sync(t, stripe.Source(), config(srv), opts...)
			if got := len(srv.Requests()); got != c.requests {
				t.Errorf("%d requests, want %d:\n%s", got, c.requests, strings.Join(lines(srv), "\n"))
			}
			if len(w.All()) != c.waits {
				t.Errorf("waited %v, want %d waits", w.All(), c.waits)
			}
			if c.ok && len(res.Records("customers")) != 3 {
				t.Errorf("%d customers", len(res.Records("customers")))
			}
			if !c.ok && (res.ExitCode != 1 || !strings.Contains(res.Failure(), "500")) {
				t.Errorf("exit %d, failure %q", res.ExitCode, res.Failure())
			}
		})
	}
}

func TestConfig(t *testing.T) {
	src := stripe.Source()
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	const publishable = "pk_test_51PublishableKeyAbC0123456789"
	for _, c := range []struct{ config, field string }{
		{`{}`, "api_key"},
		{`{"api_key":"` + publishable + `"}`, "api_key"},
		{`{"api_key":"` + testKey + `","page_size":0}`, "page_size"},
		{`{"api_key":"` + testKey + `","page_size":101}`, "page_size"},
		{`{"api_key":"` + testKey + `","start_date":"2024-01-01"}`, "start_date"},
		{`{"api_key":"` + testKey + `","base_url":"ftp://api.stripe.com"}`, "base_url"},
	} {
		_, err := src.ParseConfig(json.RawMessage(c.config))
		if err == nil || !strings.Contains(err.Error(), c.field) || strings.Contains(err.Error(), publishable) {
			t.Errorf("%s: %v, want an error naming %s (and not showing the key)", c.config, err, c.field)
		}
	}
	cfg, err := src.ParseConfig(json.RawMessage(`{"api_key":"rk_live_51Restricted0123456789","start_date":"2024-01-01T00:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	var c stripe.Config
	if err := cfg.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://api.stripe.com" || c.PageSize != 100 || c.StartDate == nil || c.StartDate.Unix() != 1704067200 {
		t.Errorf("defaults: %+v", c)
	}
}

// An invoice's lines come from its list entry; only an invoice with more
// lines than it carries costs requests, which page after the last line
// carried. Every line names its invoice.
func TestInvoiceLineItems(t *testing.T) {
	f := newFixture(5) // invoice i has i lines, the first 2 carried
	srv := integtest.NewServer(t, f)
	res := integtest.Sync(t, stripe.Source(), config(srv), integtest.WithStreams("invoice_line_items"))
	// Invoices' lines are read in parallel: compare the requests sorted.
	got := lines(srv)
	sort.Strings(got)
	sameLines(t, got, []string{
		"GET /v1/invoices/in_1Fx0003/lines?limit=2&starting_after=il_1Fx000302",
		"GET /v1/invoices/in_1Fx0004/lines?limit=2&starting_after=il_1Fx000402",
		"GET /v1/invoices/in_1Fx0005/lines?limit=2&starting_after=il_1Fx000502",
		"GET /v1/invoices/in_1Fx0005/lines?limit=2&starting_after=il_1Fx000504",
		"GET /v1/invoices?limit=2",
		"GET /v1/invoices?limit=2&starting_after=in_1Fx0002",
		"GET /v1/invoices?limit=2&starting_after=in_1Fx0004",
	})
	var ids []string
	for _, rec := range res.Records("invoice_line_items") {
		id, inv := gjson.GetBytes(rec, "id").String(), gjson.GetBytes(rec, "invoice").String()
		if !strings.HasPrefix(id, "il_1Fx"+strings.TrimPrefix(inv, "in_1Fx")) {
			t.Errorf("line %s has invoice %q", id, inv)
		}
		ids = append(ids, id)
	}
	var want []string
	for i := 5; i >= 1; i-- {
		for j := 1; j <= i; j++ {
			want = append(want, fmt.Sprintf("il_1Fx%04d%02d", i, j))
		}
	}
	if !slices.Equal(ids, want) { // in invoice order, each invoice's in its order
		t.Errorf("lines %v\nwant %v", ids, want)
	}
	if n := len(res.Records("invoices")); n != 0 {
		t.Errorf("%d invoices written; the parent was not selected", n)
	}
}

// The catalog is what destinations build tables from: a change to it shows
// in review as a change to testdata/discover.json (go test -update).
func TestDiscoverGolden(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(1))
	path := t.TempDir() + "/config.json"
	b, _ := json.Marshal(config(srv))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	res := integtest.Run(t, stripe.Source(), []string{"discover", "--config", path})
	var out bytes.Buffer
	if err := json.Indent(&out, res.Stdout, "", "  "); err != nil {
		t.Fatalf("%v: %s", err, res.Stdout)
	}
	golden.Check(t, filepath.Join("testdata", "discover.json"), out.Bytes())
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("discover made %d requests; the streams are static", n)
	}
}

// An invoice deleted between the list and its lines (a draft, say) is
// skipped with a warning; the other invoices' lines are synced.
func TestDeletedInvoice(t *testing.T) {
	f := newFixture(4)
	f.mu.Lock()
	delete(f.lines, "in_1Fx0004") // its lines endpoint answers 404 No such invoice
	f.mu.Unlock()
	srv := integtest.NewServer(t, f)
	res := integtest.Sync(t, stripe.Source(), config(srv), integtest.WithStreams("invoice_line_items"))
	var ids []string
	for _, rec := range res.Records("invoice_line_items") {
		ids = append(ids, gjson.GetBytes(rec, "id").String())
	}
	// Invoice 4's two carried lines were written before its page request failed.
	want := []string{"il_1Fx000401", "il_1Fx000402", "il_1Fx000301", "il_1Fx000302", "il_1Fx000303", "il_1Fx000201", "il_1Fx000202", "il_1Fx000101"}
	if !slices.Equal(ids, want) {
		t.Errorf("lines %v\nwant %v", ids, want)
	}
	warned := false
	for _, l := range res.Logs() {
		warned = warned || strings.Contains(l, "No such invoice: 'in_1Fx0004'")
	}
	if !warned {
		t.Errorf("no warning names the deleted invoice:\n%s", strings.Join(res.Logs(), "\n"))
	}
}

// A base_url that is not the API's root is a config error saying so.
func TestWrongBaseURL(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(1))
	res := integtest.Sync(t, stripe.Source(), config(srv, "base_url", srv.URL+"/v1"),
		integtest.WithProtocol(integtest.Airbyte), integtest.WithStreams("customers"), integtest.WithExpectedFailure())
	if msg := res.Failure(); res.FailureType() != "config_error" || !strings.Contains(msg, "404") ||
		!strings.Contains(msg, "Unrecognized request URL (GET: /v1/v1/customers)") || !strings.Contains(msg, "base URL") {
		t.Errorf("%s: %q", res.FailureType(), msg)
	}
}
