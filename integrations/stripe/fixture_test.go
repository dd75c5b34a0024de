package stripe_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/integ/integ/integrations/stripe"
)

// fixture answers like Stripe's v1 list endpoints, as documented at
// https://docs.stripe.com/api/pagination and each object's list page:
// Bearer (or Basic) key auth, the Stripe-Version header, list objects
// newest first, limit (1-100, default 10), starting_after, created filters
// and errors with Stripe's body shape. Parameters an endpoint does not
// document are refused, as Stripe refuses them.
type fixture struct {
	key     string
	account string
	objects map[string][]object // by list name, in creation order
	lines   map[string][]object // invoice id -> its line items
	denied  map[string]string   // list name -> the permission the key lacks (403)
	// fault, when it answers ok, replaces the n-th response (from 1).
	fault func(r *http.Request, n int) (status int, header http.Header, body string, ok bool)

	mu sync.Mutex
	n  int
}

// object is one Stripe object: its id and creation time, and its JSON.
type object struct {
	id      string
	created int64
	status  string // subscriptions: their status, for the status filter
	raw     json.RawMessage
}

// testKey is the fixture's secret key: realistic, so that the kit's
// secret checks would find it in any output.
const testKey = "sk_test_51FixtureKeyAbCdEf0123456789"

// t0 is the creation time of the fixtures' first objects.
const t0 = 1_714_000_000

// listParams are the list endpoints' documented parameters besides the
// common ones (limit, starting_after, ending_before, created, expand[]).
var listParams = map[string][]string{
	"customers":            {"email", "test_clock"},
	"charges":              {"customer", "payment_intent", "transfer_group"},
	"invoices":             {"collection_method", "customer", "due_date", "status", "subscription"},
	"subscriptions":        {"collection_method", "customer", "price", "status", "test_clock"},
	"payment_intents":      {"customer"},
	"balance_transactions": {"currency", "payout", "source", "type"},
	"events":               {"delivery_success", "type", "types[]"},
}

var prefixes = map[string]string{
	"customers": "cus", "charges": "ch", "invoices": "in", "subscriptions": "sub",
	"payment_intents": "pi", "balance_transactions": "txn", "events": "evt",
}

// newFixture holds n objects of every kind, created an hour apart, except
// that the last two of each share their second (Stripe's clock steps in
// seconds). One subscription in three is canceled.
func newFixture(n int) *fixture {
	f := &fixture{key: testKey, account: "acct_1FixtureAcct", objects: map[string][]object{}, lines: map[string][]object{}, denied: map[string]string{}}
	for name := range listParams {
		for i := range n {
			created := int64(t0 + i*3600)
			if i == n-1 && n > 1 {
				created = int64(t0 + (i-1)*3600)
			}
			f.add(name, created)
		}
	}
	return f
}

// embeddedLines is how many lines an invoice's list entry carries: Stripe
// carries 10, the fixture 2, so that small fixtures page through the rest.
const embeddedLines = 2

