// Package hubspot is the HubSpot CRM connector: contacts, companies, deals
// and tickets with every property the account defines, and the owners they
// are assigned to.
//
// # API
//
// HubSpot CRM API v3 (https://developers.hubspot.com/docs/api/crm/understanding-the-crm),
// at the config's base_url (default https://api.hubapi.com). Pages followed
// when writing it: "CRM API | Objects" (list), "CRM API | Search" (search,
// its filters, sorts, paging and limits), "CRM API | Properties", "CRM API |
// Owners", "OAuth | Refresh an access token" and "API usage guidelines"
// (rate limits and the 429 body).
//
// # Streams
//
//	stream     key  sync modes                  read with
//	contacts   id   full refresh, incremental   GET /crm/v3/objects/contacts; POST .../search on lastmodifieddate
//	companies  id   full refresh, incremental   GET /crm/v3/objects/companies; POST .../search on hs_lastmodifieddate
//	deals      id   full refresh, incremental   GET /crm/v3/objects/deals; POST .../search on hs_lastmodifieddate
//	tickets    id   full refresh, incremental   GET /crm/v3/objects/tickets; POST .../search on hs_lastmodifieddate
//	owners     id   full refresh                GET /crm/v3/owners
//
// The four CRM objects' schemas come from the properties API
// (GET /crm/v3/properties/{object}): every property the account defines,
// standard or custom, typed from its "type" (number, bool, date, datetime;
// string, enumeration and the rest as strings). HubSpot sends every property
// value as a string; numbers and booleans are turned into JSON numbers and
// booleans, and empty strings of typed properties into null. Only the
// properties in the catalog's schema are asked for: trimming a stream's
// schema in the catalog reads fewer.
//
// Records keep HubSpot's shape: id, createdAt, updatedAt, archived and the
// object "properties". Properties are not flattened: a custom property may
// be named like a top-level field (archived, id), which flattening would
// lose, and most streams then need no copy of the record.
//
// Incremental streams replicate on updatedAt (HubSpot's last-modified date
// of the record). They read through the search API, filtered on the last
// modified date (GTE the bookmark, or start_date on the first sync) and
// sorted ascending, so the sync checkpoints as it goes. One search query
// reaches at most 10,000 records: past that the search restarts from the
// last record's modification time, so any number of records is read. Records
// modified at the very millisecond a window ends are read twice, and so is
// the bookmark's own record on the next sync (at least once, never lost). A
// record modified during the sync moves behind the cursor and is read again
// rather than missed. Archived (deleted) records are not read. A full
// refresh whose selected properties are too many for a URL reads through
// the search too.
//
// The connection check asks for one owner: refused credentials fail it, a
// valid token without the owners scope passes with a warning.
//
// # Auth
//
// A private app's access token (sent as "Authorization: Bearer"), or an
// OAuth app's client id, client secret and refresh token: access tokens are
// obtained from {base_url}/oauth/v1/token and renewed before they expire; a
// new refresh token, if HubSpot sends one, is saved to the config. Scopes:
// crm.objects.{contacts,companies,deals}.read, tickets, and
// crm.objects.owners.read. A stream whose scope is missing fails with
// HubSpot's MISSING_SCOPES message and the others still sync.
//
// # Rate limits
//
// Requests are paced at 9 per second (HubSpot allows 100 to 190 per 10
// seconds per app, by plan; requests_per_second changes it), searches at
// search_requests_per_second (default 4; HubSpot allows 5 per second per
// account). A 429 for the per-second or ten-second limit is waited out
// (Retry-After when HubSpot sends it, else a second for searches and the
// ten-second window otherwise) and the request resent; a 429 for the daily
// limit stops the sync with a message saying the day's requests are spent.
// 5xx answers and dropped connections are retried with backoff.
package hubspot

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// DefaultBaseURL is HubSpot's API host.
const DefaultBaseURL = "https://api.hubapi.com"

