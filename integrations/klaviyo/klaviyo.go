// Package klaviyo is the Klaviyo connector: profiles, events, lists,
// campaigns and metrics from Klaviyo's REST API (JSON:API), API revision
// 2026-10-15, pinned in the revision header of every request.
//
// # Streams
//
//	stream     endpoint            key  sync modes                   replication key
//	profiles   GET /api/profiles   id   full refresh, incremental    updated
//	events     GET /api/events     id   full refresh, incremental    datetime
//	lists      GET /api/lists      id   full refresh
//	campaigns  GET /api/campaigns  id   full refresh
//	metrics    GET /api/metrics    id   full refresh
//
// and, not selected by default, list_members (key list_id, id; full
// refresh): the profile ids of each list the lists stream reads, from GET
// /api/lists/{id}/relationships/profiles, a child stream read one list at a
// time (a partition per list; a list deleted meanwhile is skipped).
//
// Each record is a JSON:API resource with its "attributes" lifted to the
// top level next to "id" and "type"; the resource's "links" are dropped.
// Events keep their "relationships" (the profile and the metric of the
// event, by id).
//
// Incremental streams ask for records sorted by their replication key
// (sort=updated, sort=datetime) and, from the second sync on, filter by it:
// filter=greater-than(updated,<bookmark minus one second>). greater-than is
// strict (the one operator both fields take) and Klaviyo's times have second
// precision, so the second is taken back to keep the records that share the
// bookmark's second (some were maybe not written before an interruption); the
// records already written are dropped or written again, never lost.
// start_date bounds the first sync the same way.
//
// Get Campaigns refuses a request without a channel filter, so campaigns are
// read once per channel: filter=equals(messages.channel,'email'), then 'sms'
// and 'mobile_push'.
//
// # Config
//
//	api_key     a private API key, pk_... (secret)
//	base_url    default https://a.klaviyo.com; a proxy or a test server
//	start_date  optional RFC 3339 time the incremental streams start from
//	page_size   page[size] of profiles and events, 1 to 100, default 100
//
// # Paging
//
// Every list endpoint is cursor-paged: the connector follows links.next (an
// absolute URL) until it is null. profiles and events take page[size]
// (page_size, at most 100); lists, campaigns and metrics have fixed page
// sizes and reject page[size], so it is not sent to them.
//
// # Auth
//
// A private API key (pk_...) with the read scopes of the selected streams:
// profiles:read, events:read, lists:read, campaigns:read, metrics:read
// (list_members: lists:read and profiles:read). It is sent as
// "Authorization: Klaviyo-API-Key <key>" with "Accept:
// application/vnd.api+json" and "revision: 2026-10-15". A refused key (401)
// is a config error naming the request; a key missing one scope (403) fails
// that stream alone, with the API's words, and the others are synced.
//
// # Rate limits
//
// Klaviyo limits every endpoint per account with a burst (per second) and a
// steady (per minute) window: profiles and lists 75/s and 750/m, events
// 350/s and 3500/m, campaigns and metrics 10/s and 150/m. Every answer but
// a 429 says what is left of the steady window (RateLimit-Limit,
// RateLimit-Remaining, RateLimit-Reset): the connector spreads its requests
// when less than a quarter is left, keeps a tenth for the account's other
// clients, and waits for the reset when only that is left. A refused
// request is answered 429 with Retry-After: the connector waits that long
// and goes on; 5xx answers are retried with backoff.
//
// Pages followed: https://developers.klaviyo.com/en/reference/get_profiles,
// .../get_events, .../get_lists, .../get_campaigns, .../get_metrics (revision
// 2026-10-15), https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling
// and the JSON:API guides on filtering, sorting and cursor pagination.
package klaviyo

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// Revision is the API revision every request pins in its revision header:
// the shape of every record and parameter follows it.
const Revision = "2026-10-15"

// DefaultBaseURL is Klaviyo's API host.
const DefaultBaseURL = "https://a.klaviyo.com"

// Config is the connector's config; the docs page is generated from it.
type Config struct {
	APIKey    integ.Secret `json:"api_key" title:"Private API key" description:"A Klaviyo private API key (pk_...), created under Settings > API keys, with read access to the selected streams: profiles:read, events:read, lists:read, campaigns:read, metrics:read." pattern:"^pk_"`
	BaseURL   string       `json:"base_url" title:"Base URL" description:"Root of Klaviyo's API; change it only for a proxy or a test server." default:"https://a.klaviyo.com" format:"uri" pattern:"^https?://" examples:"https://a.klaviyo.com"`
	StartDate string       `json:"start_date,omitempty" title:"Start date" description:"Incremental streams (profiles, events) read records updated (profiles) or happened (events) from this instant on, on their first sync. Empty: all of them." format:"date-time" examples:"2024-01-01T00:00:00Z"`
	PageSize  int          `json:"page_size" title:"Page size" description:"Records asked for per request (page[size]) by the streams whose endpoint takes it: profiles and events. The other endpoints have fixed page sizes." default:"100" minimum:"1" maximum:"100"`
}

