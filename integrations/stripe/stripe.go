// Package stripe is the Stripe connector: customers, charges, invoices and
// their line items, subscriptions, payment intents, balance transactions and
// events, read from Stripe's REST API (v1) with the API version pinned to
// [APIVersion].
//
// # Streams and sync modes
//
// Every top-level stream reads one list endpoint, GET /v1/<object>?limit=<page_size>,
// newest first, paged with starting_after=<last id of the page> until the
// list says has_more=false (no extra, empty request). The config's
// start_date becomes created[gte]=<Unix seconds>.
//
//   - balance_transactions and events never change once created: they are
//     incremental on "created" (Unix seconds), read in time windows
//     (integ.Slices: 7 days for balance transactions, 1 day for events),
//     several at once, each window created[gte]=<start>&created[lt]=<end>
//     and its pages. A first sync's windows start at start_date (without
//     one, everything before the sync is one window); the state keeps the
//     windows read, so an interrupted backfill resumes with the others, and
//     the next sync starts where the last one's windows ended (the sync's
//     start, to the second). A plain bookmark of an older state is where
//     the windows start. Records are told apart by "id".
//   - customers, charges, invoices, subscriptions (status=all, so canceled
//     ones too) and payment_intents change after they are created (a charge
//     is refunded, an invoice paid): they are full refresh, since a bookmark
//     on "created" would never see those changes.
//
// invoice_line_items is a child of invoices: an invoice's list entry
// carries its first lines (lines.data); only when lines.has_more is true
// are the others read, from GET /v1/invoices/{id}/lines?starting_after=
// <last line carried>. Each line names its invoice in "invoice".
//
// To keep the mutable objects current without re-reading them all, sync the
// events stream incrementally: every change is an event (customer.updated,
// charge.refunded, invoice.paid, ...) whose data.object is the whole object
// after the change, keyed by data.object.id. Stripe keeps events for 30
// days, so run it at least that often; a full refresh of the object streams
// resets the picture whenever it is needed. Events render data.object in
// the account's API version at the time of the event (its api_version).
//
// payment_intents records go out without their client_secret, a key for
// completing the payment in a browser that has no place in a warehouse.
//
// # Keys, limits and errors
//
// The api_key is a secret key (sk_live_..., sk_test_...) or a restricted key
// (rk_...), sent as "Authorization: Bearer <key>". A restricted key needs
// read access to each object synced: a stream whose object it cannot read
// (403) fails with Stripe's explanation, naming the permission, while the
// other streams sync. A refused key (401) ends the sync as a config error.
// Requests are limited to 25 per second by default, Stripe's per-endpoint
// default and its whole test-mode budget (live mode allows 100 per second:
// raise requests_per_second). 429s and 5xx are retried with backoff,
// honouring Retry-After and Stripe-Should-Retry.
//
// # Pages followed
//
//   - https://docs.stripe.com/api/pagination (list shape, limit, starting_after, has_more)
//   - https://docs.stripe.com/api-versions and https://docs.stripe.com/sdks/set-version (Stripe-Version)
//   - https://docs.stripe.com/api/authentication, https://docs.stripe.com/keys (Bearer secret and restricted keys)
//   - https://docs.stripe.com/rate-limits (100/s live, 25/s sandbox, 25/s per endpoint, 429)
//   - https://docs.stripe.com/error-low-level and https://docs.stripe.com/api/errors (error body, 401, 403, Stripe-Should-Retry)
//   - https://docs.stripe.com/api/{customers,charges,invoices,subscriptions,payment_intents,balance_transactions,events}/list
//   - https://docs.stripe.com/api/subscriptions/list (canceled ones only with status=canceled or status=all)
package stripe

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// APIVersion is the Stripe API version every request asks for (the
// Stripe-Version header), so that record shapes do not change with the
// account's default version. 2026-09-30.endive was the current version when
// this connector was written (https://docs.stripe.com/api-versions).
const APIVersion = "2026-09-30.endive"

// Config is the connector's config.
type Config struct {
	APIKey    integ.Secret `json:"api_key" title:"API key" description:"A secret key (sk_live_..., sk_test_...) or a restricted key (rk_...) with read access to the objects to sync; not the publishable key (pk_...). Dashboard: Developers, API keys." pattern:"^(sk|rk)_"`
	StartDate *time.Time   `json:"start_date,omitempty" title:"Start date" description:"Only objects created at or after this time are synced (RFC 3339); balance transactions and events are read from it in time windows, several at once. Empty: all of them, each stream in one pass." format:"date-time" examples:"2024-01-01T00:00:00Z"`
	BaseURL   string       `json:"base_url" title:"Base URL" description:"Root of the Stripe API, or of a proxy in front of it." default:"https://api.stripe.com" format:"uri" pattern:"^https?://" examples:"https://api.stripe.com"`
	PageSize  int          `json:"page_size" title:"Page size" description:"Objects asked for per request (Stripe's limit parameter)." default:"100" minimum:"1" maximum:"100"`
}

