// Package sitoo is the Sitoo connector: products, orders, users, warehouses
// and the stock of each warehouse from the Sitoo REST API v2 (the retail
// and point-of-sale platform).
//
// # Streams
//
//	stream           key                           sync modes                 replication key
//	products         productid                     full refresh, incremental  datemodified (Unix seconds)
//	orders           orderid                       full refresh, incremental  orderid (new orders only)
//	users            userid                        full refresh
//	warehouses       warehouseid                   full refresh
//	warehouse_items  warehouseid, warehouseitemid  full refresh, incremental  datelastmodified, per warehouse
//
// Every list is GET {base_url}/accounts/{account_id}/sites/{site_id}/{resource}.json,
// with Accept: application/json, paged with start and num (at most 100 a
// page) until start plus the records read reaches the
// envelope's totalcount ({"totalcount": N, "items": [...]}). The fields
// parameter lists the catalog's selected fields, as Sitoo asks ("only
// request fields that you need since some fields are calculated").
//
//   - products: incremental with datelastmodified={bookmark - 1}, the Unix
//     time of the last change. The reference does not say whether the
//     filter is inclusive, so the tap asks from a second earlier and drops
//     the records older than the bookmark: the bookmark's own second is
//     read again, never skipped.
//   - orders: Sitoo has no filter on an order's modification time, only on
//     its id and creation date, so the incremental mode reads orders sorted
//     by orderid (sort=orderid) from orderidfrom={bookmark}: new orders
//     only. A change to an order already synced (its state, a refund) is
//     read again by a full refresh.
//   - users: the API has no modification filter; full refresh only.
//   - warehouse_items: the stock of each warehouse, a child of warehouses
//     (GET .../warehouses/{warehouseid}/warehouseitems.json), each record
//     carrying its warehouseid; incremental per warehouse with
//     datelastmodifiedfrom={bookmark}. A warehouse removed during a sync
//     (404) is skipped with a warning.
//
// Sitoo's times are Unix seconds, so their bookmarks are integers. Unlike
// time strings, they are not held back to the sync's start: a record
// changed while a sync runs and already read is read again only when it
// changes again.
//
// # Auth
//
// HTTP Basic with the API ID and its password, both from the Sitoo
// Backoffice (Settings > Sitoo REST API). Sitoo also refuses requests from
// an IP address the Backoffice does not allow; both show as a 401, reported
// as a config error.
//
// # Rate limits and errors
//
// Sitoo publishes no request quota; a throttled request is answered 429
// Too Many Requests, on which the tap waits (honouring Retry-After) and
// retries, as on a 5xx. The requests_per_second setting caps the tap's
// rate. A 403 on one resource fails that stream only; the others sync.
//
// # API version and pages followed
//
// Sitoo REST API v2 (the quick start page names v2.15):
// https://developer.sitoo.com/api/v2/quick-start.html (auth, envelopes),
// and the endpoint references https://developer.sitoo.com/api-reference/products,
// .../orders, .../users and .../warehouses as captured in the OpenAPI
// description of the spysystem/sitoo-client project (parameters start,
// num, fields, datelastmodified, orderidfrom, sort, datelastmodifiedfrom;
// error bodies {"statuscode", "errortext"}). The quick start's paragraph on
// paging limits could not be read; num's maximum of 100 is Sitoo's figure
// as given to the project.
package sitoo

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// Config is the connector's config.
type Config struct {
	BaseURL   string       `json:"base_url" title:"Base URL" description:"Root of the Sitoo REST API v2, without the account part: requests go to {base_url}/accounts/{account_id}/sites/{site_id}/... Change it for an account on its own API host (https://api123.mysitoo.com/v2), a proxy or a test server." default:"https://api.mysitoo.com/v2" format:"uri" pattern:"^https?://" examples:"https://api.mysitoo.com/v2"`
	AccountID string       `json:"account_id" title:"Account ID" description:"The Sitoo account number, as in the API ID before the dash (90316 for 90316-125)." pattern:"^[0-9]+$" examples:"90316"`
	SiteID    int          `json:"site_id" title:"Site ID" description:"The site (web shop and its stores) to read; 1 on most accounts." default:"1" minimum:"1"`
	APIID     string       `json:"api_id" title:"API ID" description:"The API ID from the Sitoo Backoffice, Settings > Sitoo REST API (needs the API extension and an administrator)." examples:"90316-125"`
	Password  integ.Secret `json:"password" title:"API password" description:"The password of the API ID, from the same Backoffice page."`
	PageSize  int          `json:"page_size" title:"Page size" description:"Records asked for per request (Sitoo's num parameter); Sitoo answers at most 100." default:"100" minimum:"1" maximum:"100"`
}

