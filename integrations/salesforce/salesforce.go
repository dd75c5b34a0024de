// Package salesforce is the Salesforce connector: every queryable object of
// an org, read through the REST API (SOQL queries) or, for the objects the
// config names, through Bulk API 2.0 (CSV query jobs). API version v61.0
// (Summer '24).
//
// # Streams
//
// One stream per object that GET /services/data/v61.0/sobjects lists as
// queryable (Account, Contact, Opportunity, custom objects...). A stream's
// schema is the object's describe (GET .../sobjects/{name}/describe), asked
// only for the objects a command needs: a read with a catalog describes
// none. Field types map as: id, string, picklist, multipicklist, textarea,
// url, email, phone, reference, combobox, encryptedstring, time -> string;
// boolean -> boolean; int, long -> integer; double, currency, percent ->
// number; date -> string (date); datetime -> string (date-time, written
// with a Z); address, location -> object; base64 -> string (base64);
// anyType -> any JSON value. Fields are nullable where the describe says
// nillable. The primary key is Id. The records' "attributes" member is
// dropped.
//
// # Sync modes
//
// Full refresh, and incremental on SystemModstamp (CreatedDate for the
// *History objects, LastModifiedDate for the *Share objects, which have no
// SystemModstamp): SOQL "WHERE
// SystemModstamp >= {bookmark} ORDER BY SystemModstamp ASC", pages followed
// through nextRecordsUrl. start_date bounds the first sync. With
// include_deleted, queryAll also returns deleted (IsDeleted) and archived
// records.
//
// # Bulk API 2.0
//
// The objects named in bulk_objects are read with a query job: POST
// .../jobs/query, GET .../jobs/query/{id} every bulk_poll_interval seconds
// until JobComplete, then GET .../jobs/query/{id}/results in pages of
// bulk_page_size rows, following the Sforce-Locator header. Bulk queries
// cannot sort, select compound (address, location) or base64 fields: those
// streams are incremental but unsorted, and leave those fields out.
//
// # Auth
//
// OAuth 2.0 refresh token of a connected app: client_id, client_secret and
// refresh_token buy an access token at {login_url}/services/oauth2/token;
// the token response's instance_url (or the config's instance_url, a proxy)
// is the org's API root, where every query goes. A refresh token the
// server rotates is saved back to the config. Refused credentials are a
// config error.
//
// # Rate limits
//
// Salesforce counts API requests per org over a rolling 24 hours and
// reports the count in every response's Sforce-Limit-Info header
// (api-usage=used/max): the connector stops before the last 10% is spent,
// leaving it to the org's other users, and stops at once on
// REQUEST_LIMIT_EXCEEDED. A 429 or 5xx is retried after a wait.
//
// Pages followed: REST API Developer Guide (Query, Describe, List
// sObjects, Limits, Sforce-Limit-Info), Bulk API 2.0 Developer Guide
// (Create a Query Job, Get Information About a Query Job, Get Results for
// a Query Job), OAuth 2.0 Refresh Token Flow.
package salesforce

