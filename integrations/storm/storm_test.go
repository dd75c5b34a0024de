package storm

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
	"github.com/tidwall/gjson"
)

func config(srv *integtest.Server, pageSize int) map[string]any {
	return map[string]any{"base_url": srv.URL + "/Query/2.0", "username": user, "password": password, "page_size": pageSize}
}

const orderSelect = "Id,OrderNo,OrderDate,ClientId,ApplicationId,StatusId,BuyerCustomerId,BuyerCustomerCode,BuyerCompanyId,PayerCustomerId,CurrencyId,Created,Updated"

func TestConformance(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(5, 4, 3))
	integtest.Conformance(t, Source(), config(srv, 2))
}

func TestConfigSchema(t *testing.T) {
	src := Source()
	integtest.RefusesConfigs(t, src,
		`{"username":"a"}`,
		`{"username":"a","password":"b","page_size":0}`,
		`{"username":"a","password":"b","base_url":"query.storm.io"}`,
	)
	c := integtest.DecodeConfig[Config](t, src, `{"username":"a","password":"b"}`)
	if c.BaseURL != "https://query.storm.io/Query/2.0" || c.PageSize != 500 {
		t.Errorf("defaults: %+v", c)
	}
}

// A full read asks for the selected fields, expands the order lines,
// orders by the key, sizes pages with Prefer and follows @odata.nextLink
// to the end (and no further).
func TestRequestsAndPaging(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(5, 4, 3))
	res := integtest.Sync(t, Source(), config(srv, 2), integtest.WithStreams("orders"), integtest.WithMode(integ.ModeFullRefresh))
	recs := res.Records("orders")
	if len(recs) != 5 {
		t.Fatalf("%d orders", len(recs))
	}
	for i, rec := range recs {
		if id := gjson.GetBytes(rec, "Id").String(); !strings.HasSuffix(id, fmt.Sprintf("%012d", i+1)) {
			t.Errorf("order %d is %s: key order lost", i, id)
		}
		if n := len(gjson.GetBytes(rec, "Items").Array()); n != 1 {
			t.Errorf("%d items", n)
		}
		want := gjson.GetBytes(rec, "Updated")
		if want.Type == gjson.Null {
			want = gjson.GetBytes(rec, "Created")
		}
		if m := gjson.GetBytes(rec, "Modified"); m.String() != want.String() || m.String() == "" {
			t.Errorf("Modified %s in %s", m.Raw, rec)
		}
	}
	for _, r := range srv.Requests() {
		if r.Path != "/Query/2.0/Orders/Orders" || r.Header.Get("Prefer") != "odata.maxpagesize=2" ||
			r.Header.Get("Accept") != "application/json" || r.Header.Get("OData-MaxVersion") != "4.0" {
			t.Errorf("%s: headers %v", r, r.Header)
		}
		if !r.HeaderIs("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("storm-query-app:test-secret-5678"))) {
			t.Errorf("%s: no Basic auth", r)
		}
		if r.Query.Get("$select") != orderSelect || r.Query.Get("$expand") != "Items" || r.Query.Get("$orderby") != "Id" || r.Query.Has("$filter") || r.Query.Has("$top") {
			t.Errorf("%s: query %v", r, r.Query)
		}
	}
	// The service's own links, followed to the page without one.
	tokens := []string{"", "0b5e2a4c-0000-4000-8000-000000000002", "0b5e2a4c-0000-4000-8000-000000000004"}
	reqs := srv.Requests()
	if len(reqs) != len(tokens) {
		t.Fatalf("%d requests, want %d", len(reqs), len(tokens))
	}
	for i, tok := range tokens {
		if tok == "" && reqs[i].Query.Has("$skiptoken") || tok != "" && !reqs[i].QueryIs("$skiptoken", tok) {
			t.Errorf("request %d: %s, want $skiptoken %q", i, reqs[i], tok)
		}
	}
}