// Product is a product or a product variant (GET .../products.json).
type Product struct {
	ProductID        int64    `json:"productid" description:"Unique over all sites of the account."`
	SKU              string   `json:"sku" description:"Stock keeping unit (article number)."`
	Title            *string  `json:"title" description:"Product name."`
	DescriptionShort *string  `json:"descriptionshort"`
	Description      *string  `json:"description"`
	MoneyPrice       *string  `json:"moneyprice" description:"Price in the default price list, a decimal string."`
	MoneyPriceOrg    *string  `json:"moneypriceorg" description:"Suggested retail price."`
	MoneyPriceIn     *string  `json:"moneypricein" description:"Purchase price, excluding VAT."`
	VATValue         *float64 `json:"vatvalue" description:"VAT in percent."`
	VATID            *int64   `json:"vatid" description:"Product group (which sets the VAT)."`
	UnitLabel        *string  `json:"unitlabel"`
	ActivePOS        *bool    `json:"activepos" description:"Shown in the point of sale."`
	StockCountEnable *bool    `json:"stockcountenable"`
	VariantParentID  *int64   `json:"variantparentid" description:"Null for a single product; the main variant's productid for a variant."`
	ManufacturerID   *int64   `json:"manufacturerid"`
	DefaultCategory  *int64   `json:"defaultcategoryid"`
	Categories       []string `json:"categories" description:"Category ids."`
	Barcode          *string  `json:"barcode"`
	BarcodeAliases   []string `json:"barcodealiases"`
	DateCreated      *int64   `json:"datecreated" description:"Unix time of creation."`
	DateModified     int64    `json:"datemodified" description:"Unix time of the last change; the replication key."`
}

// Order is an order, with its items and payments (GET .../orders.json).
type Order struct {
	OrderID            int64          `json:"orderid" description:"Ascending with time; the replication key."`
	EshopID            *int64         `json:"eshopid" description:"The site the order belongs to."`
	OrderTypeID        *int64         `json:"ordertypeid" description:"10: a sale."`
	OrderStateID       *int64         `json:"orderstateid" description:"0: new, 10: closed, 20: cancelled, ..."`
	PaymentStateID     *int64         `json:"paymentstateid"`
	OrderDate          *int64         `json:"orderdate" description:"Unix time the order was placed."`
	Email              *string        `json:"email"`
	NameFirst          *string        `json:"namefirst"`
	NameLast           *string        `json:"namelast"`
	Company            *string        `json:"company"`
	CurrencyCode       *string        `json:"currencycode"`
	MoneyFinalNet      *string        `json:"moneyfinal_net" description:"Total excluding VAT, a decimal string."`
	MoneyFinalVAT      *string        `json:"moneyfinal_vat"`
	MoneyTotalGrossAll *string        `json:"moneytotal_gross_all" description:"Total including VAT."`
	CheckoutTypeName   *string        `json:"checkouttypename"`
	DeliveryTypeName   *string        `json:"deliverytypename"`
	RegisterID         *string        `json:"registerid" description:"The cash register, for point-of-sale orders."`
	WarehouseID        *int64         `json:"warehouseid"`
	DateReserved       *int64         `json:"datereserved"`
	AdditionalData     map[string]any `json:"additionaldata"`
	OrderItems         []OrderItem    `json:"orderitems"`
	Payments           []Payment      `json:"payments"`
}

// OrderItem is one line of an order.
type OrderItem struct {
	OrderItemID          *int64   `json:"orderitemid"`
	ProductID            *int64   `json:"productid"`
	ProductName          *string  `json:"productname"`
	SKU                  *string  `json:"sku"`
	Quantity             *int64   `json:"quantity"`
	DecimalQuantityTotal *string  `json:"decimalquantitytotal"`
	VATValue             *float64 `json:"vatvalue"`
	MoneyItemTotalNet    *string  `json:"moneyitemtotal_net"`
	MoneyItemTotalVAT    *string  `json:"moneyitemtotal_vat"`
	MoneyDiscount        *string  `json:"moneydiscount"`
}

// Payment is one payment of an order.
type Payment struct {
	Name        *string `json:"name"`
	MoneyAmount *string `json:"moneyamount"`
	ExternalID  *string `json:"externalid"`
	RefType     *string `json:"reftype"`
	CardIssuer  *string `json:"cardissuer"`
}

