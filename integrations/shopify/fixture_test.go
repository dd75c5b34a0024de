package shopify

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integtest"
)

// The fixture answers like the GraphQL Admin API as shopify.dev documents
// it: POST /admin/api/{version}/graphql.json with X-Shopify-Access-Token,
// connections paged with first/after and pageInfo, the search syntax
// updated_at:>='...', a leaky bucket of query-cost points reported in
// extensions.cost and THROTTLED errors (HTTP 200) when a query costs more
// than the bucket holds, ACCESS_DENIED errors for a missing scope, 401 for
// a bad token, and bulk operations whose JSON Lines file is served from
// another host.

const (
	testToken        = "shpat_test0123456789abcdef"
	testClientID     = "client-id-5678"
	testClientSecret = "shpss_secret0123456789"
	testVersion      = "2026-01"
	badToken         = `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type shop struct {
	mu      sync.Mutex
	data    map[string][]map[string]any // connection -> records in updatedAt order
	denied  map[string]bool             // connection -> ACCESS_DENIED
	fault   func(n int, op string) (status int, body string, ok bool)
	queries int

	// the leaky bucket
	maximum, restore, avail float64
	at                      time.Time
	throttled               int

	tokens  map[string]bool // valid access tokens
	granted []string        // tokens handed out by the client credentials grant
	grants  []http.Request  // token endpoint requests, with their form

	bulkOps   []*bulkOp
	bulkBusy  bool   // answer bulkOperationRunQuery with a userError
	bulkFail  string // end every bulk operation FAILED with this error code
	downloads []http.Header
	base      string
}

type bulkOp struct {
	root, filter string
	polls        int
}

type shopOption func(*shop)

// withBucket sets the bucket's size, restore rate and initial content.
func withBucket(maximum, restore, avail float64) shopOption {
	return func(s *shop) { s.maximum, s.restore, s.avail = maximum, restore, avail }
}

func withDenied(roots ...string) shopOption {
	return func(s *shop) {
		for _, r := range roots {
			s.denied[r] = true
		}
	}
}

func withFault(f func(n int, op string) (int, string, bool)) shopOption {
	return func(s *shop) { s.fault = f }
}

func ts(h int) string { return t0.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }

func moneyBag(amount string) map[string]any {
	m := map[string]any{"amount": amount, "currencyCode": "EUR"}
	return map[string]any{"shopMoney": m, "presentmentMoney": m}
}

// newShop makes n records of each connection (orders with 0 to 2
// fulfillments and a refund every third order).
func newShop(n int, opts ...shopOption) *shop {
	s := &shop{data: map[string][]map[string]any{}, denied: map[string]bool{}, tokens: map[string]bool{testToken: true},
		maximum: 2000, restore: 100000, avail: 2000}
	for i := range n {
		s.data["customers"] = append(s.data["customers"], map[string]any{
			"id": fmt.Sprintf("gid://shopify/Customer/%d", 100+i), "displayName": fmt.Sprintf("Customer %d", i),
			"firstName": "Ada", "lastName": nil, "state": "ENABLED", "note": nil, "tags": []string{"vip"},
			"verifiedEmail": true, "taxExempt": false, "numberOfOrders": strconv.Itoa(i),
			"amountSpent": map[string]any{"amount": "12.50", "currencyCode": "EUR"},
			"createdAt":   ts(i), "updatedAt": ts(i + 1),
		})
		fulfillments, refunds := []map[string]any{}, []map[string]any{} // non-null lists, as the API sends them
		for j := range i % 3 {
			fulfillments = append(fulfillments, map[string]any{
				"id": fmt.Sprintf("gid://shopify/Fulfillment/%d", 5000+10*i+j), "name": fmt.Sprintf("#%d-F%d", 1000+i, j+1),
				"status": "SUCCESS", "displayStatus": "FULFILLED", "createdAt": ts(i), "updatedAt": ts(i + 2),
				"deliveredAt": nil, "estimatedDeliveryAt": nil, "inTransitAt": ts(i + 1), "totalQuantity": j + 1,
				"trackingInfo": []map[string]any{{"company": "DHL", "number": "JD0001", "url": nil}},
				"location":     map[string]any{"id": "gid://shopify/Location/1"},
				"order":        map[string]any{"id": fmt.Sprintf("gid://shopify/Order/%d", 1000+i)},
			})
		}
		if i%3 == 1 {
			refunds = append(refunds, map[string]any{
				"id": fmt.Sprintf("gid://shopify/Refund/%d", 7000+i), "note": "damaged", "createdAt": ts(i + 1), "updatedAt": ts(i + 2),
				"totalRefundedSet": moneyBag("5.00"), "order": map[string]any{"id": fmt.Sprintf("gid://shopify/Order/%d", 1000+i)},
			})
		}
		s.data["orders"] = append(s.data["orders"], map[string]any{
			"id": fmt.Sprintf("gid://shopify/Order/%d", 1000+i), "name": fmt.Sprintf("#%d", 1000+i),
			"email": "ada@example.com", "phone": nil, "createdAt": ts(i), "updatedAt": ts(i + 2), "processedAt": ts(i),
			"closedAt": nil, "cancelledAt": nil, "cancelReason": nil, "displayFinancialStatus": "PAID",
			"displayFulfillmentStatus": "FULFILLED", "confirmed": true, "test": false, "currencyCode": "EUR",
			"tags": []string{}, "note": nil, "totalPriceSet": moneyBag("25.00"), "subtotalPriceSet": moneyBag("20.00"),
			"totalTaxSet": moneyBag("5.00"), "totalDiscountsSet": nil, "totalRefundedSet": moneyBag("0.00"),
			"customer":     map[string]any{"id": fmt.Sprintf("gid://shopify/Customer/%d", 100+i)},
			"fulfillments": fulfillments, "refunds": refunds,
		})
		s.data["products"] = append(s.data["products"], map[string]any{
			"id": fmt.Sprintf("gid://shopify/Product/%d", 300+i), "title": fmt.Sprintf("Product %d", i), "handle": fmt.Sprintf("product-%d", i),
			"vendor": "Acme", "productType": "Widget", "status": "ACTIVE", "tags": []string{}, "totalInventory": 7,
			"createdAt": ts(i), "updatedAt": ts(i + 3), "publishedAt": nil,
		})
		s.data["inventoryItems"] = append(s.data["inventoryItems"], map[string]any{
			"id": fmt.Sprintf("gid://shopify/InventoryItem/%d", 400+i), "sku": fmt.Sprintf("SKU-%d", i), "tracked": true,
			"requiresShipping": true, "countryCodeOfOrigin": nil, "harmonizedSystemCode": nil,
			"unitCost": map[string]any{"amount": "3.10", "currencyCode": "EUR"}, "createdAt": ts(i), "updatedAt": ts(i + 4),
		})
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// touch moves record i of root to updatedAt hour h (keeping the order by
// updatedAt), as an edit in the shop would.
func (s *shop) touch(root string, i, h int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.data[root][i]
	rec["updatedAt"] = ts(h)
	sort.SliceStable(s.data[root], func(a, b int) bool {
		return s.data[root][a]["updatedAt"].(string) < s.data[root][b]["updatedAt"].(string)
	})
}

var (
	rootRe   = regexp.MustCompile(`\{\s*(\w+)\((first|query|sortKey)`)
	filterRe = regexp.MustCompile(`^updated_at:>='([^']+)'$`)
	bulkRe   = regexp.MustCompile(`^\{ (\w+)(?:\(query: "((?:[^"\\]|\\.)*)"(?:, sortKey: UPDATED_AT)?\)|\(sortKey: UPDATED_AT\))? \{ edges \{ node \{`)
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/admin/oauth/access_token" {
		s.grant(w, r)
		return
	}
	if r.URL.Path != "/admin/api/"+testVersion+"/graphql.json" {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "POST application/json expected"})
		return
	}
	if !s.tokens[r.Header.Get("X-Shopify-Access-Token")] {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(badToken))
		return
	}
	var body struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "bad JSON: " + err.Error()})
		return
	}
	s.queries++
	op := "query"
	root := ""
	switch {
	case strings.Contains(body.Query, "bulkOperationRunQuery"):
		op = "bulkOperationRunQuery"
	case strings.Contains(body.Query, "node(id: $id)"):
		op = "node"
	case strings.Contains(body.Query, "shop { name }"):
		op = "shop"
	default:
		m := rootRe.FindStringSubmatch(body.Query)
		if m == nil {
			writeJSON(w, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": "syntax error", "extensions": map[string]any{"code": "PARSE_ERROR"}}}})
			return
		}
		root = m[1]
		op = root
	}
	if s.fault != nil {
		if status, b, ok := s.fault(s.queries, op); ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(b))
			return
		}
	}
	first, _ := body.Variables["first"].(float64)
	cost := 10.0
	if first > 0 {
		cost = 2 + first
	}
	// the leaky bucket
	now := time.Now()
	if !s.at.IsZero() {
		s.avail = min(s.maximum, s.avail+now.Sub(s.at).Seconds()*s.restore)
	}
	s.at = now
	if s.avail < cost {
		s.throttled++
		writeJSON(w, http.StatusOK, map[string]any{
			"errors":     []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}},
			"extensions": s.cost(cost, nil),
		})
		return
	}
	s.avail -= cost
	if root != "" && s.denied[root] {
		writeJSON(w, http.StatusOK, map[string]any{
			"errors": []any{map[string]any{
				"message": fmt.Sprintf("Access denied for %s field. Required access: `read_%s` access scope.", root, strings.ToLower(root)),
				"path":    []string{root},
				"extensions": map[string]any{"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes",
					"requiredAccess": fmt.Sprintf("`read_%s` access scope.", strings.ToLower(root))},
			}},
			"data":       nil,
			"extensions": s.cost(cost, cost),
		})
		return
	}
	var data any
	switch op {
	case "shop":
		data = map[string]any{"shop": map[string]any{"name": "Test Shop"}}
	case "bulkOperationRunQuery":
		data = s.startBulk(body.Variables["query"].(string))
	case "node":
		data = s.pollBulk(body.Variables["id"].(string))
	default:
		var err error
		if data, err = s.page(root, body.Query, body.Variables); err != nil {
			writeJSON(w, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": err.Error(), "extensions": map[string]any{"code": "BAD_REQUEST"}}}})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "extensions": s.cost(cost, cost)})
}

// grant is the client credentials grant: a form POST answered with a
// token valid for 24 hours.
func (s *shop) grant(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
		return
	}
	s.grants = append(s.grants, *r)
	if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != testClientID || r.PostForm.Get("client_secret") != testClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."})
		return
	}
	tok := fmt.Sprintf("shpat_granted%04d0123456789", len(s.granted)+1)
	s.granted = append(s.granted, tok)
	s.tokens[tok] = true
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "scope": "read_customers,read_orders,read_products,read_inventory", "expires_in": 86399})
}

