package sitoo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/integ/integ/integtest"
)

const (
	account  = "90316"
	apiID    = "90316-125"
	password = "test-password-1234"
)

// fixture answers like the Sitoo REST API v2 as its reference documents
// it: Basic auth, envelopes {"totalcount", "items"}, start/num paging
// (num capped at 100), the fields parameter, and the filters
// datelastmodified (products), orderidfrom and sort (orders) and
// datelastmodifiedfrom (warehouse items). Errors are
// {"statuscode", "errortext"}.
type fixture struct {
	products, orders, users, warehouses []map[string]any
	items                               map[string][]map[string]any // by warehouse id

	integtest.Faults // a test answers chosen requests itself
}

func newFixture(products, orders int) *fixture {
	f := &fixture{items: map[string][]map[string]any{}}
	for i := 1; i <= products; i++ {
		f.products = append(f.products, map[string]any{
			"productid": i, "sku": fmt.Sprintf("10038-%d", i), "title": fmt.Sprintf("Sofa %d", i),
			"moneyprice": "10392.00", "vatvalue": 25, "activepos": true, "variantparentid": nil,
			"categories": []string{"3"}, "datecreated": 1462874100, "datemodified": 1462874100 + i*10,
		})
	}
	for i := 1; i <= orders; i++ {
		f.orders = append(f.orders, map[string]any{
			"orderid": 11500 + i, "eshopid": 1, "ordertypeid": 10, "orderstateid": 10, "paymentstateid": 20,
			"orderdate": 1463041119 + i, "email": "", "currencycode": "USD", "moneyfinal_net": "14.15",
			"moneytotal_gross_all": "15.00", "registerid": "{3CCB9848-155A-49E1-7CA8-5F7F78FC3067}", "warehouseid": 1,
			"datereserved": nil, "additionaldata": map[string]any{},
			"orderitems": []map[string]any{{"orderitemid": 0, "productid": 24, "productname": "Cookbook", "sku": "121292-4", "quantity": 1, "vatvalue": 6, "moneyitemtotal_net": "14.15"}},
			"payments":   []map[string]any{{"name": "Card", "moneyamount": "15.00", "reftype": "verifonelpp", "cardissuer": "Mastercard"}},
		})
	}
	for i := 1; i <= 4; i++ {
		f.users = append(f.users, map[string]any{
			"userid": fmt.Sprintf("{102DC4AA-2C19-3177-6AB2-435CB3A4649%d}", i), "email": fmt.Sprintf("user%d@example.com", i),
			"namefirst": "Steve", "namelast": "Smith", "company": "Acme Inc.", "datecreated": 1462874210, "datemodified": 1462874210 + i,
		})
	}
	for _, w := range []int{1, 2} {
		f.warehouses = append(f.warehouses, map[string]any{"warehouseid": w, "warehousetype": 10, "usetype": 10, "storeid": nil, "sellable": true, "name": fmt.Sprintf("Warehouse %d", w), "externalid": nil})
		for i := 1; i <= 2+w; i++ {
			f.items[strconv.Itoa(w)] = append(f.items[strconv.Itoa(w)], map[string]any{
				"warehouseitemid": w*100 + i, "sku": fmt.Sprintf("10038-%d", i), "binlocation": "", "decimalthreshold": "3.000",
				"decimaltotal": "5.000", "moneytotal": "19600.00", "datelastmodified": 1462874148 + w*100 + i, "datelaststocktaking": 1462874148,
				"decimalreserved": "0.000", "decimalavailable": "5.000",
			})
		}
	}
	return f
}

var itemsPath = regexp.MustCompile(`^/warehouses/([0-9]+)/warehouseitems\.json$`)

func (f *fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.Answer(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fail := func(status int, text string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"statuscode":%d,"errortext":%q}`, status, text)
	}
	if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(apiID+":"+password)) {
		fail(http.StatusUnauthorized, "Unauthorized. Authorization failed.")
		return
	}
	prefix := "/v2/accounts/" + account + "/sites/1"
	if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, prefix+"/") {
		fail(http.StatusNotFound, "Resource not found. The url is invalid.")
		return
	}
	q := r.URL.Query()
	var rows []map[string]any
	switch path := strings.TrimPrefix(r.URL.Path, prefix); path {
	case "/products.json":
		rows = since(f.products, "datemodified", q.Get("datelastmodified"))
	case "/orders.json":
		rows = since(f.orders, "orderid", q.Get("orderidfrom"))
		if q.Get("sort") != "orderid" { // Sitoo's default is -orderid
			rows = slices.Clone(rows)
			slices.Reverse(rows)
		}
	case "/users.json":
		rows = f.users
	case "/warehouses.json":
		rows = f.warehouses
	default:
		m := itemsPath.FindStringSubmatch(path)
		if m == nil || f.items[m[1]] == nil {
			fail(http.StatusNotFound, "Resource not found. The url is invalid.")
			return
		}
		rows = since(f.items[m[1]], "datelastmodified", q.Get("datelastmodifiedfrom"))
	}
	start, err1 := strconv.Atoi(q.Get("start"))
	num, err2 := strconv.Atoi(q.Get("num"))
	if q.Get("start") == "" {
		start, err1 = 0, nil
	}
	if q.Get("num") == "" {
		num, err2 = 10, nil
	}
	if err1 != nil || err2 != nil || start < 0 || num < 1 {
		fail(http.StatusBadRequest, "Bad Request. Invalid syntax, missing required argument or invalid request.")
		return
	}
	num = min(num, 100)
	page := []map[string]any{}
	for i := start; i < len(rows) && i < start+num; i++ {
		page = append(page, project(rows[i], q.Get("fields")))
	}
	json.NewEncoder(w).Encode(map[string]any{"totalcount": len(rows), "items": page})
}

// since keeps the rows whose key is at least from (all when from is "").
func since(rows []map[string]any, key, from string) []map[string]any {
	if from == "" {
		return rows
	}
	min, _ := strconv.Atoi(from)
	var out []map[string]any
	for _, r := range rows {
		if r[key].(int) >= min {
			out = append(out, r)
		}
	}
	return out
}

// project keeps the fields asked for, as Sitoo does.
func project(row map[string]any, fields string) map[string]any {
	if fields == "" {
		return row
	}
	out := map[string]any{}
	for _, f := range strings.Split(fields, ",") {
		if v, ok := row[f]; ok {
			out[f] = v
		}
	}
	return out
}