// User is a customer (GET .../users.json).
type User struct {
	UserID         string  `json:"userid" description:"A GUID in braces."`
	Email          *string `json:"email"`
	NameFirst      *string `json:"namefirst"`
	NameLast       *string `json:"namelast"`
	Company        *string `json:"company"`
	Mobile         *string `json:"mobile"`
	CustomerNumber *string `json:"customernumber"`
	ExternalID     *string `json:"externalid"`
	DateCreated    *int64  `json:"datecreated" description:"Unix time."`
	DateModified   *int64  `json:"datemodified" description:"Unix time of the last change (the API cannot filter on it)."`
}

// Warehouse is a warehouse or store stock location (GET .../warehouses.json).
type Warehouse struct {
	WarehouseID   int64   `json:"warehouseid"`
	Name          *string `json:"name"`
	WarehouseType *int64  `json:"warehousetype"`
	UseType       *int64  `json:"usetype"`
	StoreID       *int64  `json:"storeid" description:"The store the warehouse belongs to, if any."`
	Sellable      *bool   `json:"sellable"`
	ExternalID    *string `json:"externalid"`
}

// WarehouseItem is the stock of one SKU in one warehouse
// (GET .../warehouses/{warehouseid}/warehouseitems.json).
type WarehouseItem struct {
	WarehouseID         int64   `json:"warehouseid" description:"The warehouse, added by the tap from the parent record."`
	WarehouseItemID     int64   `json:"warehouseitemid"`
	SKU                 string  `json:"sku"`
	BinLocation         *string `json:"binlocation"`
	DecimalTotal        *string `json:"decimaltotal" description:"Quantity in stock, a decimal string."`
	DecimalReserved     *string `json:"decimalreserved"`
	DecimalAvailable    *string `json:"decimalavailable"`
	DecimalThreshold    *string `json:"decimalthreshold"`
	MoneyTotal          *string `json:"moneytotal" description:"Stock value."`
	DateLastStocktaking *int64  `json:"datelaststocktaking"`
	DateLastModified    int64   `json:"datelastmodified" description:"Unix time of the last change; the replication key."`
}

// about is the description --about and the docs page show.
const about = `Products, orders, customers, warehouses and stock from the Sitoo REST API v2 (v2.15).

**Auth**: HTTP Basic with the API ID and its password, from the Sitoo Backoffice (Settings > Sitoo REST API). Sitoo also refuses requests from IP addresses the Backoffice does not allow; both show as a 401 and end the sync with a config error.

**Requests**: GET {base_url}/accounts/{account_id}/sites/{site_id}/{resource}.json, paged with start and num (at most 100) until the envelope's totalcount; the fields parameter names the selected fields. Sitoo's times are Unix seconds, so bookmarks are integers.

**Incremental**: products on datemodified (datelastmodified filter, from a second before the bookmark), warehouse stock on datelastmodified per warehouse (datelastmodifiedfrom filter), orders on orderid (orderidfrom, sort=orderid: new orders only, since Sitoo cannot filter on an order's changes). Users and warehouses are full refresh.

**Rate limits**: Sitoo publishes no quota; a 429 Too Many Requests is waited out (Retry-After honoured) and retried, like a 5xx. requests_per_second caps the rate. A 403 on one resource fails that stream only.`

// Source declares the connector.
func Source() *integ.Source {
	return integ.NewSource("sitoo", Config{},
		integ.WithTitle("Sitoo"),
		integ.WithDescription(about),
		integ.WithDocumentationURL("https://developer.sitoo.com/api/v2/quick-start.html"),
		integ.WithAuth(func(c Config, _ *integ.Session) (requests.Authenticator, error) {
			return requests.Basic(c.APIID, c.Password.Reveal()), nil
		}),
		integ.WithStreams(
			integ.NewStream("products", Product{}, products,
				integ.PrimaryKey("productid"),
				integ.Incremental("datemodified"),
				integ.EstimateFrom("totalcount"),
				integ.Description("Products and product variants of the site. Incremental on datemodified."),
			),
			integ.NewStream("orders", Order{}, orders,
				integ.PrimaryKey("orderid"),
				integ.Incremental("orderid"),
				integ.Sorted(),
				integ.EstimateFrom("totalcount"),
				integ.Description("Orders of the site, point of sale and web, with their items and payments. Incremental on orderid: new orders only (Sitoo cannot filter on an order's changes; a full refresh reads them)."),
			),
			integ.NewStream("users", User{}, list("users"),
				integ.PrimaryKey("userid"),
				integ.EstimateFrom("totalcount"),
				integ.Description("Customers of the site. Full refresh: the API cannot filter on modification time."),
			),
			integ.NewStream("warehouses", Warehouse{}, list("warehouses"),
				integ.PrimaryKey("warehouseid"),
				integ.EstimateFrom("totalcount"),
				integ.Description("Warehouses and store stock locations."),
			),
			integ.NewStream("warehouse_items", WarehouseItem{}, warehouseItems,
				integ.ChildOf("warehouses"),
				integ.PrimaryKey("warehouseid", "warehouseitemid"),
				integ.Incremental("datelastmodified"),
				integ.AddField("warehouseid", func(c *integ.HttpContext) any { return c.Parent().Get("warehouseid") }),
				integ.OnError(integ.SkipOn(http.StatusNotFound)),
				integ.Description("Stock per SKU of each warehouse (one request series per warehouse). Incremental on datelastmodified, with a bookmark per warehouse."),
			),
		),
	)
}