// revoke makes a token invalid, as its expiry would.
func (s *shop) revoke(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, tok)
}

func (s *shop) cost(requested float64, actual any) map[string]any {
	return map[string]any{"cost": map[string]any{
		"requestedQueryCost": requested, "actualQueryCost": actual,
		"throttleStatus": map[string]any{"maximumAvailable": s.maximum, "currentlyAvailable": s.avail, "restoreRate": s.restore},
	}}
}

// matching lists root's records the search query selects.
func (s *shop) matching(root, query string) ([]map[string]any, error) {
	since := ""
	if query != "" {
		m := filterRe.FindStringSubmatch(query)
		if m == nil {
			return nil, fmt.Errorf("unsupported search query %q", query)
		}
		since = m[1]
	}
	var out []map[string]any
	for _, rec := range s.data[root] {
		if rec["updatedAt"].(string) >= since {
			out = append(out, rec)
		}
	}
	return out, nil
}

// node is rec as the query selects it: the list fields only when asked.
func node(rec map[string]any, query string) map[string]any {
	out := map[string]any{}
	for k, v := range rec {
		if (k == "fulfillments" || k == "refunds") && !strings.Contains(query, k+" {") {
			continue
		}
		out[k] = v
	}
	return out
}

func (s *shop) page(root, query string, vars map[string]any) (any, error) {
	q, _ := vars["query"].(string)
	recs, err := s.matching(root, q)
	if err != nil {
		return nil, err
	}
	start := 0
	if after, _ := vars["after"].(string); after != "" {
		b, err := base64.StdEncoding.DecodeString(after)
		if err != nil {
			return nil, fmt.Errorf("invalid cursor")
		}
		start, _ = strconv.Atoi(strings.TrimPrefix(string(b), "cursor:"))
	}
	first := int(vars["first"].(float64))
	end := min(start+first, len(recs))
	nodes := []map[string]any{}
	for _, rec := range recs[start:end] {
		nodes = append(nodes, node(rec, query))
	}
	var endCursor any
	if end > start {
		endCursor = base64.StdEncoding.EncodeToString([]byte("cursor:" + strconv.Itoa(end)))
	}
	return map[string]any{root: map[string]any{
		"nodes":    nodes,
		"pageInfo": map[string]any{"hasNextPage": end < len(recs), "endCursor": endCursor},
	}}, nil
}