// Source declares the connector.
func Source() *integ.Source {
	return integ.NewSource("stripe", Config{},
		integ.WithTitle("Stripe"),
		integ.WithDescription("Customers, charges, invoices and their lines, subscriptions, payment intents, balance transactions and events from Stripe."),
		integ.WithDocumentationURL("https://docs.stripe.com/api"),
		integ.WithRateLimit(25, 5),
		integ.WithAuth(func(c Config, _ *integ.Session) (requests.Authenticator, error) {
			return requests.Bearer(c.APIKey.Reveal()), nil
		}),
		integ.WithRetry(requests.RetryOptions{Classifiers: []requests.RetryClassifier{shouldRetry}}),
		integ.WithStreams(
			integ.NewStream("customers", Customer{}, list("customers"), integ.PrimaryKey("id"),
				integ.Description("Customers (full refresh: they change; see events).")),
			integ.NewStream("charges", Charge{}, list("charges"), integ.PrimaryKey("id"),
				integ.Description("Charges (full refresh: they are captured, refunded, disputed; see events).")),
			integ.NewStream("invoices", Invoice{}, list("invoices"), integ.PrimaryKey("id"),
				integ.Description("Invoices (full refresh: they are finalized, paid, voided; see events).")),
			integ.NewStream("invoice_line_items", InvoiceLineItem{}, lineItems, integ.PrimaryKey("id"),
				integ.ChildOf("invoices"),
				// A draft invoice deleted since the list was read: its lines are gone too.
				integ.OnError(integ.SkipOn(http.StatusNotFound)),
				integ.Description("Every line of every invoice (its invoice field names the invoice); the invoice list carries the first lines, the rest are asked for.")),
			integ.NewStream("subscriptions", Subscription{}, list("subscriptions", "status", "all"), integ.PrimaryKey("id"),
				integ.Description("Subscriptions of every status, canceled ones included (full refresh; see events).")),
			integ.NewStream("payment_intents", PaymentIntent{}, list("payment_intents"), integ.PrimaryKey("id"),
				integ.Drop("client_secret"),
				integ.Description("PaymentIntents without their client_secret (full refresh; see events).")),
			integ.NewStream("balance_transactions", BalanceTransaction{}, list("balance_transactions"), integ.PrimaryKey("id"),
				integ.Incremental("created"), integ.Slices(7*24*time.Hour, startDate),
				integ.Description("Every movement of funds in the balance.")),
			integ.NewStream("events", Event{}, list("events"), integ.PrimaryKey("id"),
				integ.Incremental("created"), integ.Slices(24*time.Hour, startDate),
				integ.Description("Changes to every object in the last 30 days: the incremental way to keep the other streams current.")),
		),
	)
}

// pages follows Stripe's lists: the next page starts after the last id of
// this one, and has_more=false ends the list without asking for an empty page.
var pages = requests.LastRecordCursor("data", "id", "starting_after", requests.HasMore("has_more"))

// list reads GET {base_url}/v1/{name}?limit=&created[gte]= and its pages.
func list(name string, params ...string) integ.RunnerFunc {
	return func(c *integ.HttpContext) error {
		cfg, err := integ.ConfigOf[Config](c)
		if err != nil {
			return err
		}
		req := get(cfg, name)
		for i := 0; i+1 < len(params); i += 2 {
			req = req.Query(params[i], params[i+1])
		}
		if w, ok := c.Slice(); ok {
			if !w.Start.IsZero() {
				req = req.Query("created[gte]", strconv.FormatInt(w.Start.Unix(), 10))
			}
			req = req.Query("created[lt]", strconv.FormatInt(w.End.Unix(), 10))
		} else if from, ok := createdFrom(c, cfg); ok {
			req = req.Query("created[gte]", strconv.FormatInt(from, 10))
		}
		return c.EmitPages(req, pages, "data")
	}
}

// get is the first page of GET {base_url}/v1/{path}, in the pinned version.
func get(cfg Config, path string) *requests.Request {
	return requests.New(strings.TrimRight(cfg.BaseURL, "/")+"/v1/"+path).
		Header("Stripe-Version", APIVersion).
		Query("limit", strconv.Itoa(cfg.PageSize))
}

// lineItems emits one invoice's lines: the ones its list entry carries,
// then, when Stripe says there are more, the rest of
// GET /v1/invoices/{id}/lines after the last one carried.
func lineItems(c *integ.HttpContext) error {
	embedded := c.Parent().Get("lines")
	data := embedded.Get("data").Array()
	for _, line := range data {
		if err := c.EmitRaw([]byte(line.Raw)); err != nil {
			return err
		}
	}
	if !embedded.Get("has_more").Bool() || len(data) == 0 {
		return nil
	}
	cfg, err := integ.ConfigOf[Config](c)
	if err != nil {
		return err
	}
	id := c.Parent().Get("id").String()
	req := get(cfg, "invoices/"+url.PathEscape(id)+"/lines").
		Query("starting_after", data[len(data)-1].Get("id").String())
	return c.EmitPages(req, pages, "data")
}

// createdFrom is the earliest creation time to read: the bookmark of an
// incremental run, or the start date, whichever is later.
func createdFrom(c *integ.HttpContext, cfg Config) (int64, bool) {
	var from int64
	ok := cfg.StartDate != nil
	if ok {
		from = cfg.StartDate.Unix()
	}
	if b := c.Bookmark(); b.Exists() && (!ok || b.Int() > from) {
		from, ok = b.Int(), true
	}
	return from, ok
}

// startDate is where a sliced stream's first sync starts: the config's
// start_date (none: everything before the sync, as one window).
func startDate(c *integ.HttpContext) (time.Time, error) {
	cfg, err := integ.ConfigOf[Config](c)
	if err != nil || cfg.StartDate == nil {
		return time.Time{}, err
	}
	return *cfg.StartDate, nil
}

// shouldRetry follows Stripe's Stripe-Should-Retry header, which says
// whether a failed request is worth sending again (true on a lock timeout's
// 409, false where a retry cannot help), before the status-based rules.
func shouldRetry(resp *http.Response, _ []byte, _ time.Time) requests.RetryAdvice {
	switch resp.Header.Get("Stripe-Should-Retry") {
	case "true":
		return requests.RetryAdvice{Action: requests.AdviceRetry, Reason: "Stripe-Should-Retry: true"}
	case "false":
		return requests.RetryAdvice{Action: requests.AdviceStop, Reason: "Stripe-Should-Retry: false"}
	}
	return requests.RetryAdvice{}
}
