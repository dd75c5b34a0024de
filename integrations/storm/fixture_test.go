package storm

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/integ/integ/integtest"
)

const (
	user     = "storm-query-app"
	password = "test-secret-5678"
)

// set is one entity set of the fixture.
type set struct {
	key   string
	props []string // structural properties, as in $metadata
	nav   []string // navigation properties, read with $expand only
	rows  []map[string]any
}

// fixture answers like an OData v4 service as the Storm Query API 2.0
// documents its entity sets: Basic auth; $select checked against the
// entity type's properties; $expand of navigation properties; $orderby on
// the key; the incremental $filter the connector documents (anything else
// is refused as an invalid query, as a service refuses what it cannot
// parse); server-driven paging sized by Prefer: odata.maxpagesize, with an
// absolute @odata.nextLink carrying a $skiptoken. Errors are
// {"error": {"code", "message"}}.
type fixture struct {
	sets map[string]*set

	integtest.Faults // a test answers chosen requests itself
}

func ts(day, hour int) string {
	return time.Date(2024, 5, day, hour, 0, 0, 0, time.UTC).Format(time.RFC3339)
}

func newFixture(orders, customers, skus int) *fixture {
	f := &fixture{sets: map[string]*set{
		"/Query/2.0/Orders/Orders": {key: "Id", nav: []string{"Items", "Infos"},
			props: []string{"Id", "OrderNo", "OrderDate", "ClientId", "ApplicationId", "StatusId", "BuyerCustomerId", "BuyerCustomerCode", "BuyerCompanyId", "PayerCustomerId", "CurrencyId", "Created", "CreatedBy", "Updated", "UpdatedBy"}},
		"/Query/2.0/Customers/Customers": {key: "Id",
			props: []string{"Id", "Code", "FirstName", "LastName", "Email", "Phone", "IsActive", "ClientId", "Created", "CreatedBy", "Updated", "UpdatedBy"}},
		"/Query/2.0/Products/ProductSkus": {key: "PartNo",
			props: []string{"PartNo", "ProductId", "ClientId", "StatusId", "TypeId", "ErpName", "EanCode", "GrossWeight", "NetWeight", "IsPublished", "IsBlocked", "Created", "CreatedBy", "Updated", "UpdatedBy"}},
	}}
	for i := 1; i <= orders; i++ {
		var updated any // every other order was never changed
		if i%2 == 0 {
			updated = ts(10+i, 12)
		}
		id := fmt.Sprintf("0b5e2a4c-0000-4000-8000-%012d", i)
		f.sets["/Query/2.0/Orders/Orders"].rows = append(f.sets["/Query/2.0/Orders/Orders"].rows, map[string]any{
			"Id": id, "OrderNo": fmt.Sprintf("100%03d", i), "OrderDate": ts(i, 9), "ClientId": 1, "ApplicationId": 2,
			"StatusId": 3, "BuyerCustomerId": 40 + i, "BuyerCustomerCode": nil, "BuyerCompanyId": nil, "PayerCustomerId": 40 + i,
			"CurrencyId": 752, "Created": ts(i, 10), "CreatedBy": 1, "Updated": updated, "UpdatedBy": nil,
			"Items": []map[string]any{{"Id": id + "-1", "OrderId": id, "LineNumber": 1, "StatusId": 3, "PartNo": "SKU-1", "ProductName": "Sofa", "QtyOrdered": 2, "PriceSale": 499.5, "VatRate": 25, "LineAmount": 999, "Created": ts(i, 10), "Updated": nil}},
			"Infos": []map[string]any{},
		})
	}
	for i := 1; i <= customers; i++ {
		var updated any
		if i%2 == 1 {
			updated = ts(20+i, 8)
		}
		f.sets["/Query/2.0/Customers/Customers"].rows = append(f.sets["/Query/2.0/Customers/Customers"].rows, map[string]any{
			"Id": 40 + i, "Code": fmt.Sprintf("C%d", i), "FirstName": "Anna", "LastName": "O'Brien", "Email": fmt.Sprintf("anna%d@example.com", i),
			"Phone": nil, "IsActive": true, "ClientId": 1, "Created": ts(i, 7), "CreatedBy": 1, "Updated": updated, "UpdatedBy": nil,
		})
	}
	for i := 1; i <= skus; i++ {
		f.sets["/Query/2.0/Products/ProductSkus"].rows = append(f.sets["/Query/2.0/Products/ProductSkus"].rows, map[string]any{
			"PartNo": fmt.Sprintf("SKU-%d", i), "ProductId": 7, "ClientId": 1, "StatusId": 1, "TypeId": 1, "ErpName": "Sofa",
			"EanCode": "7310000000000", "GrossWeight": 12.5, "NetWeight": nil, "IsPublished": true, "IsBlocked": false,
			"Created": ts(i, 6), "CreatedBy": 1, "Updated": nil, "UpdatedBy": nil,
		})
	}
	return f
}

