// Package storm is the Storm connector: orders, customers and product SKUs
// from the Storm Query API 2.0 (Norce Commerce, formerly Storm Commerce),
// an OData v4 service. The OData part (query options, literal quoting,
// @odata.nextLink paging) is the reusable requests/odata package.
//
// # Streams
//
//	stream        key      sync modes                 replication key
//	orders        Id       full refresh, incremental  Modified
//	customers     Id       full refresh, incremental  Modified
//	product_skus  PartNo   full refresh, incremental  Modified
//
// Each is one entity set: GET {base_url}/Orders/Orders, /Customers/Customers
// and /Products/ProductSkus, with
//
//   - $select: the catalog's selected fields, in schema order (Updated and
//     Created always, for the replication key);
//   - $expand=Items on orders when the Items field (the order lines) is
//     selected;
//   - $orderby on the key, so that server-driven paging is stable;
//   - Accept: application/json and OData-MaxVersion: 4.0;
//   - Prefer: odata.maxpagesize={page_size}, and pages followed through
//     @odata.nextLink until a page has none; records are the "value" array.
//
// Storm sets Updated on a row's first change and leaves it null before, so
// the replication key is Modified, a field the tap adds to every record:
// Updated, or Created for a row never updated. An incremental run asks for
//
//	$filter=(Updated ge {bookmark}) or ((Updated eq null) and (Created ge {bookmark}))
//
// with the bookmark as an OData DateTimeOffset literal in UTC
// (2024-05-01T00:00:00Z), inclusive. Records are not sorted on Modified, so
// a stream's bookmark moves when the stream completes.
//
// # Auth
//
// HTTP Basic with the Query API user and password Storm issued. (Norce's
// newer hosted endpoints, https://{slug}.api-se.norce.tech/commerce/query/2.0,
// take an OAuth 2.0 client-credentials token instead; this connector does
// not ask for one yet.)
//
// # Rate limits and errors
//
// Storm documents no quota for the Query API; a 429 is waited out (with
// Retry-After) and retried, as a 5xx is. A 403 on one entity set fails that
// stream only; the others sync. OData error bodies
// ({"error": {"code", "message"}}) are quoted in the failure.
//
// # API version and pages followed
//
// Storm Query API 2.0, OData v4:
// https://docs.norce.io/api-reference-storm/stormquery/queryorders/openapi/orders,
// .../querycustomers/openapi/customers and
// https://docs.norce.io/api-reference/query/queryproducts/openapi/products/productskus
// (entity sets, key properties, Created/Updated), and the OData v4.01 URL
// conventions for the query options and literals. The Storm pages found do
// not describe authentication or paging limits: Basic auth is what the
// project was told Storm uses, and page sizes are asked with the standard
// Prefer header, which a service may lower.
package storm

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/integ/integ/requests/odata"
	"github.com/tidwall/gjson"
)

// Config is the connector's config.
type Config struct {
	BaseURL  string       `json:"base_url" title:"Base URL" description:"Root of the Storm Query API 2.0; the entity sets are below it (Orders/Orders, Customers/Customers, Products/ProductSkus). Change it for a Norce-hosted endpoint, a proxy or a test server." default:"https://query.storm.io/Query/2.0" format:"uri" pattern:"^https?://" examples:"https://query.storm.io/Query/2.0"`
	Username string       `json:"username" title:"Username" description:"The Query API user Storm issued to your application."`
	Password integ.Secret `json:"password" title:"Password" description:"The Query API user's password."`
	PageSize int          `json:"page_size" title:"Page size" description:"Entities asked for per page (the Prefer: odata.maxpagesize header); the service may send fewer." default:"500" minimum:"1" maximum:"5000"`
}

// modified is the replication key the tap adds: Updated, or Created for a
// row never updated.
const modified = "Modified"

