package shopify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
	"github.com/tidwall/gjson"
)

var allStreams = []string{"customers", "orders", "products", "inventory_items", "fulfillments", "refunds"}

func TestConformance(t *testing.T) {
	_, cfg := start(t, newShop(5))
	integtest.Conformance(t, Source(), cfg)
}

func TestConformanceBulk(t *testing.T) {
	_, cfg := start(t, newShop(4), `,"bulk_operations":true,"bulk_poll_seconds":0.001`)
	integtest.Conformance(t, Source(), cfg, integtest.WithStreams("customers", "inventory_items", "refunds"))
}

// recordIDs lists the "id" of each record of stream.
func recordIDs(res *integtest.Result, stream string) []string {
	var out []string
	for _, r := range res.Records(stream) {
		out = append(out, gjson.GetBytes(r, "id").String())
	}
	return out
}

func TestFullSyncBothProtocols(t *testing.T) {
	want := map[string]int{"customers": 7, "orders": 7, "products": 7, "inventory_items": 7, "fulfillments": 6, "refunds": 2}
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			_, cfg := start(t, newShop(7))
			res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p))
			for stream, n := range want {
				if got := len(res.Records(stream)); got != n {
					t.Errorf("%s: %d records, want %d", stream, got, n)
				}
			}
			// Fulfillments come out flat, one record each, with their order.
			f := res.Records("fulfillments")
			if len(f) > 0 && (gjson.GetBytes(f[0], "order.id").String() == "" || gjson.GetBytes(f[0], "fulfillments").Exists()) {
				t.Errorf("fulfillment record %s", f[0])
			}
			if o := res.Records("orders"); len(o) > 0 && gjson.GetBytes(o[0], "fulfillments").Exists() {
				t.Errorf("orders must not carry fulfillments: %s", o[0])
			}
		})
	}
}

// Every request is a POST of {query, variables} to the pinned version's
// endpoint with the token header, paged with first/after, sorted by
// UPDATED_AT, filtered on updated_at from the bookmark.
func TestRequestsAreWhatTheDocsShow(t *testing.T) {
	s := newShop(5)
	srv, cfg := start(t, s)
	res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("orders"))
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests for 5 orders in pages of 2, want 3", len(reqs))
	}
	wantQuery := "query orders($first: Int!, $after: String, $query: String) { orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) { nodes { " +
		resources[1].fields + " } pageInfo { hasNextPage endCursor } } }"
	var afters []any
	for i, r := range reqs {
		if r.Method != http.MethodPost || r.Path != "/admin/api/2026-01/graphql.json" {
			t.Errorf("request %d: %s %s", i, r.Method, r.Path)
		}
		if !r.HeaderIs("X-Shopify-Access-Token", testToken) || r.Header.Get("Content-Type") != "application/json" || len(r.Query) != 0 {
			t.Errorf("request %d: headers %v query %v", i, r.Header, r.Query)
		}
		var body struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Query != wantQuery {
			t.Errorf("request %d: query\n%s\nwant\n%s", i, body.Query, wantQuery)
		}
		if len(body.Variables) != 3 || body.Variables["first"] != 2.0 || body.Variables["query"] != nil {
			t.Errorf("request %d: variables %v", i, body.Variables)
		}
		afters = append(afters, body.Variables["after"])
	}
	if afters[0] != nil || afters[1] == nil || afters[1] == afters[2] {
		t.Errorf("after cursors %v: none, then each page's endCursor", afters)
	}

	// The next sync starts from the bookmark, inclusive.
	s.touch("orders", 1, 100)
	srv.Reset()
	again := integtest.Sync(t, Source(), cfg, integtest.WithStreams("orders"), integtest.WithState(res.FinalState()))
	if got := recordIDs(again, "orders"); len(got) != 2 || got[1] != "gid://shopify/Order/1001" {
		t.Errorf("incremental sync gave %v, want the last order again and the edited one", got)
	}
	first := srv.Requests()[0]
	if v := gjson.GetBytes(first.Body, "variables.query").String(); v != "updated_at:>='"+ts(6)+"'" {
		t.Errorf("incremental filter %q", v)
	}
}

func TestStartDate(t *testing.T) {
	srv, cfg := start(t, newShop(6))
	cfg = strings.TrimSuffix(cfg, "}") + `,"start_date":"` + ts(4) + `"}`
	res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("customers"))
	if got := recordIDs(res, "customers"); len(got) != 3 {
		t.Errorf("records since start_date: %v", got)
	}
	if v := gjson.GetBytes(srv.Requests()[0].Body, "variables.query").String(); v != "updated_at:>='"+ts(4)+"'" {
		t.Errorf("filter %q", v)
	}
}