// description is the docs page's introduction: what the package doc says,
// for people who configure the connector.
const description = "Profiles, events, lists, campaigns and metrics from Klaviyo's REST API (JSON:API), revision " + Revision + ".\n\n" +
	"**Auth**: a private API key (`pk_...`) with read access to the selected streams (profiles:read, events:read, lists:read, campaigns:read, metrics:read), " +
	"sent as `Authorization: Klaviyo-API-Key <key>` with `revision: " + Revision + "` and `Accept: application/vnd.api+json`. " +
	"A refused key is a config error; a key without one stream's scope fails that stream alone and the others are synced.\n\n" +
	"**Incremental**: profiles by `updated` and events by `datetime`, sorted by it and filtered with `filter=greater-than(<field>,<bookmark minus one second>)` " +
	"(Klaviyo has second precision: records of the bookmark's second are read again, never lost); `start_date` bounds the first sync. " +
	"lists, campaigns (read once per channel: email, sms, mobile_push) and metrics are full refresh, " +
	"as is list_members (not selected by default): the profile ids of every list, one list at a time, a list deleted meanwhile skipped with a warning.\n\n" +
	"**Paging**: `links.next` until null; `page[size]` (`page_size`, at most 100) on profiles and events only, the other endpoints have fixed page sizes.\n\n" +
	"**Rate limits**: per account and endpoint, a burst and a steady window (profiles and lists 75/s and 750/m, events 350/s and 3500/m, campaigns and metrics 10/s and 150/m). " +
	"Requests slow down as the RateLimit-Remaining header runs low (a tenth of the window is left to the account's other clients); " +
	"a 429 is waited out as its Retry-After says; 5xx answers are retried with backoff."

// Source declares the connector.
func Source() *integ.Source { return source(requests.AdaptiveOptions{}) }

// source declares the connector pacing its requests with pace (tests give
// it a clock and a sleep).
func source(pace requests.AdaptiveOptions) *integ.Source {
	pace.Readers = []requests.BudgetReader{steadyWindow}
	return integ.NewSource("klaviyo", Config{},
		integ.WithTitle("Klaviyo"),
		integ.WithDescription(description),
		integ.WithDocumentationURL("https://developers.klaviyo.com/en/reference/api_overview"),
		integ.WithAuth(func(c Config, _ *integ.Session) (requests.Authenticator, error) {
			return requests.APIKeyHeader("Authorization", "Klaviyo-API-Key ", c.APIKey.Reveal()), nil
		}),
		header("Accept", "application/vnd.api+json"),
		header("revision", Revision),
		integ.WithAdaptiveLimit(pace),
		integ.WithStreams(
			resource("profiles", Profile{}, "Every profile (person) in the account, by when it was last updated.",
				sortedBy("updated"), integ.Incremental("updated"), integ.Sorted(), integ.Drop("relationships")),
			resource("events", Event{}, "Every event (a profile's activity: a placed order, an opened email...), by when it happened.",
				sortedBy("datetime"), integ.Incremental("datetime"), integ.Sorted()),
			resource("lists", List{}, "Every list of profiles.", nil, integ.Drop("relationships")),
			resource("campaigns", Campaign{}, "Every campaign the API lists, of every channel: email, SMS and mobile push.", campaigns, integ.Drop("relationships")),
			resource("metrics", Metric{}, "Every metric (kind of event) in the account, with the integration that records it.", nil, integ.Drop("relationships")),
			integ.NewStream("list_members", ListMember{}, listMembers,
				integ.ChildOf("lists"),
				integ.PrimaryKey("list_id", "id"),
				integ.AddField("list_id", func(c *integ.HttpContext) any { return c.Parent().Get("id") }),
				integ.OnError(integ.SkipOn(http.StatusNotFound)), // a list deleted during the sync
				integ.NotSelectedByDefault(),
				integ.Description("The profiles of each list, by id: one request per 20 members, so not selected by default."),
			),
		),
	)
}

