package sitoo

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
	"github.com/tidwall/gjson"
)

func config(srv *integtest.Server, pageSize int) map[string]any {
	return map[string]any{
		"base_url": srv.URL + "/v2", "account_id": account, "api_id": apiID,
		"password": password, "page_size": pageSize,
	}
}

func TestConformance(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(5, 4))
	integtest.Conformance(t, Source(), config(srv, 3))
}

func TestConfigSchema(t *testing.T) {
	src := Source()
	integtest.RefusesConfigs(t, src,
		`{"account_id":"90316","api_id":"a","password":"b","page_size":101}`,
		`{"account_id":"acme","api_id":"a","password":"b"}`,
		`{"account_id":"90316","api_id":"a"}`,
		`{"account_id":"90316","api_id":"a","password":"b","base_url":"ftp://x"}`,
	)
	c := integtest.DecodeConfig[Config](t, src, `{"account_id":"90316","api_id":"a","password":"b"}`)
	if c.BaseURL != "https://api.mysitoo.com/v2" || c.SiteID != 1 || c.PageSize != 100 {
		t.Errorf("defaults: %+v", c)
	}
}

// Lists are paged with start and num and end when start+num reaches
// totalcount: no request for an empty page. Every request carries Basic
// auth and the fields parameter.
func TestPagingRequests(t *testing.T) {
	for _, c := range []struct {
		products, size int
		want           []string
	}{
		{7, 3, []string{"start=0&num=3", "start=3&num=3", "start=6&num=3"}},
		{6, 3, []string{"start=0&num=3", "start=3&num=3"}},
		{0, 100, []string{"start=0&num=100"}},
		{250, 100, []string{"start=0&num=100", "start=100&num=100", "start=200&num=100"}},
	} {
		srv := integtest.NewServer(t, newFixture(c.products, 0))
		res := integtest.Sync(t, Source(), config(srv, c.size), integtest.WithStreams("products"), integtest.WithMode(integ.ModeFullRefresh))
		if n := len(res.Records("products")); n != c.products {
			t.Errorf("%d products: %d records", c.products, n)
		}
		var got []string
		for _, r := range srv.Requests() {
			if r.Method != http.MethodGet || r.Path != "/v2/accounts/90316/sites/1/products.json" {
				t.Errorf("request %s", r)
			}
			if r.Header.Get("Accept") != "application/json" {
				t.Errorf("%s: Accept %q", r, r.Header.Get("Accept"))
			}
			if !r.HeaderIs("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("90316-125:test-password-1234"))) {
				t.Errorf("%s: no Basic auth with the API ID", r)
			}
			if f := r.Query.Get("fields"); f != "productid,sku,title,descriptionshort,description,moneyprice,moneypriceorg,moneypricein,vatvalue,vatid,unitlabel,activepos,stockcountenable,variantparentid,manufacturerid,defaultcategoryid,categories,barcode,barcodealiases,datecreated,datemodified" {
				t.Errorf("%s: fields=%s", r, f)
			}
			if len(r.Query) != 3 {
				t.Errorf("%s: parameters beyond start, num and fields", r)
			}
			got = append(got, "start="+r.Query.Get("start")+"&num="+r.Query.Get("num"))
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%d products, page %d: requests %v, want %v", c.products, c.size, got, c.want)
		}
	}
}

// The fields parameter lists exactly the selected fields (and the keys).
func TestFieldsFollowSelection(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(3, 0))
	catalog := `{"streams":[{"tap_stream_id":"products","stream":"products","schema":{"type":"object","properties":{"productid":{"type":"integer"},"sku":{"type":"string"},"title":{"type":["string","null"]},"datemodified":{"type":"integer"}}},
	  "metadata":[{"breadcrumb":[],"metadata":{"selected":true,"replication-method":"FULL_TABLE"}},
	    {"breadcrumb":["properties","title"],"metadata":{"selected":true}},
	    {"breadcrumb":["properties","sku"],"metadata":{"selected":false}}]}]}`
	res := integtest.Sync(t, Source(), config(srv, 100), integtest.WithCatalog(json.RawMessage(catalog)))
	if len(res.Records("products")) != 3 {
		t.Fatalf("%d records", len(res.Records("products")))
	}
	if f := srv.Requests()[0].Query.Get("fields"); f != "productid,title,datemodified" {
		t.Errorf("fields=%s", f)
	}
	for _, rec := range res.Records("products") {
		if gjson.GetBytes(rec, "sku").Exists() || !gjson.GetBytes(rec, "title").Exists() {
			t.Errorf("record %s", rec)
		}
	}
}