// Order is an order (Orders/Orders), with its lines when Items is selected.
type Order struct {
	ID                string      `json:"Id" description:"Key property."`
	OrderNo           *string     `json:"OrderNo"`
	OrderDate         *time.Time  `json:"OrderDate"`
	ClientID          *int64      `json:"ClientId"`
	ApplicationID     *int64      `json:"ApplicationId"`
	StatusID          *int64      `json:"StatusId"`
	BuyerCustomerID   *int64      `json:"BuyerCustomerId"`
	BuyerCustomerCode *string     `json:"BuyerCustomerCode"`
	BuyerCompanyID    *int64      `json:"BuyerCompanyId"`
	PayerCustomerID   *int64      `json:"PayerCustomerId"`
	CurrencyID        *int64      `json:"CurrencyId"`
	Created           *time.Time  `json:"Created"`
	Updated           *time.Time  `json:"Updated" description:"Null until the order is first changed."`
	Items             []OrderItem `json:"Items" description:"The order lines ($expand=Items)."`
	Modified          *time.Time  `json:"Modified" description:"Updated, or Created for an order never updated; the replication key, added by the tap."`
}

// OrderItem is one line of an order.
type OrderItem struct {
	ID          string     `json:"Id"`
	OrderID     *string    `json:"OrderId"`
	LineNumber  *float64   `json:"LineNumber"`
	StatusID    *int64     `json:"StatusId"`
	PartNo      *string    `json:"PartNo"`
	ProductName *string    `json:"ProductName"`
	QtyOrdered  *float64   `json:"QtyOrdered"`
	PriceSale   *float64   `json:"PriceSale"`
	VatRate     *float64   `json:"VatRate"`
	LineAmount  *float64   `json:"LineAmount"`
	Created     *time.Time `json:"Created"`
	Updated     *time.Time `json:"Updated"`
}

// Customer is a customer (Customers/Customers).
type Customer struct {
	ID        int64      `json:"Id" description:"Key property."`
	Code      *string    `json:"Code"`
	FirstName *string    `json:"FirstName"`
	LastName  *string    `json:"LastName"`
	Email     *string    `json:"Email"`
	Phone     *string    `json:"Phone"`
	IsActive  *bool      `json:"IsActive"`
	ClientID  *int64     `json:"ClientId"`
	Created   *time.Time `json:"Created"`
	Updated   *time.Time `json:"Updated" description:"Null until the customer is first changed."`
	Modified  *time.Time `json:"Modified" description:"Updated, or Created for a customer never updated; the replication key, added by the tap."`
}

// ProductSku is a stock keeping unit of a product (Products/ProductSkus).
type ProductSku struct {
	PartNo      string     `json:"PartNo" description:"Key property: the SKU's part number."`
	ProductID   *int64     `json:"ProductId"`
	ClientID    *int64     `json:"ClientId"`
	StatusID    *int64     `json:"StatusId"`
	TypeID      *int64     `json:"TypeId"`
	ErpName     *string    `json:"ErpName"`
	EanCode     *string    `json:"EanCode"`
	GrossWeight *float64   `json:"GrossWeight"`
	NetWeight   *float64   `json:"NetWeight"`
	IsPublished *bool      `json:"IsPublished"`
	IsBlocked   *bool      `json:"IsBlocked"`
	Created     *time.Time `json:"Created"`
	Updated     *time.Time `json:"Updated" description:"Null until the SKU is first changed."`
	Modified    *time.Time `json:"Modified" description:"Updated, or Created for a SKU never updated; the replication key, added by the tap."`
}

// about is the description --about and the docs page show.
const about = `Orders, customers and product SKUs from the Storm Query API 2.0 (Norce Commerce), an OData v4 service.

**Auth**: HTTP Basic with the Query API user and password Storm issued.

**Requests**: GET {base_url}/Orders/Orders, /Customers/Customers and /Products/ProductSkus with $select (the selected fields), $expand=Items on orders when the order lines are selected, $orderby on the key and Prefer: odata.maxpagesize; pages are followed through @odata.nextLink.

**Incremental**: on Modified, which the tap adds to every record: Updated, or Created for a row never updated (Storm leaves Updated null until a first change). The filter is $filter=(Updated ge {bookmark}) or ((Updated eq null) and (Created ge {bookmark})), inclusive, in UTC.

**Rate limits**: Storm documents no quota; a 429 is waited out (Retry-After honoured) and retried, like a 5xx. requests_per_second caps the rate. A 403 on one entity set fails that stream only.`