// add creates one more object in list name and returns it.
func (f *fixture) add(name string, created int64) object {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := len(f.objects[name]) + 1
	id := fmt.Sprintf("%s_%s%04d", prefixes[name], "1Fx", i)
	o := object{id: id, created: created}
	var v map[string]any
	switch name {
	case "customers":
		v = map[string]any{"object": "customer", "address": nil, "balance": 0, "currency": "usd", "default_source": nil,
			"delinquent": false, "description": nil, "discount": nil, "email": fmt.Sprintf("jenny%d@example.com", i),
			"invoice_prefix": fmt.Sprintf("FX%04d", i), "invoice_settings": map[string]any{"custom_fields": nil, "default_payment_method": nil, "footer": nil, "rendering_options": nil},
			"livemode": false, "metadata": map[string]any{}, "name": fmt.Sprintf("Jenny Rosen %d", i), "next_invoice_sequence": 1,
			"phone": nil, "preferred_locales": []any{}, "shipping": nil, "tax_exempt": "none", "test_clock": nil}
	case "charges":
		v = map[string]any{"object": "charge", "amount": 1099 * i, "amount_captured": 1099 * i, "amount_refunded": 0, "application": nil,
			"balance_transaction": fmt.Sprintf("txn_1Fx%04d", i), "billing_details": map[string]any{"address": nil, "email": nil, "name": nil, "phone": nil},
			"captured": true, "currency": "usd", "customer": fmt.Sprintf("cus_1Fx%04d", i), "description": nil, "disputed": false,
			"failure_code": nil, "failure_message": nil, "livemode": false, "metadata": map[string]any{"order_id": strconv.Itoa(6735 + i)},
			"outcome": map[string]any{"network_status": "approved_by_network", "reason": nil, "risk_level": "normal", "seller_message": "Payment complete.", "type": "authorized"},
			"paid":    true, "payment_intent": fmt.Sprintf("pi_1Fx%04d", i), "payment_method": "pm_1Fx", "receipt_email": nil, "refunded": false, "status": "succeeded"}
	case "invoices":
		var lines []json.RawMessage
		for j := range i { // invoice i has i lines
			line := object{id: fmt.Sprintf("il_1Fx%04d%02d", i, j+1), created: created}
			line.raw, _ = json.Marshal(map[string]any{"id": line.id, "object": "line_item", "amount": 500, "currency": "usd",
				"description": "1 × Fixture plan", "discountable": true, "invoice": id, "livemode": false, "metadata": map[string]any{},
				"period": map[string]any{"end": created + 30*86400, "start": created}, "quantity": 1})
			f.lines[id] = append(f.lines[id], line)
			if j < embeddedLines {
				lines = append(lines, line.raw)
			}
		}
		v = map[string]any{"object": "invoice", "account_country": "US", "amount_due": 1500, "amount_paid": 1500, "amount_remaining": 0,
			"attempt_count": 1, "billing_reason": "subscription_create", "collection_method": "charge_automatically", "currency": "usd",
			"customer": fmt.Sprintf("cus_1Fx%04d", i), "customer_email": nil, "due_date": nil, "hosted_invoice_url": nil,
			"lines":    map[string]any{"object": "list", "data": lines, "has_more": i > embeddedLines, "url": "/v1/invoices/" + id + "/lines"},
			"livemode": false, "metadata": map[string]any{}, "number": fmt.Sprintf("FX-%04d", i), "period_end": created, "period_start": created,
			"status": "paid", "subtotal": 1500, "total": 1500}
	case "subscriptions":
		o.status = "active"
		var canceledAt, endedAt any
		if i%3 == 0 {
			o.status, canceledAt, endedAt = "canceled", created+60, created+60
		}
		v = map[string]any{"object": "subscription", "billing_cycle_anchor": created, "cancel_at": nil, "cancel_at_period_end": false,
			"canceled_at": canceledAt, "collection_method": "charge_automatically", "currency": "usd", "customer": fmt.Sprintf("cus_1Fx%04d", i),
			"ended_at": endedAt, "items": map[string]any{"object": "list", "data": []any{}, "has_more": false, "url": "/v1/subscription_items?subscription=" + id},
			"latest_invoice": fmt.Sprintf("in_1Fx%04d", i), "livemode": false, "metadata": map[string]any{}, "start_date": created,
			"status": o.status, "trial_end": nil, "trial_start": nil}
	case "payment_intents":
		v = map[string]any{"object": "payment_intent", "amount": 2000, "amount_capturable": 0, "amount_received": 2000, "canceled_at": nil,
			"cancellation_reason": nil, "capture_method": "automatic", "client_secret": id + "_secret_FixtureClientSecret" + strconv.Itoa(i),
			"confirmation_method": "automatic", "currency": "usd", "customer": nil, "description": nil, "last_payment_error": nil,
			"latest_charge": fmt.Sprintf("ch_1Fx%04d", i), "livemode": false, "metadata": map[string]any{}, "payment_method": "pm_1Fx",
			"payment_method_types": []any{"card"}, "receipt_email": nil, "status": "succeeded"}
	case "balance_transactions":
		v = map[string]any{"object": "balance_transaction", "amount": 1099 * i, "available_on": created + 2*86400, "currency": "usd",
			"description": nil, "exchange_rate": nil, "fee": 62, "fee_details": []any{map[string]any{"amount": 62, "application": nil, "currency": "usd", "description": "Stripe processing fees", "type": "stripe_fee"}},
			"net": 1099*i - 62, "reporting_category": "charge", "source": fmt.Sprintf("ch_1Fx%04d", i), "status": "available", "type": "charge"}
	case "events":
		v = map[string]any{"object": "event", "account": nil, "api_version": stripe.APIVersion,
			"data": map[string]any{"object": map[string]any{"id": fmt.Sprintf("cus_1Fx%04d", i), "object": "customer", "email": fmt.Sprintf("jenny%d@example.com", i)},
				"previous_attributes": map[string]any{"email": nil}},
			"livemode": false, "pending_webhooks": 0, "request": map[string]any{"id": fmt.Sprintf("req_Fx%04d", i), "idempotency_key": nil},
			"type": "customer.updated"}
	}
	v["id"], v["created"] = id, created
	o.raw, _ = json.Marshal(v)
	f.objects[name] = append(f.objects[name], o)
	return o
}

