package shopify

import (
	"fmt"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// resource is one stream: a GraphQL connection of the Admin API, the
// fields asked for of each node, and how the stream reads it.
type resource struct {
	name   string // stream
	doc    string
	record any    // Go type the schema is generated from
	root   string // the query's connection (orders)
	fields string // selection set of one record
	// list, when set, is a list field of each node whose elements are the
	// records (an order's fulfillments): they come with the parent's
	// pages, filtered on the parent's updated_at.
	list     string
	sortable bool // the connection takes sortKey: UPDATED_AT
}

const money = `shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }`

var resources = []resource{
	{name: "customers", doc: "The shop's customers (customers query), oldest update first.", record: Customer{}, root: "customers", sortable: true,
		fields: `id displayName firstName lastName state note tags verifiedEmail taxExempt numberOfOrders amountSpent { amount currencyCode } createdAt updatedAt`},
	{name: "orders", doc: "Orders (orders query), oldest update first, with their totals in shop and presentment currencies.", record: Order{}, root: "orders", sortable: true,
		fields: `id name email phone createdAt updatedAt processedAt closedAt cancelledAt cancelReason displayFinancialStatus displayFulfillmentStatus confirmed test currencyCode tags note totalPriceSet { ` + money + ` } subtotalPriceSet { ` + money + ` } totalTaxSet { ` + money + ` } totalDiscountsSet { ` + money + ` } totalRefundedSet { ` + money + ` } customer { id }`},
	{name: "products", doc: "Products (products query), oldest update first.", record: Product{}, root: "products", sortable: true,
		fields: `id title handle vendor productType status tags totalInventory createdAt updatedAt publishedAt`},
	{name: "inventory_items", doc: "Inventory items (inventoryItems query): SKU, cost and origin of each variant's stock unit. The query takes no sort key, so the bookmark moves when the stream completes.", record: InventoryItem{}, root: "inventoryItems",
		fields: `id sku tracked requiresShipping countryCodeOfOrigin harmonizedSystemCode unitCost { amount currencyCode } createdAt updatedAt`},
	{name: "fulfillments", doc: "Each order's fulfillments (Order.fulfillments), read with the orders updated since the stream's bookmark; the bookmark moves when the stream completes.", record: Fulfillment{}, root: "orders", list: "fulfillments", sortable: true,
		fields: `id name status displayStatus createdAt updatedAt deliveredAt estimatedDeliveryAt inTransitAt totalQuantity trackingInfo { company number url } location { id } order { id }`},
	{name: "refunds", doc: "Each order's refunds (Order.refunds), read with the orders updated since the stream's bookmark; the bookmark moves when the stream completes.", record: Refund{}, root: "orders", list: "refunds", sortable: true,
		fields: `id note createdAt updatedAt totalRefundedSet { ` + money + ` } order { id }`},
}

func (r resource) stream() *integ.Stream {
	opts := []integ.StreamOption{
		integ.PrimaryKey("id"),
		integ.Incremental("updatedAt"),
		integ.Description(r.doc),
	}
	if r.sortable && r.list == "" {
		opts = append(opts, integ.Sorted())
	}
	return integ.NewStream(r.name, r.record, r.run, opts...)
}

// query is the paged GraphQL document: the connection's nodes (or each
// node's list field) and its pageInfo.
func (r resource) query() string {
	sel := r.fields
	if r.list != "" {
		sel = "id " + r.list + " { " + r.fields + " }"
	}
	sort := ""
	if r.sortable {
		sort = ", sortKey: UPDATED_AT"
	}
	return fmt.Sprintf("query %s($first: Int!, $after: String, $query: String) { %s(first: $first, after: $after, query: $query%s) { nodes { %s } pageInfo { hasNextPage endCursor } } }",
		r.root, r.root, sort, sel)
}

// recordsPath is where a page's records are in the response.
func (r resource) recordsPath() string {
	if r.list != "" {
		return "data." + r.root + ".nodes.#." + r.list + "|@flatten"
	}
	return "data." + r.root + ".nodes"
}

// filter is Shopify's search syntax for the records updated since the
// bookmark (inclusive), or since start_date; "" reads every record.
func filter(c *integ.HttpContext, cfg Config) string {
	since := cfg.StartDate
	if b := c.Bookmark(); b.Exists() && b.String() != "" {
		since = b.String()
	}
	if since == "" {
		return ""
	}
	return "updated_at:>='" + strings.ReplaceAll(since, "'", "") + "'"
}

// run reads the stream with paged queries, or with a bulk operation when
// the config asks for one and the stream has no list field.
func (r resource) run(c *integ.HttpContext) error {
	cfg, err := integ.ConfigOf[Config](c)
	if err != nil {
		return err
	}
	if cfg.Bulk && r.list == "" {
		return r.bulk(c, cfg)
	}
	vars := map[string]any{"first": cfg.PageSize, "after": nil, "query": nil}
	if f := filter(c, cfg); f != "" {
		vars["query"] = f
	}
	first := graphQL(cfg.endpoint(), r.query(), vars)
	return c.EmitPages(first, cursor(r.root, cfg.endpoint(), r.query(), vars), r.recordsPath())
}

// cursor pages a connection: while pageInfo.hasNextPage, the same query
// again with variables.after set to pageInfo.endCursor. It ignores the
// record count: a page of orders may hold no fulfillment and still have a
// next page.
func cursor(root, endpoint, query string, vars map[string]any) requests.Paginator {
	return requests.PaginatorFunc(func(_ *requests.Request, resp *requests.JSONResponse, _ int) (*requests.Request, error) {
		info := resp.Get("data." + root + ".pageInfo")
		if !info.Get("hasNextPage").Bool() {
			return nil, nil
		}
		after := info.Get("endCursor").String()
		if after == "" {
			return nil, fmt.Errorf("%s says hasNextPage but gives no endCursor", root)
		}
		next := make(map[string]any, len(vars))
		for k, v := range vars {
			next[k] = v
		}
		next["after"] = after
		return graphQL(endpoint, query, next), nil
	})
}