func TestIncrementalBothProtocols(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			s := newShop(6)
			_, cfg := start(t, s)
			res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), integtest.WithMode(integ.ModeIncremental))
			s.touch("customers", 0, 50)
			s.touch("inventoryItems", 2, 60)
			again := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), integtest.WithMode(integ.ModeIncremental), integtest.WithState(res.FinalState()))
			// The last record of each stream comes again (the bookmark is
			// inclusive), with the edited one.
			if got := recordIDs(again, "customers"); strings.Join(got, ",") != "gid://shopify/Customer/105,gid://shopify/Customer/100" {
				t.Errorf("customers %v", got)
			}
			if got := recordIDs(again, "inventory_items"); strings.Join(got, ",") != "gid://shopify/InventoryItem/405,gid://shopify/InventoryItem/402" {
				t.Errorf("inventory_items %v", got)
			}
			if got := recordIDs(again, "products"); len(got) != 1 {
				t.Errorf("products %v", got)
			}
		})
	}
}

// A refused token is a config error, in check ("refused the access
// token") and in a sync ("refused the credentials").
func TestBadCredentials(t *testing.T) {
	srv, cfg := start(t, newShop(2))
	integtest.BadCredentials(t, Source(), strings.Replace(cfg, testToken, "shpat_wrong0123456789", 1), []string{"refused the", "token"})
	srv.Reset()
	res := integtest.Check(t, Source(), cfg)
	if status, _ := res.ConnectionStatus(); status != "SUCCEEDED" {
		t.Errorf("check: %s", res.Stdout)
	}
	if q := gjson.GetBytes(srv.Requests()[0].Body, "query").String(); q != "query shop { shop { name } }" {
		t.Errorf("check query %q", q)
	}
	res = integtest.Check(t, Source(), strings.Replace(cfg, testToken, "shpat_wrong0123456789", 1))
	if status, msg := res.ConnectionStatus(); status != "FAILED" || !strings.Contains(msg, "refused the access token") {
		t.Errorf("check with a bad token: %s", res.Stdout)
	}
}

// A token without read_orders: orders (and the streams read through
// orders) are reported with the missing scope; the others are synced.
func TestNoPermissionOnOneObject(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			_, cfg := start(t, newShop(3, withDenied("orders")))
			res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), integtest.WithExpectedFailure())
			for _, s := range []string{"customers", "products", "inventory_items"} {
				if len(res.Records(s)) != 3 {
					t.Errorf("%s: %d records", s, len(res.Records(s)))
				}
			}
			if len(res.Records("orders")) != 0 {
				t.Errorf("orders synced")
			}
			logs := strings.Join(res.Logs(), "\n") + res.Failure()
			if !strings.Contains(logs, "read_orders") || !strings.Contains(logs, `"orders"`) || !strings.Contains(logs, "refused access") {
				t.Errorf("the missing scope is not reported:\n%s", logs)
			}
		})
	}
}

// The client paces queries by throttleStatus: a bucket that holds two
// pages' cost, restored at 2000 points a second, is never overdrawn, even
// by streams read in parallel (each with its next page prefetched).
func TestThrottlePacing(t *testing.T) {
	for _, parallel := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d streams at once", parallel), func(t *testing.T) {
			s := newShop(40, withBucket(10, 2000, 10))
			// The bucket refills in real time: on a loaded machine a query
			// may meet THROTTLED more than once, so attempts are not what
			// this test counts.
			_, cfg := start(t, s, fmt.Sprintf(`,"max_parallel_streams":%d,"max_attempts":20`, parallel))
			res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("customers", "products", "inventory_items", "refunds"))
			for _, st := range []string{"customers", "products", "inventory_items"} {
				if len(res.Records(st)) != 40 {
					t.Errorf("%s: %d records", st, len(res.Records(st)))
				}
			}
			// In parallel, Shopify may charge queries in another order than
			// they were written, so a report may be stale now and then: the
			// THROTTLED answer that follows is waited out (0 to 2 of these
			// 80 queries in 15 runs, up to 9 on a machine at load 8, since
			// the bucket refills in real time). Not counting the queries in
			// flight gives 24 to 29: a storm. The limit sits between the two.
			t.Logf("%d THROTTLED answers", s.throttled)
			limit := 0
			if parallel > 1 {
				limit = 14
			}
			if s.throttled > limit {
				t.Errorf("%d THROTTLED answers (at most %d): the client did not wait for the bucket", s.throttled, limit)
			}
		})
	}
}