var (
	filterRE   = regexp.MustCompile(`^\(Updated ge ([0-9TZ:.+-]+)\) or \(\(Updated eq null\) and \(Created ge ([0-9TZ:.+-]+)\)\)$`)
	pageSizeRE = regexp.MustCompile(`(?:^|[,;\s])odata\.maxpagesize=([0-9]+)`)
)

func (f *fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.Answer(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true")
	w.Header().Set("OData-Version", "4.0")
	fail := func(status int, code, msg string) {
		w.WriteHeader(status)
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg}})
		w.Write(b)
	}
	if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+password)) {
		fail(http.StatusUnauthorized, "Unauthorized", "Authorization has been denied for this request.")
		return
	}
	es := f.sets[r.URL.Path]
	if es == nil || r.Method != http.MethodGet {
		fail(http.StatusNotFound, "NotFound", "No HTTP resource was found that matches the request URI '"+r.URL.Path+"'.")
		return
	}
	q := r.URL.Query()
	for k := range q {
		if strings.HasPrefix(k, "$") && !slices.Contains([]string{"$select", "$expand", "$filter", "$orderby", "$top", "$skip", "$skiptoken"}, k) {
			fail(http.StatusBadRequest, "", "The query parameter '"+k+"' is not supported.")
			return
		}
	}
	sel := es.props
	if s := q.Get("$select"); s != "" {
		sel = strings.Split(s, ",")
		for _, p := range sel {
			if !slices.Contains(es.props, p) {
				fail(http.StatusBadRequest, "", fmt.Sprintf("Could not find a property named '%s' on the entity type of '%s'.", p, r.URL.Path))
				return
			}
		}
	}
	var expand []string
	if e := q.Get("$expand"); e != "" {
		expand = strings.Split(e, ",")
		for _, p := range expand {
			if !slices.Contains(es.nav, p) {
				fail(http.StatusBadRequest, "", fmt.Sprintf("Property '%s' is not a navigation property.", p))
				return
			}
		}
	}
	rows := slices.Clone(es.rows)
	if flt := q.Get("$filter"); flt != "" {
		m := filterRE.FindStringSubmatch(flt)
		var since time.Time
		var err error
		if m != nil && m[1] == m[2] {
			since, err = time.Parse(time.RFC3339Nano, m[1])
		}
		if m == nil || m[1] != m[2] || err != nil {
			fail(http.StatusBadRequest, "", "The query specified in the URI is not valid. Syntax error in $filter: "+flt)
			return
		}
		rows = slices.DeleteFunc(rows, func(row map[string]any) bool {
			at := row["Updated"]
			if at == nil {
				at = row["Created"]
			}
			t, _ := time.Parse(time.RFC3339, at.(string))
			return t.Before(since)
		})
	}
	switch ob := q.Get("$orderby"); ob {
	case "":
		slices.Reverse(rows) // no defined order: not the key's
	case es.key:
		slices.SortFunc(rows, func(a, b map[string]any) int { return strings.Compare(keyOf(a[es.key]), keyOf(b[es.key])) })
	default:
		fail(http.StatusBadRequest, "", "The $orderby '"+ob+"' is not supported by this fixture.")
		return
	}
	if tok := q.Get("$skiptoken"); tok != "" {
		i := slices.IndexFunc(rows, func(row map[string]any) bool { return keyOf(row[es.key]) > tok })
		if i < 0 {
			i = len(rows)
		}
		rows = rows[i:]
	}
	size := 50
	if m := pageSizeRE.FindStringSubmatch(r.Header.Get("Prefer")); m != nil {
		size, _ = strconv.Atoi(m[1])
		w.Header().Set("Preference-Applied", "odata.maxpagesize="+m[1])
	}
	env := map[string]any{"@odata.context": "http://" + r.Host + "/Query/2.0/$metadata#" + r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]}
	page := []map[string]any{}
	for i := 0; i < len(rows) && i < size; i++ {
		out := map[string]any{}
		for _, p := range sel {
			out[p] = rows[i][p]
		}
		for _, p := range expand {
			out[p] = rows[i][p]
		}
		page = append(page, out)
	}
	env["value"] = page
	if len(rows) > size {
		next := q
		next.Set("$skiptoken", keyOf(rows[size-1][es.key]))
		env["@odata.nextLink"] = "http://" + r.Host + r.URL.Path + "?" + strings.ReplaceAll(next.Encode(), "+", "%20")
	}
	json.NewEncoder(w).Encode(env)
}

// keyOf writes a key so that string order is key order (ids are at most
// 6 digits here).
func keyOf(v any) string {
	switch x := v.(type) {
	case int:
		return fmt.Sprintf("%06d", x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
