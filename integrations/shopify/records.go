package shopify

import "time"

// The record types below give each stream its schema. Field names are the
// GraphQL Admin API's own (camelCase); IDs are global IDs
// (gid://shopify/Order/450789469); amounts are decimal strings, as the API
// sends them.

// Money is an amount in one currency.
type Money struct {
	Amount       string `json:"amount" description:"Decimal amount, as a string."`
	CurrencyCode string `json:"currencyCode" description:"ISO 4217 code."`
}

// MoneyBag is an amount in the shop's and the customer's currency.
type MoneyBag struct {
	ShopMoney        Money `json:"shopMoney"`
	PresentmentMoney Money `json:"presentmentMoney"`
}

// Ref is a reference to another object by its global ID.
type Ref struct {
	ID string `json:"id"`
}

// Customer is a record of the customers stream.
type Customer struct {
	ID             string    `json:"id" description:"Global ID (gid://shopify/Customer/...)."`
	DisplayName    string    `json:"displayName"`
	FirstName      *string   `json:"firstName"`
	LastName       *string   `json:"lastName"`
	State          string    `json:"state" description:"DISABLED, INVITED, ENABLED or DECLINED."`
	Note           *string   `json:"note"`
	Tags           []string  `json:"tags"`
	VerifiedEmail  bool      `json:"verifiedEmail"`
	TaxExempt      bool      `json:"taxExempt"`
	NumberOfOrders string    `json:"numberOfOrders" description:"An UnsignedInt64, sent as a string."`
	AmountSpent    Money     `json:"amountSpent"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt" description:"Replication key."`
}

// Order is a record of the orders stream.
type Order struct {
	ID                       string     `json:"id" description:"Global ID (gid://shopify/Order/...)."`
	Name                     string     `json:"name" description:"The order's name in the shop (#1001)."`
	Email                    *string    `json:"email"`
	Phone                    *string    `json:"phone"`
	CreatedAt                time.Time  `json:"createdAt"`
	UpdatedAt                time.Time  `json:"updatedAt" description:"Replication key."`
	ProcessedAt              time.Time  `json:"processedAt"`
	ClosedAt                 *time.Time `json:"closedAt"`
	CancelledAt              *time.Time `json:"cancelledAt"`
	CancelReason             *string    `json:"cancelReason"`
	DisplayFinancialStatus   *string    `json:"displayFinancialStatus"`
	DisplayFulfillmentStatus string     `json:"displayFulfillmentStatus"`
	Confirmed                bool       `json:"confirmed"`
	Test                     bool       `json:"test"`
	CurrencyCode             string     `json:"currencyCode"`
	Tags                     []string   `json:"tags"`
	Note                     *string    `json:"note"`
	TotalPriceSet            MoneyBag   `json:"totalPriceSet"`
	SubtotalPriceSet         *MoneyBag  `json:"subtotalPriceSet"`
	TotalTaxSet              *MoneyBag  `json:"totalTaxSet"`
	TotalDiscountsSet        *MoneyBag  `json:"totalDiscountsSet"`
	TotalRefundedSet         MoneyBag   `json:"totalRefundedSet"`
	Customer                 *Ref       `json:"customer"`
}

// Product is a record of the products stream.
type Product struct {
	ID             string     `json:"id" description:"Global ID (gid://shopify/Product/...)."`
	Title          string     `json:"title"`
	Handle         string     `json:"handle"`
	Vendor         string     `json:"vendor"`
	ProductType    string     `json:"productType"`
	Status         string     `json:"status" description:"ACTIVE, ARCHIVED or DRAFT."`
	Tags           []string   `json:"tags"`
	TotalInventory int        `json:"totalInventory"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt" description:"Replication key."`
	PublishedAt    *time.Time `json:"publishedAt"`
}

// InventoryItem is a record of the inventory_items stream.
type InventoryItem struct {
	ID                   string    `json:"id" description:"Global ID (gid://shopify/InventoryItem/...)."`
	SKU                  *string   `json:"sku"`
	Tracked              bool      `json:"tracked"`
	RequiresShipping     bool      `json:"requiresShipping"`
	CountryCodeOfOrigin  *string   `json:"countryCodeOfOrigin"`
	HarmonizedSystemCode *string   `json:"harmonizedSystemCode"`
	UnitCost             *Money    `json:"unitCost"`
	CreatedAt            time.Time `json:"createdAt"`
	UpdatedAt            time.Time `json:"updatedAt" description:"Replication key."`
}

// Fulfillment is a record of the fulfillments stream.
type Fulfillment struct {
	ID                  string     `json:"id" description:"Global ID (gid://shopify/Fulfillment/...)."`
	Name                string     `json:"name"`
	Status              string     `json:"status"`
	DisplayStatus       *string    `json:"displayStatus"`
	CreatedAt           time.Time  `json:"createdAt"`
	UpdatedAt           time.Time  `json:"updatedAt" description:"Replication key."`
	DeliveredAt         *time.Time `json:"deliveredAt"`
	EstimatedDeliveryAt *time.Time `json:"estimatedDeliveryAt"`
	InTransitAt         *time.Time `json:"inTransitAt"`
	TotalQuantity       int        `json:"totalQuantity"`
	TrackingInfo        []struct {
		Company *string `json:"company"`
		Number  *string `json:"number"`
		URL     *string `json:"url"`
	} `json:"trackingInfo"`
	Location *Ref `json:"location"`
	Order    Ref  `json:"order" description:"The order fulfilled."`
}

// Refund is a record of the refunds stream.
type Refund struct {
	ID               string     `json:"id" description:"Global ID (gid://shopify/Refund/...)."`
	Note             *string    `json:"note"`
	CreatedAt        *time.Time `json:"createdAt"`
	UpdatedAt        time.Time  `json:"updatedAt" description:"Replication key."`
	TotalRefundedSet MoneyBag   `json:"totalRefundedSet"`
	Order            Ref        `json:"order" description:"The order refunded."`
}