import (
	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// APIVersion is the pinned REST and Bulk API version.
const APIVersion = "v61.0"

// apiPath is the versioned root under the instance URL.
const apiPath = "/services/data/" + APIVersion

// Config is the connector's config.
type Config struct {
	ClientID       string       `json:"client_id" title:"Client ID" description:"Consumer key of the connected app the refresh token was issued to (Setup > App Manager > the app > View > Consumer Key)." minLength:"1"`
	ClientSecret   integ.Secret `json:"client_secret" title:"Client secret" description:"Consumer secret of that connected app." secret:"true" minLength:"1"`
	RefreshToken   integ.Secret `json:"refresh_token" title:"Refresh token" description:"Refresh token from the OAuth 2.0 web server flow; the connected app's scopes must include api and refresh_token." secret:"true" minLength:"1"`
	LoginURL       string       `json:"login_url" title:"Login URL" description:"Root of the OAuth server: https://login.salesforce.com for production orgs, https://test.salesforce.com for sandboxes, or the org's My Domain URL. The token response names the org's instance URL, where the API calls go." default:"https://login.salesforce.com" format:"uri" pattern:"^https?://" examples:"https://login.salesforce.com"`
	InstanceURL    string       `json:"instance_url,omitempty" title:"Instance URL override" description:"Where the API calls go instead of the instance_url the token response names: a proxy in front of the org. Empty: the token response's." format:"uri" pattern:"^https?://" examples:"https://proxy.example.com"`
	StartDate      string       `json:"start_date,omitempty" title:"Start date" description:"Only records modified at or after this time are read by the first sync of an incremental stream, and by full refreshes. Empty: every record." format:"date-time" examples:"2024-01-01T00:00:00Z"`
	IncludeDeleted bool         `json:"include_deleted,omitempty" title:"Include deleted records" description:"Read through queryAll, which also returns deleted records (IsDeleted true) and archived ones." default:"false"`
	BulkObjects    []string     `json:"bulk_objects,omitempty" title:"Objects read with Bulk API 2.0" description:"Names of large objects to read through Bulk API 2.0 query jobs (CSV) instead of paged REST queries, e.g. Task or a big custom object. Bulk queries leave out address, location and base64 fields." examples:"[[\"Task\",\"Event\"]]"`
	BulkPageSize   int          `json:"bulk_page_size,omitempty" title:"Bulk page size" description:"Rows asked for per Bulk API 2.0 result request (maxRecords)." default:"50000" minimum:"1" maximum:"1000000"`
	BulkPoll       float64      `json:"bulk_poll_interval,omitempty" title:"Bulk poll interval" description:"Seconds between two checks of a Bulk API 2.0 job's state while it runs." default:"5" minimum:"0" maximum:"300"`
}

// about is the connector's description, the top of its docs page.
const about = `Every queryable object of a Salesforce org, read with the REST API ` + APIVersion + ` (SOQL queries) or Bulk API 2.0 (CSV query jobs).

**Streams.** One per object that GET /services/data/` + APIVersion + `/sobjects lists as queryable (Account, Contact, Opportunity, custom objects...), named like the object. Its schema comes from the object's describe, asked only for the objects a command needs. Types: id, string, picklist, textarea, url, email, phone, reference -> string; boolean; int, long -> integer; double, currency, percent -> number; date -> date; datetime -> date-time (written with a Z); address, location -> object; base64 -> string. Primary key: Id. The records' "attributes" member is dropped.

**Sync modes.** Full refresh, and incremental on SystemModstamp (CreatedDate for the *History objects, LastModifiedDate for the *Share objects), sorted by it. An object that has none of these is left out of discover with an error naming it. start_date bounds the first sync; include_deleted reads through queryAll (deleted and archived records too).

**Bulk API 2.0.** The objects named in bulk_objects are read with a query job (create, poll every bulk_poll_interval seconds, read the CSV results following Sforce-Locator). Bulk queries cannot sort and leave out address, location and base64 fields.

**Auth.** OAuth 2.0 refresh token of a connected app (client_id, client_secret, refresh_token) at {login_url}/services/oauth2/token; the token response's instance_url is where the API calls go (the instance_url setting overrides it: a proxy). A rotated refresh token is saved to the config.

**Rate limits.** The org's rolling 24-hour API allowance, read from every response's Sforce-Limit-Info header: the connector stops before the last 10% is spent, and at once on REQUEST_LIMIT_EXCEEDED. A 429 or 5xx is retried after a wait.`

// Source declares the connector.
func Source() *integ.Source {
	return integ.NewSource("salesforce", Config{},
		integ.WithTitle("Salesforce"),
		integ.WithDescription(about),
		integ.WithDocumentationURL("https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/"),
		integ.WithAuth(authenticate),
		// The platform may run the web server flow for the user.
		integ.WithOAuthSpec(integ.OAuthSpec{
			ServerFields:    []string{"client_id", "client_secret"},
			OutputFields:    []string{"refresh_token"},
			UserInputFields: []string{"login_url"},
		}),
		integ.WithCheck(check),
		integ.WithStreamList(listObjects),
		integ.WithSchemaResolver(describe),
		integ.WithRetry(requests.RetryOptions{
			Classifiers: []requests.RetryClassifier{requests.SalesforceRequestLimit()},
		}),
		integ.WithAdaptiveLimit(requests.AdaptiveOptions{Readers: []requests.BudgetReader{requests.SalesforceLimitInfo()}}),
	)
}

// check reads the org's limits: it proves the credentials, the instance URL
// and the API version in one cheap call.
func check(c *integ.HttpContext) error {
	root, err := apiRoot(c)
	if err != nil {
		return err
	}
	_, err = c.Do(requests.New(root + "/limits"))
	return err
}