// A THROTTLED answer (HTTP 200) is waited out from its throttleStatus and
// the query sent again: one THROTTLED, not a storm.
func TestThrottledAnswerIsWaitedOut(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			s := newShop(4, withBucket(100, 400, 0)) // empty: the first query is refused
			_, cfg := start(t, s)
			res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams("customers"))
			if len(res.Records("customers")) != 4 {
				t.Errorf("%d records", len(res.Records("customers")))
			}
			if s.throttled != 1 {
				t.Errorf("%d THROTTLED answers, want 1", s.throttled)
			}
		})
	}
}

// A GraphQL INTERNAL_SERVER_ERROR (HTTP 200) is retried like a 5xx (which,
// with 429s, TestFailures covers).
func TestRetries(t *testing.T) {
	cases := []struct {
		name  string
		fault func(n int, op string) (int, string, bool)
	}{
		{"GraphQL internal error", func(n int, _ string) (int, string, bool) {
			if n%2 == 1 {
				return http.StatusOK, `{"errors":[{"message":"Internal error. Looks like something went wrong on our end.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`, true
			}
			return 0, "", false
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cfg := start(t, newShop(5, withFault(c.fault)))
			res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("customers"))
			if got := recordIDs(res, "customers"); len(got) != 5 {
				t.Errorf("records %v", got)
			}
		})
	}
}

func TestBulkOperation(t *testing.T) {
	s := newShop(5)
	srv, cfg := start(t, s, `,"bulk_operations":true,"bulk_poll_seconds":0.001`)
	res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("orders", "fulfillments"))
	if len(res.Records("orders")) != 5 || len(res.Records("fulfillments")) != 4 {
		t.Fatalf("orders %d fulfillments %d", len(res.Records("orders")), len(res.Records("fulfillments")))
	}
	if len(s.downloads) != 1 || s.downloads[0].Get("X-Shopify-Access-Token") != "" {
		t.Errorf("downloads %v: one, without the access token", s.downloads)
	}
	var ops []string
	for _, r := range srv.Requests() {
		q := gjson.GetBytes(r.Body, "query").String()
		switch {
		case strings.HasPrefix(q, "mutation bulkOperationRunQuery"):
			ops = append(ops, "run:"+gjson.GetBytes(r.Body, "variables.query").String())
		case strings.Contains(q, "node(id: $id)"):
			ops = append(ops, "poll:"+gjson.GetBytes(r.Body, "variables.id").String())
		}
	}
	want := []string{
		"run:{ orders(sortKey: UPDATED_AT) { edges { node { " + resources[1].fields + " } } } }",
		"poll:gid://shopify/BulkOperation/1", "poll:gid://shopify/BulkOperation/1",
	}
	if strings.Join(ops, "\n") != strings.Join(want, "\n") {
		t.Errorf("bulk requests\n%s\nwant\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}

	// Incremental: the bulk query filters on the bookmark.
	s.touch("orders", 0, 80)
	srv.Reset()
	again := integtest.Sync(t, Source(), cfg, integtest.WithStreams("orders"), integtest.WithState(res.FinalState()))
	if got := recordIDs(again, "orders"); len(got) != 2 {
		t.Errorf("incremental bulk: %v", got)
	}
	if q := gjson.GetBytes(srv.Requests()[0].Body, "variables.query").String(); !strings.Contains(q, `orders(query: "updated_at:>='`+ts(6)+`'", sortKey: UPDATED_AT)`) {
		t.Errorf("incremental bulk query %s", q)
	}
}

func TestBulkFailed(t *testing.T) {
	s := newShop(2)
	s.bulkFail = "ACCESS_DENIED"
	_, cfg := start(t, s, `,"bulk_operations":true,"bulk_poll_seconds":0.001`)
	res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(integtest.Airbyte), integtest.WithExpectedFailure())
	if msg := res.Failure(); !strings.Contains(msg, "FAILED (error code ACCESS_DENIED)") || res.FailureType() != "transient_error" {
		t.Errorf("failure %s %q", res.FailureType(), msg)
	}
	// The paged streams are read all the same.
	if len(res.Records("fulfillments")) != 1 || len(res.Records("customers")) != 0 {
		t.Errorf("fulfillments %d customers %d", len(res.Records("fulfillments")), len(res.Records("customers")))
	}
}

func TestBulkRefused(t *testing.T) {
	s := newShop(2)
	s.bulkBusy = true
	_, cfg := start(t, s, `,"bulk_operations":true,"bulk_poll_seconds":0.001`)
	res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("products"), integtest.WithProtocol(integtest.Airbyte), integtest.WithExpectedFailure())
	if msg := res.Failure(); !strings.Contains(msg, "already in progress") || res.FailureType() != "transient_error" {
		t.Errorf("failure %s %q", res.FailureType(), msg)
	}
}

