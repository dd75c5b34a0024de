// Package shopify is the Shopify connector: it reads a shop through the
// GraphQL Admin API, version 2026-01 by default (the api_version setting
// pins another), at POST {base_url}/admin/api/{api_version}/graphql.json,
// where base_url defaults to https://{shop}.myshopify.com.
//
// # Streams
//
// Every stream has the primary key id (a global ID such as
// gid://shopify/Order/450789469), the replication key updatedAt, and
// supports incremental and full-refresh syncs. Field names are the API's.
//
//	stream           query                        order                 bookmark moves
//	customers        customers                    sortKey: UPDATED_AT   at each checkpoint
//	orders           orders                       sortKey: UPDATED_AT   at each checkpoint
//	products         products                     sortKey: UPDATED_AT   at each checkpoint
//	inventory_items  inventoryItems               none (no sort key)    when the stream completes
//	fulfillments     orders { fulfillments }      by order              when the stream completes
//	refunds          orders { refunds }           by order              when the stream completes
//
// A query is
//
//	query orders($first: Int!, $after: String, $query: String) {
//	  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
//	    nodes { id ... updatedAt }
//	    pageInfo { hasNextPage endCursor }
//	  }
//	}
//
// with the variables first (page_size), after (the previous page's
// endCursor, null on the first page) and query, Shopify's search syntax
// updated_at:>='2024-05-01T00:00:00Z' from the stream's bookmark
// (inclusive), or from start_date, or null to read everything. Pages are
// followed while pageInfo.hasNextPage is true.
//
// fulfillments and refunds are lists on each order (Order.fulfillments,
// Order.refunds), not connections of their own: they are read with the
// orders updated since their own bookmark, one record per element, each
// with order { id }. They are not child streams of orders on purpose: a
// child stream whose parent is not selected re-reads every order, where
// this reads only the orders updated since the child's bookmark.
//
// # Auth
//
// credentials is a oneOf (auth_method):
//
//   - access_token: an Admin API access token (shpat_...) of an app
//     installed on the shop;
//   - client_credentials: a Dev Dashboard app's client_id and
//     client_secret, exchanged at POST {base_url}/admin/oauth/access_token
//     (grant_type=client_credentials, a form) for a token valid 24 hours,
//     renewed a minute before it ends and once after a 401. Shopify offers
//     this grant to apps of the shop's own organization.
//
// Either token is sent as X-Shopify-Access-Token, to the API's host only
// (a bulk operation's download link is another host and never gets it),
// and never printed. The authorization-code grant (a public app installed
// by a merchant) is not offered. Scopes: read_customers, read_orders,
// read_products, read_inventory. A token Shopify refuses (401) or a
// refused client secret is a config error; a missing scope (GraphQL
// ACCESS_DENIED) fails the streams that need it and the others sync.
//
// # Rate limits
//
// The GraphQL Admin API limits by calculated query cost: each app and shop
// has a leaky bucket of points (maximumAvailable) restored at restoreRate
// points a second, and every response reports it in
// extensions.cost.throttleStatus with the query's requestedQueryCost. The
// connector waits, before each query, until the bucket (as last reported,
// restored since) holds the last query's cost on top of the cost of the
// queries still in flight (parallel streams, prefetched pages), so
// Shopify is not sent a query it would refuse; the first query goes alone
// to learn the bucket's state. In parallel a report can be stale (Shopify
// may charge two queries in another order than they were sent), and a
// rare THROTTLED answer follows. A THROTTLED answer (a GraphQL error with HTTP 200)
// is waited out for exactly the time the bucket needs to refill and the
// query is sent again; so is an HTTP 429 (Retry-After), a 5xx or a GraphQL
// INTERNAL_SERVER_ERROR, with backoff, up to max_attempts.
//
// # Bulk operations
//
// With bulk_operations, customers, orders, products and inventory_items
// are read with one bulk operation each: bulkOperationRunQuery with the
// same fields and filter (edges { node { ... } }, sortKey: UPDATED_AT
// where the connection has one), node(id:) polled every bulk_poll_seconds
// until COMPLETED, then the JSON Lines file at url streamed in constant
// memory. The queries select no nested connection, so no line carries a
// __parentId. Shopify runs one bulk query per app and shop at a time; a
// refused or failed operation fails the stream as transient.
//
// # Pages followed
//
//   - https://shopify.dev/docs/api/admin-graphql (queries customers,
//     orders, products, inventoryItems; objects Order, Fulfillment, Refund)
//   - https://shopify.dev/docs/api/usage/pagination-graphql
//   - https://shopify.dev/docs/api/usage/search-syntax
//   - https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
//   - https://shopify.dev/docs/api/usage/bulk-operations/queries
//   - https://shopify.dev/docs/api/usage/access-scopes
//   - https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/client-credentials-grant
package shopify