// steadyWindow reads the RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset (seconds) headers of a Klaviyo answer: the state of the
// answering endpoint's steady (one-minute) window. The limiter keeps one
// budget for the run, so with several streams at once it follows the last
// endpoint that answered; a 429 is still waited out as its Retry-After says.
func steadyWindow(h http.Header, now time.Time) (requests.Budget, bool) {
	limit, ok1 := headerCount(h, "RateLimit-Limit")
	left, ok2 := headerCount(h, "RateLimit-Remaining")
	reset, ok3 := headerCount(h, "RateLimit-Reset")
	if !ok1 || !ok2 || !ok3 || limit < 1 || left > limit || reset > 3600 {
		return requests.Budget{}, false
	}
	return requests.Budget{Used: limit - left, Limit: limit, Reset: now.Add(time.Duration(reset) * time.Second)}, true
}

// headerCount reads a whole non-negative number from header k; of a list
// ("700, 75;w=1") the first item.
func headerCount(h http.Header, k string) (float64, bool) {
	v, _, _ := strings.Cut(h.Get(k), ",")
	v, _, _ = strings.Cut(v, ";")
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	return float64(n), err == nil
}

// header sets a header every Klaviyo request carries, on every attempt.
func header(k, v string) integ.SourceOption {
	return integ.WithMiddleware(func(*integ.Config) (requests.Middleware, error) { return requests.Header(k, v), nil })
}

// reader builds the requests of one stream from the config and the
// endpoint's URL; nil reads the endpoint as it is, page after page.
type reader func(c *integ.HttpContext, cfg Config, endpoint string) error

// resource declares the stream over GET /api/{name}.
func resource(name string, record any, doc string, read reader, opts ...integ.StreamOption) *integ.Stream {
	if read == nil {
		read = pages
	}
	run := func(c *integ.HttpContext) error {
		cfg, err := integ.ConfigOf[Config](c)
		if err != nil {
			return err
		}
		return read(c, cfg, strings.TrimRight(cfg.BaseURL, "/")+"/api/"+name)
	}
	return integ.NewStream(name, record, run, append([]integ.StreamOption{
		integ.PrimaryKey("id"),
		integ.Description(doc),
		integ.Flatten("attributes"),
		integ.Drop("links"),
	}, opts...)...)
}

// pages follows links.next from the endpoint until it is null.
func pages(c *integ.HttpContext, _ Config, endpoint string) error {
	return emit(c, requests.New(endpoint))
}

func emit(c *integ.HttpContext, first *requests.Request) error {
	return c.EmitPages(first, requests.NextURL("links.next"), "data")
}

// sortedBy reads an endpoint sorted by field, filtered from the bookmark
// (or start_date) on, page[size] records at a time.
func sortedBy(field string) reader {
	return func(c *integ.HttpContext, cfg Config, endpoint string) error {
		req := requests.New(endpoint).
			Query("page[size]", strconv.Itoa(cfg.PageSize)).
			Query("sort", field)
		from, where := cfg.StartDate, "the config's start_date"
		if b := c.Bookmark(); b.Exists() {
			from, where = b.String(), "the bookmark in the state"
		}
		if from != "" {
			since, err := secondBefore(from)
			if err != nil {
				return integ.ConfigErrorf("stream %q: %s, %q, is not an RFC 3339 time (%w): fix it, or reset the stream", c.Stream(), where, from, err)
			}
			req = req.Query("filter", "greater-than("+field+","+since+")")
		}
		return emit(c, req)
	}
}

// secondBefore returns the second before the RFC 3339 time t, in UTC: the
// last instant a strict greater-than filter must exclude to keep t.
func secondBefore(t string) (string, error) {
	at, err := time.Parse(time.RFC3339, t)
	if err != nil {
		return "", err
	}
	at = at.Truncate(time.Second).Add(-time.Second).UTC()
	if y := at.Year(); y < 1 || y > 9999 { // RFC 3339 has four-digit years
		return "", fmt.Errorf("%q is out of range", t)
	}
	return at.Format(time.RFC3339), nil
}

// listMembers reads the ids of one list's profiles (Get Profile IDs for
// List); it runs once per list the lists stream reads.
func listMembers(c *integ.HttpContext) error {
	cfg, err := integ.ConfigOf[Config](c)
	if err != nil {
		return err
	}
	id := url.PathEscape(c.Parent().Get("id").String())
	return emit(c, requests.New(strings.TrimRight(cfg.BaseURL, "/")+"/api/lists/"+id+"/relationships/profiles"))
}

// channels are the campaign channels Get Campaigns asks to filter by.
var channels = []string{"email", "sms", "mobile_push"}

// campaigns reads Get Campaigns once per channel: the endpoint refuses a
// request without a channel filter.
func campaigns(c *integ.HttpContext, _ Config, endpoint string) error {
	for _, ch := range channels {
		if err := emit(c, requests.New(endpoint).Query("filter", "equals(messages.channel,'"+ch+"')")); err != nil {
			return err
		}
	}
	return nil
}
