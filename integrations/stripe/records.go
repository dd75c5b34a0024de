package stripe

import "encoding/json"

// The record types declare the fields every pinned-version object has, with
// Stripe's nullability (pointers are nullable). Records are written as the
// API sends them: fields not declared here pass through unchanged, and
// nested objects kept as json.RawMessage are whatever Stripe returns.
// Timestamps are Unix seconds, as in the API.

// Customer is a Stripe customer (https://docs.stripe.com/api/customers/object).
type Customer struct {
	ID               string            `json:"id" description:"Unique identifier (cus_...)."`
	Object           string            `json:"object" description:"Always \"customer\"."`
	Address          json.RawMessage   `json:"address"`
	Balance          int64             `json:"balance" description:"Balance in the smallest currency unit; negative is a credit."`
	Created          int64             `json:"created" description:"Creation time, Unix seconds."`
	Currency         *string           `json:"currency"`
	Delinquent       *bool             `json:"delinquent"`
	Description      *string           `json:"description"`
	Email            *string           `json:"email"`
	InvoicePrefix    *string           `json:"invoice_prefix"`
	Livemode         bool              `json:"livemode"`
	Metadata         map[string]string `json:"metadata"`
	Name             *string           `json:"name"`
	Phone            *string           `json:"phone"`
	PreferredLocales []string          `json:"preferred_locales"`
	TaxExempt        *string           `json:"tax_exempt"`
}

// Charge is a Stripe charge (https://docs.stripe.com/api/charges/object).
type Charge struct {
	ID                 string            `json:"id" description:"Unique identifier (ch_ or py_...)."`
	Object             string            `json:"object" description:"Always \"charge\"."`
	Amount             int64             `json:"amount" description:"In the smallest currency unit."`
	AmountCaptured     int64             `json:"amount_captured"`
	AmountRefunded     int64             `json:"amount_refunded"`
	BalanceTransaction *string           `json:"balance_transaction"`
	BillingDetails     json.RawMessage   `json:"billing_details"`
	Captured           bool              `json:"captured"`
	Created            int64             `json:"created" description:"Creation time, Unix seconds."`
	Currency           string            `json:"currency"`
	Customer           *string           `json:"customer"`
	Description        *string           `json:"description"`
	Disputed           bool              `json:"disputed"`
	FailureCode        *string           `json:"failure_code"`
	FailureMessage     *string           `json:"failure_message"`
	Livemode           bool              `json:"livemode"`
	Metadata           map[string]string `json:"metadata"`
	Outcome            json.RawMessage   `json:"outcome"`
	Paid               bool              `json:"paid"`
	PaymentIntent      *string           `json:"payment_intent"`
	PaymentMethod      *string           `json:"payment_method"`
	ReceiptEmail       *string           `json:"receipt_email"`
	Refunded           bool              `json:"refunded"`
	Status             string            `json:"status" description:"succeeded, pending or failed."`
}

// Invoice is a Stripe invoice (https://docs.stripe.com/api/invoices/object).
type Invoice struct {
	ID               string            `json:"id" description:"Unique identifier (in_...)."`
	Object           string            `json:"object" description:"Always \"invoice\"."`
	AmountDue        int64             `json:"amount_due"`
	AmountPaid       int64             `json:"amount_paid"`
	AmountRemaining  int64             `json:"amount_remaining"`
	AttemptCount     int64             `json:"attempt_count"`
	BillingReason    *string           `json:"billing_reason"`
	CollectionMethod string            `json:"collection_method"`
	Created          int64             `json:"created" description:"Creation time, Unix seconds."`
	Currency         string            `json:"currency"`
	Customer         *string           `json:"customer"`
	CustomerEmail    *string           `json:"customer_email"`
	DueDate          *int64            `json:"due_date"`
	HostedInvoiceURL *string           `json:"hosted_invoice_url"`
	Lines            json.RawMessage   `json:"lines" description:"The first page of line items, as a list object."`
	Livemode         bool              `json:"livemode"`
	Metadata         map[string]string `json:"metadata"`
	Number           *string           `json:"number"`
	PeriodEnd        int64             `json:"period_end"`
	PeriodStart      int64             `json:"period_start"`
	Status           *string           `json:"status" description:"draft, open, paid, uncollectible or void."`
	Subtotal         int64             `json:"subtotal"`
	Total            int64             `json:"total"`
}

// InvoiceLineItem is one line of an invoice
// (https://docs.stripe.com/api/invoice-line-item/object).
type InvoiceLineItem struct {
	ID          string            `json:"id" description:"Unique identifier (il_...)."`
	Object      string            `json:"object" description:"Always \"line_item\"."`
	Invoice     *string           `json:"invoice" description:"The id of the invoice the line is on (in_...)."`
	Amount      int64             `json:"amount" description:"In the smallest currency unit."`
	Currency    string            `json:"currency"`
	Description *string           `json:"description"`
	Livemode    bool              `json:"livemode"`
	Metadata    map[string]string `json:"metadata"`
	Period      json.RawMessage   `json:"period" description:"start and end, Unix seconds."`
	Quantity    *int64            `json:"quantity"`
}