// $select lists exactly the selected fields (the key and the fields behind
// Modified always); $expand only when the order lines are selected.
func TestSelectFollowsCatalog(t *testing.T) {
	cases := []struct {
		fields          []string
		select_, expand string
	}{
		{[]string{"OrderNo"}, "Id,OrderNo,Updated,Created", ""},
		{[]string{"OrderNo", "Items"}, "Id,OrderNo,Updated,Created", "Items"},
		{[]string{"Updated", "StatusId"}, "Id,StatusId,Updated,Created", ""},
	}
	for _, c := range cases {
		srv := integtest.NewServer(t, newFixture(3, 0, 0))
		schema := discovered(t, "orders")
		var md []string
		for name := range gjson.Get(schema, "properties").Map() {
			md = append(md, fmt.Sprintf(`{"breadcrumb":["properties",%q],"metadata":{"selected":%v}}`, name, slices.Contains(c.fields, name)))
		}
		catalog := fmt.Sprintf(`{"streams":[{"tap_stream_id":"orders","stream":"orders","schema":%s,"metadata":[{"breadcrumb":[],"metadata":{"selected":true,"replication-method":"INCREMENTAL","replication-key":"Modified"}},%s]}]}`,
			schema, strings.Join(md, ","))
		res := integtest.Sync(t, Source(), config(srv, 100), integtest.WithCatalog(json.RawMessage(catalog)))
		r := srv.Requests()[0]
		if r.Query.Get("$select") != c.select_ || r.Query.Get("$expand") != c.expand {
			t.Errorf("%v: $select=%s $expand=%s", c.fields, r.Query.Get("$select"), r.Query.Get("$expand"))
		}
		for _, rec := range res.Records("orders") {
			want := append([]string{"Id", "Modified"}, c.fields...)
			if n := len(gjson.ParseBytes(rec).Map()); n != len(want) {
				t.Errorf("%v: record %s", c.fields, rec)
			}
		}
	}
}

// discovered is a stream's discovered schema.
func discovered(t *testing.T, stream string) string {
	res := integtest.Discover(t, Source(), map[string]any{"username": "u", "password": "p-secret"})
	for _, s := range gjson.GetBytes(res.Stdout, "streams").Array() {
		if s.Get("stream").String() == stream {
			return s.Get("schema").Raw
		}
	}
	t.Fatalf("no %s in %s", stream, res.Stdout)
	return ""
}

func TestIncremental(t *testing.T) {
	for _, proto := range integtest.Protocols() {
		t.Run(string(proto), func(t *testing.T) {
			f := newFixture(5, 4, 3)
			srv := integtest.NewServer(t, f)
			cfg := config(srv, 2)
			first := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(proto))
			if len(first.Records("orders")) != 5 || len(first.Records("customers")) != 4 || len(first.Records("product_skus")) != 3 {
				t.Fatalf("first sync: %d orders, %d customers, %d skus", len(first.Records("orders")), len(first.Records("customers")), len(first.Records("product_skus")))
			}
			for _, r := range srv.Requests() {
				if r.Query.Has("$filter") {
					t.Errorf("%s: a first sync has no filter", r)
				}
			}

			orders := f.sets["/Query/2.0/Orders/Orders"]
			orders.rows[0]["Updated"] = "2024-06-01T00:00:00Z" // changed
			orders.rows = append(orders.rows, map[string]any{  // new, never updated
				"Id": "0b5e2a4c-0000-4000-8000-000000000006", "OrderNo": "100006", "Created": "2024-06-02T00:00:00Z", "Updated": nil,
				"Items": []any{},
			})
			srv.Reset()
			second := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(proto), integtest.WithState(first.FinalState()))
			want := map[string]string{
				"/Query/2.0/Orders/Orders":        "(Updated ge 2024-05-14T12:00:00Z) or ((Updated eq null) and (Created ge 2024-05-14T12:00:00Z))",
				"/Query/2.0/Customers/Customers":  "(Updated ge 2024-05-23T08:00:00Z) or ((Updated eq null) and (Created ge 2024-05-23T08:00:00Z))",
				"/Query/2.0/Products/ProductSkus": "(Updated ge 2024-05-03T06:00:00Z) or ((Updated eq null) and (Created ge 2024-05-03T06:00:00Z))",
			}
			for _, r := range srv.Requests() {
				if got := r.Query.Get("$filter"); got != want[r.Path] {
					t.Errorf("%s:\n$filter=%s\nwant    %s", r.Path, got, want[r.Path])
				}
			}
			var got []string
			for _, rec := range second.Records("orders") {
				got = append(got, gjson.GetBytes(rec, "OrderNo").String())
			}
			// Order 1 changed, 4 is the bookmark (inclusive), 6 is new.
			if strings.Join(got, " ") != "100001 100004 100006" {
				t.Errorf("second sync orders %v", got)
			}
			if len(second.Records("customers")) != 1 || len(second.Records("product_skus")) != 1 {
				t.Errorf("%d customers, %d skus: only the bookmarked ones again", len(second.Records("customers")), len(second.Records("product_skus")))
			}
		})
	}
}

