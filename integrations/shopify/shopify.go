package shopify

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// DefaultAPIVersion is the GraphQL Admin API version the queries were
// written against. Shopify supports a version for at least twelve months;
// the api_version setting moves to a newer one.
const DefaultAPIVersion = "2026-01"

// Config is the connector's config. Its JSON Schema (for --about, spec and
// validation) is generated from the fields and their tags.
type Config struct {
	Shop        string      `json:"shop" title:"Shop" description:"The shop's myshopify.com name: my-store for my-store.myshopify.com (the full host is accepted too)." pattern:"^[a-zA-Z0-9][a-zA-Z0-9-]*(\\.myshopify\\.com)?$" examples:"my-store"`
	Credentials Credentials `json:"credentials" oneof:"auth_method" title:"Authentication" description:"How the connector gets its Admin API access token. The app needs the read_customers, read_orders, read_products and read_inventory scopes of the streams you sync; a stream whose scope is missing is reported and the others are synced."`
	BaseURL     string      `json:"base_url" title:"Base URL" description:"Where the Admin API is served; {shop} stands for the shop setting. Change it for a proxy or a test server." default:"https://{shop}.myshopify.com" pattern:"^https?://" examples:"https://{shop}.myshopify.com"`
	APIVersion  string      `json:"api_version" title:"API version" description:"The GraphQL Admin API version (YYYY-MM), pinned so that a Shopify release never changes the records under you." default:"2026-01" pattern:"^([0-9]{4}-(01|04|07|10)|unstable)$"`
	StartDate   string      `json:"start_date,omitempty" title:"Start date" description:"Only records updated at or after this time are read on the first sync (and on every full refresh). Empty: all of them." format:"date-time" examples:"2024-01-01T00:00:00Z"`
	PageSize    int         `json:"page_size" title:"Page size" description:"Records asked for per query (first: N). Shopify allows 250; smaller pages cost fewer points of the query-cost budget each." default:"100" minimum:"1" maximum:"250"`
	Bulk        bool        `json:"bulk_operations" title:"Bulk operations" description:"Read customers, orders, products and inventory_items with a bulk operation (bulkOperationRunQuery, then one JSON Lines download) instead of paged queries: far fewer queries for large shops, but a wait while Shopify prepares the file. fulfillments and refunds are always paged." default:"false"`
	BulkPoll    float64     `json:"bulk_poll_seconds" title:"Bulk poll interval" description:"Seconds between two polls of a running bulk operation." default:"5" minimum:"0.001" maximum:"600"`
}

// Credentials are the two ways to an access token.
type Credentials struct {
	integ.OneOf
	Token  *AccessToken       `oneof:"access_token" title:"Admin API access token"`
	Client *ClientCredentials `oneof:"client_credentials" title:"Client credentials (Dev Dashboard app)"`
}

// AccessToken is a token the shop owner copied from a custom app.
type AccessToken struct {
	AccessToken integ.Secret `json:"access_token" title:"Access token" description:"An Admin API access token (shpat_...) of an app installed on the shop, sent as X-Shopify-Access-Token."`
}

// ClientCredentials are a Dev Dashboard app's client ID and secret, which
// buy a 24-hour access token (the client credentials grant, for apps of the
// shop's own organization).
type ClientCredentials struct {
	ClientID     string       `json:"client_id" title:"Client ID" description:"The app's client ID, from the Dev Dashboard (Settings)."`
	ClientSecret integ.Secret `json:"client_secret" title:"Client secret" description:"The app's client secret, from the Dev Dashboard (Settings)."`
}

// base is the shop's base URL.
func (c Config) base() string {
	shop := strings.TrimSuffix(strings.ToLower(c.Shop), ".myshopify.com")
	return strings.TrimRight(strings.ReplaceAll(c.BaseURL, "{shop}", shop), "/")
}

// endpoint is the GraphQL endpoint the config names.
func (c Config) endpoint() string {
	return c.base() + "/admin/api/" + c.APIVersion + "/graphql.json"
}

// Source declares the connector.
func Source() *integ.Source {
	streams := make([]*integ.Stream, len(resources))
	for i, r := range resources {
		streams[i] = r.stream()
	}
	return integ.NewSource("shopify", Config{},
		integ.WithTitle("Shopify"),
		integ.WithDescription("Customers, orders, products, inventory items, fulfillments and refunds of a Shopify shop, read through the GraphQL Admin API "+DefaultAPIVersion+", paced by the API's query-cost budget."),
		integ.WithDocumentationURL("https://shopify.dev/docs/api/admin-graphql"),
		integ.WithStreams(streams...),
		integ.WithAuth(auth),
		integ.WithMiddleware(func(*integ.Config) (requests.Middleware, error) {
			return newBucket(nil, nil).middleware, nil
		}),
		// GraphQL errors come with HTTP 200: THROTTLED waits until the
		// bucket holds the query's cost, then retries; ACCESS_DENIED fails
		// the stream as a 403 (the others go on); others fail with the
		// server's message.
		integ.WithRetry(requests.RetryOptions{SuccessClassifiers: []requests.RetryClassifier{
			requests.GraphQLErrors(requests.GraphQLOptions{Wait: throttleWait}),
		}}),
		integ.WithCheck(check),
	)
}

// auth sends the access token, as X-Shopify-Access-Token, to the shop's
// API only: a bulk operation's download URL is a signed link to cloud
// storage, which must not see it (integ drops credentials on any host the
// session does not allow). A client-credentials token is fetched and renewed
// (a minute before its 24 hours end, and after a 401) by OAuth2.
func auth(c Config, s *integ.Session) (requests.Authenticator, error) {
	if err := s.AllowHost(c.endpoint()); err != nil {
		return nil, fmt.Errorf("base_url %q with shop %q does not make a URL with a host", c.BaseURL, c.Shop)
	}
	if cc := c.Credentials.Client; cc != nil {
		return requests.OAuth2ClientCredentials(requests.OAuth2Options{
			TokenURL: c.base() + "/admin/oauth/access_token",
			ClientID: cc.ClientID, ClientSecret: cc.ClientSecret.Reveal(), Doer: s.TokenDoer(),
		}, requests.TokenHeader("X-Shopify-Access-Token", "")), nil
	}
	return requests.APIKeyHeader("X-Shopify-Access-Token", "", c.Credentials.Token.AccessToken.Reveal()), nil
}

// check asks for the shop's name: one cheap query that needs the token to
// be valid, whatever scopes it has.
func check(c *integ.HttpContext) error {
	cfg, err := integ.ConfigOf[Config](c)
	if err != nil {
		return err
	}
	resp, err := c.Do(graphQL(cfg.endpoint(), `query shop { shop { name } }`, nil))
	var se *requests.StatusError
	if errors.As(err, &se) && se.Status == http.StatusUnauthorized {
		return &integ.Error{Kind: integ.ConfigFailure, Err: err,
			Msg: fmt.Sprintf("Shopify refused the access token (%s answered 401): check the credentials, and that the app is still installed on shop %q", requests.RedactURL(se.URL), cfg.Shop)}
	}
	if err != nil {
		return err
	}
	if !resp.Get("data.shop.name").Exists() {
		return fmt.Errorf("%s answered without data.shop.name: is base_url a Shopify Admin API?", requests.RedactURL(resp.URL))
	}
	return nil
}

// graphQL is a POST of one GraphQL document with its variables, as the
// Admin API takes it.
func graphQL(endpoint, query string, vars map[string]any) *requests.Request {
	body := map[string]any{"query": query}
	if vars != nil {
		body["variables"] = vars
	}
	return requests.New(endpoint).Method(http.MethodPost).JSONBody(body)
}