func (s *shop) startBulk(query string) any {
	if s.bulkBusy {
		return map[string]any{"bulkOperationRunQuery": map[string]any{"bulkOperation": nil,
			"userErrors": []any{map[string]any{"field": nil, "message": "A bulk query operation for this app and shop is already in progress: gid://shopify/BulkOperation/99."}}}}
	}
	m := bulkRe.FindStringSubmatch(query)
	if m == nil {
		return map[string]any{"bulkOperationRunQuery": map[string]any{"bulkOperation": nil,
			"userErrors": []any{map[string]any{"field": []string{"query"}, "message": "Invalid bulk query: " + query}}}}
	}
	filter := ""
	if m[2] != "" {
		filter, _ = strconv.Unquote(`"` + m[2] + `"`)
	}
	s.bulkOps = append(s.bulkOps, &bulkOp{root: m[1], filter: filter})
	return map[string]any{"bulkOperationRunQuery": map[string]any{
		"bulkOperation": map[string]any{"id": fmt.Sprintf("gid://shopify/BulkOperation/%d", len(s.bulkOps)), "status": "CREATED"},
		"userErrors":    []any{},
	}}
}

func (s *shop) pollBulk(id string) any {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "gid://shopify/BulkOperation/"))
	if n < 1 || n > len(s.bulkOps) {
		return map[string]any{"node": nil}
	}
	op := s.bulkOps[n-1]
	op.polls++
	status, url := "RUNNING", any(nil)
	recs, _ := s.matching(op.root, op.filter)
	if op.polls > 1 && s.bulkFail != "" {
		return map[string]any{"node": map[string]any{"id": id, "status": "FAILED", "errorCode": s.bulkFail,
			"objectCount": "0", "url": nil, "partialDataUrl": nil}}
	}
	if op.polls > 1 {
		status = "COMPLETED"
		if len(recs) > 0 {
			url = fmt.Sprintf("%s/bulk/%d.jsonl?X-Goog-Signature=abc123", s.base, n)
		}
	}
	return map[string]any{"node": map[string]any{"id": id, "status": status, "errorCode": nil,
		"objectCount": strconv.Itoa(len(recs)), "url": url, "partialDataUrl": nil}}
}