// about is the source's description, the top of its reference page. The
// object streams are found with the config, so the page's stream table
// lists owners only: this text names them all.
const about = `Contacts, companies, deals and tickets, with every property the account defines, and owners, from HubSpot's CRM API v3 (` + "`https://api.hubapi.com/crm/v3`" + `).

| Stream | Key | Sync modes | Replication key | Read with |
|:--|:--|:--|:--|:--|
| ` + "`contacts`" + ` | ` + "`id`" + ` | full_refresh, incremental | ` + "`updatedAt`" + ` | GET /crm/v3/objects/contacts; POST /crm/v3/objects/contacts/search on lastmodifieddate |
| ` + "`companies`" + ` | ` + "`id`" + ` | full_refresh, incremental | ` + "`updatedAt`" + ` | GET /crm/v3/objects/companies; POST .../search on hs_lastmodifieddate |
| ` + "`deals`" + ` | ` + "`id`" + ` | full_refresh, incremental | ` + "`updatedAt`" + ` | GET /crm/v3/objects/deals; POST .../search on hs_lastmodifieddate |
| ` + "`tickets`" + ` | ` + "`id`" + ` | full_refresh, incremental | ` + "`updatedAt`" + ` | GET /crm/v3/objects/tickets; POST .../search on hs_lastmodifieddate |
| ` + "`owners`" + ` | ` + "`id`" + ` | full_refresh | | GET /crm/v3/owners |

Object records keep HubSpot's shape (id, createdAt, updatedAt, archived, properties). Their schemas come from the properties API (GET /crm/v3/properties/{object}): number properties are written as JSON numbers, bool ones as booleans, date and datetime ones as strings (format date, date-time); an empty value of a typed property is null. Only the properties of the catalog's schema are asked for: trim a stream's schema to read fewer. Incremental reads use the search API sorted by last-modified date and checkpoint as they go; past the search API's 10,000 results per query, the search starts again from the last record's modification time. Archived records are not read.

Auth: a private app's access token (Bearer), or OAuth 2.0 (client ID, client secret, refresh token; tokens from {base_url}/oauth/v1/token, a rotated refresh token saved to the config). Scopes: crm.objects.contacts.read, crm.objects.companies.read, crm.objects.deals.read, tickets, crm.objects.owners.read; a stream whose scope is missing fails with HubSpot's message and the others sync.

Rate limits: 9 requests/s by default, no burst (HubSpot allows 100 to 190 per rolling 10 s per app, by plan), searches at search_requests_per_second (HubSpot: 5/s per account). A 429 for the secondly or ten-secondly limit is waited out and the request resent; the daily limit stops the sync; 5xx answers are retried with backoff.`

// Config is the connector's config.
type Config struct {
	Credentials Credentials `json:"credentials" oneof:"auth_type" title:"Authentication" description:"A private app's access token, or an OAuth app's credentials and a refresh token."`
	BaseURL     string      `json:"base_url" title:"Base URL" description:"Root of HubSpot's API. Change it only for a proxy or a test server." default:"https://api.hubapi.com" format:"uri" pattern:"^https?://" examples:"https://api.hubapi.com"`
	StartDate   string      `json:"start_date,omitempty" title:"Start date" description:"Incremental streams' first sync reads records modified at or after this time (RFC 3339); empty: every record." format:"date-time" examples:"2024-01-01T00:00:00Z"`
	PageSize    int         `json:"page_size" title:"Page size" description:"Records asked for per request (HubSpot allows at most 100 for lists)." default:"100" minimum:"1" maximum:"100"`
	SearchRate  float64     `json:"search_requests_per_second" title:"Search requests per second" description:"Pace of search requests (incremental reads). HubSpot allows 5 per second per account, shared by every app." default:"4" minimum:"0.1" maximum:"1000"`
}

// Credentials is the choice of auth method.
type Credentials struct {
	integ.OneOf
	PrivateApp *PrivateApp `oneof:"private_app" title:"Private app access token"`
	OAuth      *OAuth      `oneof:"oauth2.0" title:"OAuth 2.0"`
}

// PrivateApp is a private app's access token.
type PrivateApp struct {
	AccessToken integ.Secret `json:"access_token" title:"Access token" description:"The private app's access token (Settings > Integrations > Private Apps > Auth), with the crm.objects.*.read scopes of the streams to sync."`
}

// OAuth is an OAuth app's credentials and a user's refresh token.
type OAuth struct {
	ClientID     string       `json:"client_id" title:"Client ID" description:"The OAuth app's client ID."`
	ClientSecret integ.Secret `json:"client_secret" title:"Client secret" description:"The OAuth app's client secret."`
	RefreshToken integ.Secret `json:"refresh_token" title:"Refresh token" description:"A refresh token obtained when the account installed the app."`
}

// Source declares the connector.
func Source() *integ.Source {
	return integ.NewSource("hubspot", Config{},
		integ.WithTitle("HubSpot"),
		integ.WithDescription(about),
		integ.WithDocumentationURL("https://developers.hubspot.com/docs/api/crm/understanding-the-crm"),
		integ.WithAuth(authenticator),
		integ.WithOAuthSpec(integ.OAuthSpec{
			Field:        "credentials",
			Method:       "oauth2.0",
			ServerFields: []string{"client_id", "client_secret"},
			OutputFields: []string{"refresh_token"},
		}),
		integ.WithRateLimit(9, 1), // under the smallest plan's 100 per rolling 10 s
		integ.WithRetry(requests.RetryOptions{Classifiers: []requests.RetryClassifier{RateLimits()}}),
		integ.WithMiddleware(searchPace),
		integ.WithCheck(check),
		integ.WithStreams(owners()),
		integ.WithStreamList(listObjects),
		integ.WithSchemaResolver(objectSchema),
	)
}