func TestBadBookmark(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(1, 0, 0))
	state := `{"bookmarks":{"orders":{"replication_key":"Modified","replication_key_value":"last tuesday"}}}`
	res := integtest.Sync(t, Source(), config(srv, 10), integtest.WithStreams("orders"), integtest.WithState(json.RawMessage(state)), integtest.WithExpectedFailure())
	if msg := res.Failure(); !strings.Contains(msg, "last tuesday") || !strings.Contains(msg, "RFC 3339") {
		t.Errorf("failure %q", msg)
	}
	if len(srv.Requests()) != 0 {
		t.Errorf("requests sent with a bad bookmark: %v", srv.Requests())
	}
}

// Storm's own refusal is shown, with what to do.
func TestBadCredentials(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(2, 2, 2))
	cfg := config(srv, 10)
	cfg["password"] = "wrong-secret-0000"
	integtest.BadCredentials(t, Source(), cfg, []string{"refused the credentials", "401 Unauthorized: Authorization has been denied for this request.", "check the token or key"})
}

// A 403 on customers fails that stream; orders and SKUs sync.
func TestNoPermissionOnOneStream(t *testing.T) {
	f := newFixture(3, 3, 3)
	f.Fault = func(r *http.Request, n int) (int, http.Header, string, bool) {
		if strings.HasSuffix(r.URL.Path, "/Customers/Customers") {
			return http.StatusForbidden, nil, `{"error":{"code":"Forbidden","message":"The application may not read Customers."}}`, true
		}
		return 0, nil, "", false
	}
	srv := integtest.NewServer(t, f)
	for _, proto := range integtest.Protocols() {
		res := integtest.Sync(t, Source(), config(srv, 2), integtest.WithProtocol(proto), integtest.WithExpectedFailure())
		if msg := res.Failure(); !strings.Contains(msg, `"customers"`) || !strings.Contains(msg, "may not read Customers") {
			t.Errorf("%s: failure %q", proto, msg)
		}
		if len(res.Records("orders")) != 3 || len(res.Records("product_skus")) != 3 {
			t.Errorf("%s: %d orders, %d skus", proto, len(res.Records("orders")), len(res.Records("product_skus")))
		}
	}
}

// Any bookmark from a state file is refused or becomes a filter whose two
// literals are the same instant, in UTC, that the service can parse.
func FuzzBookmarkFilter(f *testing.F) {
	for _, s := range []string{"2024-05-14T12:00:00Z", "2024-05-14T12:00:00.5+02:00", "2024-05-14T12:00:00", "last tuesday", "2024-05-14T12:00:00Z) or (1 eq 1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := parseTime(s)
		if err != nil {
			return
		}
		flt := changedSince(at)
		m := filterRE.FindStringSubmatch(flt)
		if m == nil || m[1] != m[2] || !strings.HasSuffix(m[1], "Z") {
			t.Fatalf("%q gives the filter %s", s, flt)
		}
		back, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil || !back.Equal(at) {
			t.Fatalf("%q: literal %s reads back %v, %v", s, m[1], back, err)
		}
	})
}