func (s *shop) download(w http.ResponseWriter, r *http.Request) {
	s.downloads = append(s.downloads, r.Header.Clone())
	n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/bulk/"), ".jsonl"))
	if n < 1 || n > len(s.bulkOps) {
		http.NotFound(w, r)
		return
	}
	op := s.bulkOps[n-1]
	recs, _ := s.matching(op.root, op.filter)
	w.Header().Set("Content-Type", "application/jsonl")
	for _, rec := range recs {
		b, _ := json.Marshal(node(rec, ""))
		_, _ = w.Write(append(b, '\n'))
	}
}

// start serves s and returns the server and a config pointing at it.
func start(t testing.TB, s *shop, extra ...string) (*integtest.Server, string) {
	srv := integtest.NewServer(t, s)
	return srv, shopConfig(t, s, srv, extra...)
}

// shopConfig points a config at srv, serving s, and starts s's file host.
func shopConfig(t testing.TB, s *shop, srv *integtest.Server, extra ...string) string {
	// Bulk files come from another host (cloud storage in production).
	s.base = integtest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.download(w, r)
	})).URL
	return fmt.Sprintf(`{"shop":"test-shop","credentials":{"auth_method":"access_token","access_token":%q},"base_url":%q,"page_size":2%s}`, testToken, srv.URL, strings.Join(extra, ""))
}