// authenticator builds the auth method the config chose.
func authenticator(c Config, s *integ.Session) (requests.Authenticator, error) {
	if o := c.Credentials.OAuth; o != nil {
		return requests.OAuth2RefreshToken(requests.OAuth2Options{
			TokenURL:     apiURL(c, "/oauth/v1/token"),
			ClientID:     o.ClientID,
			ClientSecret: o.ClientSecret.Reveal(),
			RefreshToken: o.RefreshToken.Reveal(),
			Doer:         s.TokenDoer(),
			OnRotate: func(rt string) {
				if err := s.UpdateConfig(map[string]any{"credentials.refresh_token": rt}); err != nil {
					s.Logger().Error("HubSpot sent a new refresh token that could not be saved: " + err.Error())
				}
			},
		}), nil
	}
	return requests.Bearer(c.Credentials.PrivateApp.AccessToken.Reveal()), nil
}

// check asks for one owner: refused credentials fail it; a token without
// the owners scope passes (it is valid: the streams it cannot read are
// reported by the sync).
func check(c *integ.HttpContext) error {
	cfg, err := load(c)
	if err != nil {
		return err
	}
	_, err = c.Do(requests.New(apiURL(cfg, "/crm/v3/owners")).Query("limit", "1"))
	var se *requests.StatusError
	if errors.As(err, &se) && se.Status == http.StatusForbidden {
		c.Logger().Warn("the credentials are valid but cannot read owners (" + integ.APIMessage(se.BodyExcerpt) + "); that stream will fail")
		return nil
	}
	return err
}

// searchPace paces the search endpoints on their own, tighter limit: one
// limiter per run, shared by every stream.
func searchPace(cfg *integ.Config) (requests.Middleware, error) {
	var c Config
	if err := cfg.Decode(&c); err != nil {
		return nil, err
	}
	limited := requests.RateLimit(newSearchLimiter(c.SearchRate))
	return func(next requests.Doer) requests.Doer {
		slow := limited(next)
		return requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/search") {
				return slow.Do(r)
			}
			return next.Do(r)
		})
	}, nil
}

// newSearchLimiter builds the searches' limiter (tests give it a fake clock).
var newSearchLimiter = func(rps float64) *requests.Limiter { return requests.NewLimiter(rps, 1) }

// apiURL joins the base URL and a path.
func apiURL(c Config, path string) string {
	return strings.TrimRight(c.BaseURL, "/") + path
}

// load reads the run's config.
func load(c *integ.HttpContext) (Config, error) {
	return integ.ConfigOf[Config](c)
}

// pages follows HubSpot's list paging: paging.next.after, sent back as
// the after parameter, absent on the last page.
func pages() requests.Paginator { return requests.Cursor("paging.next.after", "after") }

// Owner is a HubSpot user records can be assigned to.
type Owner struct {
	ID                      string    `json:"id" description:"The owner's ID (the value of hubspot_owner_id properties)."`
	Email                   *string   `json:"email" format:"email"`
	FirstName               *string   `json:"firstName"`
	LastName                *string   `json:"lastName"`
	UserID                  *int64    `json:"userId" description:"The HubSpot user ID, when the owner is an active user."`
	UserIDIncludingInactive *int64    `json:"userIdIncludingInactive"`
	Type                    *string   `json:"type" description:"PERSON or QUEUE."`
	CreatedAt               time.Time `json:"createdAt"`
	UpdatedAt               time.Time `json:"updatedAt"`
	Archived                bool      `json:"archived"`
	Teams                   []Team    `json:"teams,omitempty"`
}

// Team is one of an owner's teams.
type Team struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Primary bool   `json:"primary"`
}

// owners is the owners stream: GET /crm/v3/owners, paged like the objects.
func owners() *integ.Stream {
	return integ.NewStream("owners", Owner{}, func(c *integ.HttpContext) error {
		cfg, err := load(c)
		if err != nil {
			return err
		}
		first := requests.New(apiURL(cfg, "/crm/v3/owners")).
			Query("limit", itoa(cfg.PageSize)).
			Query("archived", "false")
		return c.EmitPages(first, pages(), "results")
	},
		integ.PrimaryKey("id"),
		integ.Description("The account's owners: the users and queues records are assigned to (GET /crm/v3/owners). Needs the crm.objects.owners.read scope."),
	)
}