// stripeError writes Stripe's error body.
func stripeError(w http.ResponseWriter, status int, fields map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": fields})
}

// masked shows a key as Stripe's error messages do: prefix and last 4.
func masked(key string) string {
	if i := strings.LastIndexByte(key, '_'); i >= 0 && len(key) > i+5 {
		return key[:i+1] + strings.Repeat("*", len(key)-i-5) + key[len(key)-4:]
	}
	return "****"
}

func (f *fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	w.Header().Set("Request-Id", fmt.Sprintf("req_Fixture%04d", n))
	if f.fault != nil {
		if status, hdr, body, ok := f.fault(r, n); ok {
			for k, vs := range hdr {
				w.Header()[k] = vs
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
			return
		}
	}
	key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if u, _, ok := r.BasicAuth(); ok {
		key = u
	}
	switch {
	case key == "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="Stripe"`)
		stripeError(w, http.StatusUnauthorized, map[string]any{"type": "invalid_request_error",
			"message": "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."})
		return
	case key != f.key:
		w.Header().Set("WWW-Authenticate", `Bearer realm="Stripe"`)
		stripeError(w, http.StatusUnauthorized, map[string]any{"type": "invalid_request_error",
			"message": "Invalid API Key provided: " + masked(key)})
		return
	}
	if v := r.Header.Get("Stripe-Version"); v != "" && v != stripe.APIVersion {
		stripeError(w, http.StatusBadRequest, map[string]any{"type": "invalid_request_error", "message": "Invalid Stripe API version: " + v})
		return
	}
	w.Header().Set("Stripe-Version", stripe.APIVersion)
	name, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if inv, isLines := strings.CutPrefix(name, "invoices/"); isLines && strings.HasSuffix(inv, "/lines") && r.Method == http.MethodGet {
		inv = strings.TrimSuffix(inv, "/lines")
		f.mu.Lock()
		lines, found := f.lines[inv]
		f.mu.Unlock()
		if !found {
			stripeError(w, http.StatusNotFound, map[string]any{"type": "invalid_request_error", "code": "resource_missing", "param": "invoice",
				"message": fmt.Sprintf("No such invoice: '%s'", inv)})
			return
		}
		f.page(w, r, "invoices/"+inv+"/lines", nil, lines)
		return
	}
	if _, known := listParams[name]; !ok || !known || r.Method != http.MethodGet {
		stripeError(w, http.StatusNotFound, map[string]any{"type": "invalid_request_error",
			"message": fmt.Sprintf("Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", r.Method, r.URL.Path)})
		return
	}
	if perm, ok := f.denied[name]; ok {
		stripeError(w, http.StatusForbidden, map[string]any{"type": "invalid_request_error",
			"message": fmt.Sprintf("The provided key '%s' does not have the required permissions for this endpoint on account '%s'. Having the '%s' permission would allow this request to continue.", masked(key), f.account, perm)})
		return
	}
	f.list(w, r, name)
}

// list answers GET /v1/<name>.
func (f *fixture) list(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.Query()
	invalid := func(param, msg string) {
		stripeError(w, http.StatusBadRequest, map[string]any{"type": "invalid_request_error", "param": param, "message": msg})
	}
	for p := range q {
		if len(q[p]) > 1 && p != "expand[]" && p != "types[]" {
			invalid(p, "Received repeated parameter: "+p)
			return
		}
	}
	bounds := map[string]func(c, b int64) bool{
		"created": func(c, b int64) bool { return c == b }, "created[gt]": func(c, b int64) bool { return c > b },
		"created[gte]": func(c, b int64) bool { return c >= b }, "created[lt]": func(c, b int64) bool { return c < b },
		"created[lte]": func(c, b int64) bool { return c <= b },
	}
	f.mu.Lock()
	all := slices.Clone(f.objects[name])
	f.mu.Unlock()
	// Newest first; objects of one second in a stable order.
	slices.SortFunc(all, func(a, b object) int { return cmp.Or(cmp.Compare(b.created, a.created), strings.Compare(b.id, a.id)) })
	var kept []object
	status := q.Get("status")
	for _, o := range all {
		ok := true
		for p, test := range bounds {
			if v := q.Get(p); v != "" {
				b, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					invalid(p, "Invalid integer: "+v)
					return
				}
				ok = ok && test(o.created, b)
			}
		}
		if name == "subscriptions" {
			// By default canceled subscriptions are left out.
			ok = ok && (status == "all" || status == o.status || status == "" && o.status != "canceled")
		}
		if ok {
			kept = append(kept, o)
		}
	}
	f.page(w, r, name, append([]string{"created", "created[gt]", "created[gte]", "created[lt]", "created[lte]"}, listParams[name]...), kept)
}