func TestIncremental(t *testing.T) {
	for _, proto := range integtest.Protocols() {
		t.Run(string(proto), func(t *testing.T) {
			f := newFixture(5, 4)
			srv := integtest.NewServer(t, f)
			cfg := config(srv, 2)
			first := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(proto))
			counts := map[string]int{"products": 5, "orders": 4, "users": 4, "warehouses": 2, "warehouse_items": 7}
			for s, n := range counts {
				if got := len(first.Records(s)); got != n {
					t.Errorf("first sync: %d %s, want %d", got, s, n)
				}
			}
			for _, r := range srv.Requests() {
				if strings.HasSuffix(r.Path, "/orders.json") && r.Query.Get("sort") != "orderid" {
					t.Errorf("%s: orders must be asked sorted by orderid", r)
				}
				// warehouseid is the tap's, from the parent: not asked of the API.
				if strings.HasSuffix(r.Path, "/warehouseitems.json") && r.Query.Get("fields") != "warehouseitemid,sku,binlocation,decimaltotal,decimalreserved,decimalavailable,decimalthreshold,moneytotal,datelaststocktaking,datelastmodified" {
					t.Errorf("%s: fields=%s", r, r.Query.Get("fields"))
				}
				if r.Query.Has("datelastmodified") || r.Query.Has("orderidfrom") || r.Query.Has("datelastmodifiedfrom") {
					t.Errorf("%s: a first sync has no filter", r)
				}
			}

			// One product, one order and one item of warehouse 2 change.
			f.products[1]["datemodified"] = 1462900000
			f.orders = append(f.orders, map[string]any{"orderid": 11600, "orderdate": 1463049999, "orderitems": []any{}, "payments": []any{}, "additionaldata": map[string]any{}})
			f.items["2"][0]["datelastmodified"] = 1462900000
			srv.Reset()
			second := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(proto), integtest.WithState(first.FinalState()))
			want := map[string]string{ // the bookmark each request starts from (inclusive)
				"/products.json":                    "datelastmodified=1462874149",
				"/orders.json":                      "orderidfrom=11504",
				"/warehouses/1/warehouseitems.json": "datelastmodifiedfrom=1462874251",
				"/warehouses/2/warehouseitems.json": "datelastmodifiedfrom=1462874352",
			}
			for _, r := range srv.Requests() {
				for suffix, param := range want {
					k, v, _ := strings.Cut(param, "=")
					if strings.HasSuffix(r.Path, suffix) && r.Query.Get(k) != v {
						t.Errorf("%s: want %s", r, param)
					}
				}
			}
			ids := func(stream, key string) []int64 {
				var out []int64
				for _, rec := range second.Records(stream) {
					out = append(out, gjson.GetBytes(rec, key).Int())
				}
				return out
			}
			// Inclusive bookmarks read the last record again, and the changes.
			if got := ids("products", "productid"); len(got) != 2 || got[0] != 2 || got[1] != 5 {
				t.Errorf("products %v, want 2 and 5", got)
			}
			if got := ids("orders", "orderid"); len(got) != 2 || got[0] != 11504 || got[1] != 11600 {
				t.Errorf("orders %v", got)
			}
			if got := ids("warehouse_items", "warehouseitemid"); len(got) != 3 { // 103 again, 201 changed, 204 again
				t.Errorf("warehouse items %v", got)
			}
			for _, rec := range second.Records("warehouse_items") {
				if w := gjson.GetBytes(rec, "warehouseid").Int(); w != gjson.GetBytes(rec, "warehouseitemid").Int()/100 {
					t.Errorf("warehouseid %d on %s", w, rec)
				}
			}
			if len(second.Records("users")) != 4 || len(second.Records("warehouses")) != 2 {
				t.Errorf("full refresh streams: %d users, %d warehouses", len(second.Records("users")), len(second.Records("warehouses")))
			}
		})
	}
}

// Sitoo's own refusal is shown, with what to do.
func TestBadCredentials(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(3, 3))
	cfg := config(srv, 100)
	cfg["password"] = "wrong-password-5678"
	integtest.BadCredentials(t, Source(), cfg, []string{"refused the credentials", "answered 401 Unauthorized: Unauthorized. Authorization failed.; check"})
}

// A 403 on users fails that stream; the others sync.
func TestNoPermissionOnOneStream(t *testing.T) {
	f := newFixture(3, 3)
	f.Fault = func(r *http.Request, n int) (int, http.Header, string, bool) {
		if strings.HasSuffix(r.URL.Path, "/users.json") {
			return http.StatusForbidden, nil, `{"statuscode":403,"errortext":"Forbidden. The API user may not read users."}`, true
		}
		return 0, nil, "", false
	}
	srv := integtest.NewServer(t, f)
	res := integtest.Sync(t, Source(), config(srv, 100), integtest.WithProtocol(integtest.Airbyte), integtest.WithExpectedFailure())
	if msg := res.Failure(); !strings.Contains(msg, `"users"`) || !strings.Contains(msg, "403") || !strings.Contains(msg, "may not read users") {
		t.Errorf("failure %q", msg)
	}
	if len(res.Records("products")) != 3 || len(res.Records("orders")) != 3 || len(res.Records("warehouse_items")) != 7 {
		t.Errorf("other streams: %d products, %d orders, %d items", len(res.Records("products")), len(res.Records("orders")), len(res.Records("warehouse_items")))
	}
}

// A warehouse that disappears (404) is skipped; the others' stock syncs.
func TestMissingWarehouseIsSkipped(t *testing.T) {
	f := newFixture(1, 1)
	delete(f.items, "1")
	srv := integtest.NewServer(t, f)
	res := integtest.Sync(t, Source(), config(srv, 100), integtest.WithStreams("warehouse_items"))
	if got := len(res.Records("warehouse_items")); got != 4 {
		t.Errorf("%d items, want warehouse 2's 4", got)
	}
	if !strings.Contains(strings.Join(res.Logs(), "\n"), "404") {
		t.Errorf("the skip is not logged: %v", res.Logs())
	}
}