// Source declares the connector.
func Source() *integ.Source {
	return integ.NewSource("storm", Config{},
		integ.WithTitle("Storm (Norce Commerce) Query API"),
		integ.WithDescription(about),
		integ.WithDocumentationURL("https://docs.norce.io/api-reference-storm/stormquery/queryorders/openapi/orders"),
		integ.WithAuth(func(c Config, _ *integ.Session) (requests.Authenticator, error) {
			return requests.Basic(c.Username, c.Password.Reveal()), nil
		}),
		integ.WithStreams(
			entity("orders", "Orders/Orders", Order{}, "Id", []string{"Items"},
				"Orders with their lines (Items, expanded in the same request when selected)."),
			entity("customers", "Customers/Customers", Customer{}, "Id", nil,
				"Customers (people; their companies are a separate entity set)."),
			entity("product_skus", "Products/ProductSkus", ProductSku{}, "PartNo", nil,
				"Product SKUs: the sellable variants of products, by part number."),
		),
	)
}

// entity declares a stream over one entity set; expand names the
// navigation properties read with $expand.
func entity(name, set string, record any, key string, expand []string, doc string) *integ.Stream {
	return integ.NewStream(name, record, run(set, key, expand),
		integ.PrimaryKey(key),
		integ.Transform(addModified),
		integ.Incremental(modified),
		integ.Description(doc+" Incremental on Modified (Updated, or Created when never updated)."),
	)
}

func run(set, key string, expand []string) integ.RunnerFunc {
	return func(c *integ.HttpContext) error {
		cfg, err := integ.ConfigOf[Config](c)
		if err != nil {
			return err
		}
		q := odata.Query{OrderBy: []string{key}}
		var fields []string // nil: no $select, every property
		if plan := c.Plan(); plan != nil && plan.Schema != nil {
			fields = plan.Schema.PropertyNames()
		}
		for _, f := range fields {
			switch {
			case f == modified:
				q.Select = appendNew(q.Select, "Updated", "Created")
			case slices.Contains(expand, f):
				q.Expand = append(q.Expand, f)
			default:
				q.Select = appendNew(q.Select, f)
			}
		}
		if b := c.Bookmark(); b.Exists() {
			since, err := parseTime(b.String())
			if err != nil {
				return fmt.Errorf("stream %q: the state's bookmark %s is not a time: %w", c.Stream(), b.Raw, err)
			}
			q.Filter = changedSince(since)
		}
		first := odata.MaxPageSize(q.Request(strings.TrimRight(cfg.BaseURL, "/")+"/"+set), cfg.PageSize)
		return c.EmitPages(first, odata.NextLink(), odata.ValuePath)
	}
}

// changedSince is the filter for rows updated, or created and never
// updated, at or after t.
func changedSince(t time.Time) string {
	updated, _ := odata.Cmp("Updated", "ge", t) // constant names and a time: cannot fail
	never, _ := odata.Cmp("Updated", "eq", nil)
	created, _ := odata.Cmp("Created", "ge", t)
	return odata.Or(updated, odata.And(never, created))
}

func appendNew(list []string, names ...string) []string {
	for _, n := range names {
		if !slices.Contains(list, n) {
			list = append(list, n)
		}
	}
	return list
}

// parseTime reads a bookmark: RFC 3339, or a time without a zone (UTC).
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want an RFC 3339 time such as 2024-05-01T00:00:00Z")
}

// addModified copies the record with Modified set to Updated, or to
// Created when Updated is null or missing.
func addModified(rec gjson.Result, _ *integ.HttpContext, dst []byte) ([]byte, bool) {
	v := rec.Get("Updated")
	if v.Type == gjson.Null {
		v = rec.Get("Created")
	}
	raw := v.Raw
	if raw == "" {
		raw = "null"
	}
	dst = append(dst, '{')
	rec.ForEach(func(k, val gjson.Result) bool {
		if k.Str != modified {
			dst = append(dst, k.Raw...)
			dst = append(dst, ':')
			dst = append(dst, val.Raw...)
			dst = append(dst, ',')
		}
		return true
	})
	dst = append(dst, `"`+modified+`":`...)
	dst = append(dst, raw...)
	return append(dst, '}'), true
}