// Subscription is a Stripe subscription (https://docs.stripe.com/api/subscriptions/object).
type Subscription struct {
	ID                string            `json:"id" description:"Unique identifier (sub_...)."`
	Object            string            `json:"object" description:"Always \"subscription\"."`
	CancelAt          *int64            `json:"cancel_at"`
	CancelAtPeriodEnd bool              `json:"cancel_at_period_end"`
	CanceledAt        *int64            `json:"canceled_at"`
	CollectionMethod  string            `json:"collection_method"`
	Created           int64             `json:"created" description:"Creation time, Unix seconds."`
	Currency          string            `json:"currency"`
	Customer          string            `json:"customer"`
	EndedAt           *int64            `json:"ended_at"`
	Items             json.RawMessage   `json:"items" description:"The subscription items, as a list object."`
	LatestInvoice     *string           `json:"latest_invoice"`
	Livemode          bool              `json:"livemode"`
	Metadata          map[string]string `json:"metadata"`
	StartDate         int64             `json:"start_date"`
	Status            string            `json:"status" description:"incomplete, incomplete_expired, trialing, active, past_due, canceled, unpaid or paused."`
	TrialEnd          *int64            `json:"trial_end"`
	TrialStart        *int64            `json:"trial_start"`
}

// PaymentIntent is a Stripe PaymentIntent (https://docs.stripe.com/api/payment_intents/object),
// without its client_secret (see Source).
type PaymentIntent struct {
	ID                 string            `json:"id" description:"Unique identifier (pi_...)."`
	Object             string            `json:"object" description:"Always \"payment_intent\"."`
	Amount             int64             `json:"amount"`
	AmountCapturable   int64             `json:"amount_capturable"`
	AmountReceived     int64             `json:"amount_received"`
	CanceledAt         *int64            `json:"canceled_at"`
	CancellationReason *string           `json:"cancellation_reason"`
	CaptureMethod      string            `json:"capture_method"`
	ConfirmationMethod string            `json:"confirmation_method"`
	Created            int64             `json:"created" description:"Creation time, Unix seconds."`
	Currency           string            `json:"currency"`
	Customer           *string           `json:"customer"`
	Description        *string           `json:"description"`
	LastPaymentError   json.RawMessage   `json:"last_payment_error"`
	LatestCharge       *string           `json:"latest_charge"`
	Livemode           bool              `json:"livemode"`
	Metadata           map[string]string `json:"metadata"`
	PaymentMethod      *string           `json:"payment_method"`
	PaymentMethodTypes []string          `json:"payment_method_types"`
	ReceiptEmail       *string           `json:"receipt_email"`
	Status             string            `json:"status"`
}

// BalanceTransaction is a movement of funds in the Stripe balance
// (https://docs.stripe.com/api/balance_transactions/object).
type BalanceTransaction struct {
	ID                string          `json:"id" description:"Unique identifier (txn_...)."`
	Object            string          `json:"object" description:"Always \"balance_transaction\"."`
	Amount            int64           `json:"amount"`
	AvailableOn       int64           `json:"available_on" description:"When the funds become available, Unix seconds."`
	Created           int64           `json:"created" description:"Creation time, Unix seconds."`
	Currency          string          `json:"currency"`
	Description       *string         `json:"description"`
	ExchangeRate      *float64        `json:"exchange_rate"`
	Fee               int64           `json:"fee"`
	FeeDetails        json.RawMessage `json:"fee_details"`
	Net               int64           `json:"net"`
	ReportingCategory string          `json:"reporting_category"`
	Source            *string         `json:"source" description:"The object that caused the transaction (ch_, re_, po_...)."`
	Status            string          `json:"status" description:"available or pending."`
	Type              string          `json:"type"`
}

// Event is a change to a Stripe object (https://docs.stripe.com/api/events/object).
type Event struct {
	ID              string          `json:"id" description:"Unique identifier (evt_...)."`
	Object          string          `json:"object" description:"Always \"event\"."`
	Account         *string         `json:"account" description:"The connected account the event is about (Connect)."`
	APIVersion      *string         `json:"api_version" description:"The API version data.object is rendered in: the account's at the time of the event."`
	Created         int64           `json:"created" description:"Creation time, Unix seconds."`
	Data            EventData       `json:"data"`
	Livemode        bool            `json:"livemode"`
	PendingWebhooks int64           `json:"pending_webhooks"`
	Request         json.RawMessage `json:"request"`
	Type            string          `json:"type" description:"What happened: customer.updated, charge.refunded, invoice.paid, ..."`
}

// EventData is the object an event is about, after the change.
type EventData struct {
	Object             json.RawMessage `json:"object" description:"The object after the change, in full."`
	PreviousAttributes json.RawMessage `json:"previous_attributes" description:"For *.updated events: the changed fields' previous values."`
}