func TestConfig(t *testing.T) {
	src := Source()
	tok := `"credentials":{"auth_method":"access_token","access_token":"shpat_1234"}`
	integtest.RefusesConfigs(t, src,
		`{"shop":"my store",`+tok+`}`,
		`{"shop":"x"}`,
		`{"shop":"x","credentials":{"auth_method":"password","password":"hunter22"}}`,
		`{"shop":"x","credentials":{"auth_method":"client_credentials","client_id":"abc"}}`,
		`{"shop":"x",`+tok+`,"page_size":251}`,
		`{"shop":"x",`+tok+`,"api_version":"2024-13"}`,
		`{"shop":"x",`+tok+`,"base_url":"ftp://x"}`,
	)
	for in, want := range map[string]string{
		`{"shop":"my-store",` + tok + `}`:                                       "https://my-store.myshopify.com/admin/api/2026-01/graphql.json",
		`{"shop":"My-Store.myshopify.com",` + tok + `,"api_version":"2025-10"}`: "https://my-store.myshopify.com/admin/api/2025-10/graphql.json",
		`{"shop":"s",` + tok + `,"base_url":"http://proxy:8080/shop/"}`:         "http://proxy:8080/shop/admin/api/2026-01/graphql.json",
	} {
		cfg, err := src.ParseConfig(json.RawMessage(in))
		if err != nil {
			t.Fatal(err)
		}
		var c Config
		if err := cfg.Decode(&c); err != nil {
			t.Fatal(err)
		}
		if got := c.endpoint(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// The client credentials grant: one token request (the form Shopify
// documents), the token sent as X-Shopify-Access-Token and never printed,
// renewed once when Shopify stops taking it.
func TestClientCredentials(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			s := newShop(6)
			srv, cfg := start(t, s)
			cfg = strings.Replace(cfg, `{"auth_method":"access_token","access_token":"`+testToken+`"}`,
				`{"auth_method":"client_credentials","client_id":"`+testClientID+`","client_secret":"`+testClientSecret+`"}`, 1)
			s.fault = func(n int, _ string) (int, string, bool) {
				if n == 3 && len(s.granted) == 1 {
					delete(s.tokens, s.granted[0]) // expired early
				}
				return 0, "", false
			}
			res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams("customers", "products"),
				integtest.WithSecrets("shpat_granted00010123456789", "shpat_granted00020123456789"))
			if len(res.Records("customers")) != 6 || len(res.Records("products")) != 6 {
				t.Errorf("records %d %d", len(res.Records("customers")), len(res.Records("products")))
			}
			if len(s.grants) != 2 {
				t.Fatalf("%d token requests, want 2 (the first, and one after the 401)", len(s.grants))
			}
			g := s.grants[0]
			if g.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || len(g.PostForm) != 3 {
				t.Errorf("token request %v %v", g.Header, g.PostForm)
			}
			last := srv.Requests()[len(srv.Requests())-1]
			if !last.HeaderIs("X-Shopify-Access-Token", s.granted[1]) || last.Header.Get("Authorization") != "" {
				t.Errorf("last request's headers %v", last.Header)
			}
		})
	}
	s := newShop(1)
	_, cfg := start(t, s)
	cfg = strings.Replace(cfg, `{"auth_method":"access_token","access_token":"`+testToken+`"}`,
		`{"auth_method":"client_credentials","client_id":"`+testClientID+`","client_secret":"shpss_wrong0123456789"}`, 1)
	res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(integtest.Airbyte), integtest.WithExpectedFailure())
	if res.FailureType() != "config_error" || !strings.Contains(res.Failure(), "invalid_client") {
		t.Errorf("a wrong client secret: %s %q", res.FailureType(), res.Failure())
	}
}

func TestConformanceClientCredentials(t *testing.T) {
	_, cfg := start(t, newShop(3))
	cfg = strings.Replace(cfg, `{"auth_method":"access_token","access_token":"`+testToken+`"}`,
		`{"auth_method":"client_credentials","client_id":"`+testClientID+`","client_secret":"`+testClientSecret+`"}`, 1)
	var granted []string // every run asks for a token of its own
	for i := 1; i <= 100; i++ {
		granted = append(granted, fmt.Sprintf("shpat_granted%04d0123456789", i))
	}
	integtest.Conformance(t, Source(), cfg, integtest.WithStreams("customers", "refunds"), integtest.WithSecrets(granted...))
}