// page answers one page of a list (its objects in the list's order), after
// starting_after, with has_more. It refuses undocumented parameters.
func (f *fixture) page(w http.ResponseWriter, r *http.Request, name string, params []string, kept []object) {
	q := r.URL.Query()
	for p := range q {
		if !slices.Contains([]string{"limit", "starting_after", "ending_before", "expand[]"}, p) && !slices.Contains(params, p) {
			stripeError(w, http.StatusBadRequest, map[string]any{"type": "invalid_request_error", "param": p, "message": "Received unknown parameter: " + p})
			return
		}
	}
	limit := 10
	if v := q.Get("limit"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 1 || l > 100 {
			stripeError(w, http.StatusBadRequest, map[string]any{"type": "invalid_request_error", "param": "limit",
				"message": "This value must be greater than or equal to 1 and less than or equal to 100."})
			return
		}
		limit = l
	}
	if after := q.Get("starting_after"); after != "" {
		i := slices.IndexFunc(kept, func(o object) bool { return o.id == after })
		if i < 0 {
			stripeError(w, http.StatusBadRequest, map[string]any{"type": "invalid_request_error", "code": "resource_missing", "param": "starting_after",
				"message": fmt.Sprintf("No such object: '%s'", after)})
			return
		}
		kept = kept[i+1:]
	}
	page := kept[:min(limit, len(kept))]
	data := make([]json.RawMessage, len(page))
	for i, o := range page {
		data[i] = o.raw
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "has_more": len(kept) > len(page), "url": "/v1/" + name})
}