// site is {base_url}/accounts/{account_id}/sites/{site_id}.
func site(c *integ.HttpContext) (Config, string, error) {
	cfg, err := integ.ConfigOf[Config](c)
	if err != nil {
		return cfg, "", err
	}
	return cfg, strings.TrimRight(cfg.BaseURL, "/") + "/accounts/" + cfg.AccountID + "/sites/" + strconv.Itoa(cfg.SiteID), nil
}

// list reads one of the site's collections in full.
func list(resource string) integ.RunnerFunc {
	return func(c *integ.HttpContext) error {
		cfg, base, err := site(c)
		if err != nil {
			return err
		}
		return c.EmitPages(page(c, base+"/"+resource+".json", cfg.PageSize), pages(cfg.PageSize), "items")
	}
}

// products reads products changed from a second before the bookmark on:
// the reference leaves open whether datelastmodified is inclusive, and the
// engine drops the records older than the bookmark.
func products(c *integ.HttpContext) error {
	cfg, base, err := site(c)
	if err != nil {
		return err
	}
	first := page(c, base+"/products.json", cfg.PageSize)
	if b := c.Bookmark(); b.Exists() {
		first = first.Query("datelastmodified", strconv.FormatInt(b.Int()-1, 10))
	}
	return c.EmitPages(first, pages(cfg.PageSize), "items")
}

// orders reads orders by ascending orderid, from the bookmark on.
func orders(c *integ.HttpContext) error {
	cfg, base, err := site(c)
	if err != nil {
		return err
	}
	first := page(c, base+"/orders.json", cfg.PageSize).Query("sort", "orderid")
	if b := c.Bookmark(); b.Exists() {
		first = first.Query("orderidfrom", b.String())
	}
	return c.EmitPages(first, pages(cfg.PageSize), "items")
}

// warehouseItems reads the stock of the parent warehouse.
func warehouseItems(c *integ.HttpContext) error {
	cfg, base, err := site(c)
	if err != nil {
		return err
	}
	id := url.PathEscape(c.Parent().Get("warehouseid").String())
	first := page(c, base+"/warehouses/"+id+"/warehouseitems.json", cfg.PageSize, "warehouseid")
	if b := c.Bookmark(); b.Exists() {
		first = first.Query("datelastmodifiedfrom", b.String())
	}
	return c.EmitPages(first, pages(cfg.PageSize), "items")
}

// page is the first request of a list: start=0, num, and fields naming the
// selected fields but those the tap adds itself.
func page(c *integ.HttpContext, u string, size int, added ...string) *requests.Request {
	r := requests.New(u).Header("Accept", "application/json").Query("start", "0").Query("num", strconv.Itoa(size))
	var fields []string
	if plan := c.Plan(); plan != nil && plan.Schema != nil {
		for _, f := range plan.Schema.PropertyNames() {
			if !slices.Contains(added, f) {
				fields = append(fields, f)
			}
		}
	}
	if len(fields) > 0 {
		r = r.Query("fields", strings.Join(fields, ","))
	}
	return r
}

// pages advances start by the records read and stops when start plus the
// page's records reach the envelope's totalcount (or at an empty page).
func pages(size int) requests.Paginator {
	offset := requests.Offset("start", "num", size)
	return requests.PaginatorFunc(func(prev *requests.Request, resp *requests.JSONResponse, count int) (*requests.Request, error) {
		if resp != nil {
			start, _ := strconv.Atoi(prev.QueryValue("start"))
			if total := resp.Get("totalcount"); total.Exists() && int64(start+count) >= total.Int() {
				return nil, nil
			}
		}
		return offset.Next(prev, resp, count)
	})
}
