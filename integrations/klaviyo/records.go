package klaviyo

import "encoding/json"

// The record types describe each stream's record as written: the JSON:API
// resource's id and type with its attributes lifted beside them. Fields the
// API adds in later revisions pass through unchanged.

// Profile is one profile of the profiles stream.
type Profile struct {
	ID            string          `json:"id" description:"The profile's Klaviyo ID."`
	Type          string          `json:"type" description:"Always \"profile\"."`
	Email         *string         `json:"email" description:"The profile's email address."`
	PhoneNumber   *string         `json:"phone_number" description:"The profile's phone number, E.164."`
	ExternalID    *string         `json:"external_id" description:"The profile's ID in another system."`
	FirstName     *string         `json:"first_name"`
	LastName      *string         `json:"last_name"`
	Organization  *string         `json:"organization"`
	Locale        *string         `json:"locale" description:"IETF language tag, e.g. en-US."`
	Title         *string         `json:"title" description:"Job title."`
	Image         *string         `json:"image" description:"URL of the profile's image."`
	Created       *string         `json:"created" format:"date-time" description:"When the profile was created."`
	Updated       string          `json:"updated" format:"date-time" description:"When the profile was last updated: the replication key."`
	LastEventDate *string         `json:"last_event_date" format:"date-time" description:"When the profile's last event happened."`
	Location      *Location       `json:"location"`
	Properties    json.RawMessage `json:"properties" description:"Custom properties, as set by the account."`
}

// Location is a profile's postal and network location.
type Location struct {
	Address1  *string         `json:"address1"`
	Address2  *string         `json:"address2"`
	City      *string         `json:"city"`
	Country   *string         `json:"country"`
	Latitude  json.RawMessage `json:"latitude" description:"A number, or a string holding one."`
	Longitude json.RawMessage `json:"longitude" description:"A number, or a string holding one."`
	Region    *string         `json:"region"`
	Zip       *string         `json:"zip"`
	Timezone  *string         `json:"timezone" description:"IANA time zone name."`
	IP        *string         `json:"ip"`
}

// Event is one event of the events stream.
type Event struct {
	ID              string             `json:"id" description:"The event's Klaviyo ID."`
	Type            string             `json:"type" description:"Always \"event\"."`
	Timestamp       *int64             `json:"timestamp" description:"When the event happened, in Unix seconds."`
	Datetime        string             `json:"datetime" format:"date-time" description:"When the event happened: the replication key."`
	UUID            *string            `json:"uuid" description:"The event's UUID."`
	EventProperties json.RawMessage    `json:"event_properties" description:"The event's own properties (the order's items, the email's subject...)."`
	Relationships   EventRelationships `json:"relationships" description:"The profile and the metric of the event."`
}

// EventRelationships names the resources an event belongs to.
type EventRelationships struct {
	Profile *Relationship `json:"profile"`
	Metric  *Relationship `json:"metric"`
}

// Relationship is a JSON:API to-one relationship.
type Relationship struct {
	Data *ResourceID `json:"data"`
}

// ResourceID identifies a JSON:API resource.
type ResourceID struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// List is one list of the lists stream.
type List struct {
	ID           string  `json:"id" description:"The list's Klaviyo ID."`
	Type         string  `json:"type" description:"Always \"list\"."`
	Name         string  `json:"name"`
	Created      *string `json:"created" format:"date-time"`
	Updated      *string `json:"updated" format:"date-time"`
	OptInProcess *string `json:"opt_in_process" description:"single_opt_in or double_opt_in."`
}

// Campaign is one campaign of the campaigns stream.
type Campaign struct {
	ID              string          `json:"id" description:"The campaign's Klaviyo ID."`
	Type            string          `json:"type" description:"Always \"campaign\"."`
	Name            string          `json:"name"`
	Status          string          `json:"status" description:"Draft, Scheduled, Sending, Sent, Cancelled..."`
	Archived        bool            `json:"archived"`
	Audiences       json.RawMessage `json:"audiences" description:"The lists and segments included and excluded."`
	SendOptions     json.RawMessage `json:"send_options"`
	TrackingOptions json.RawMessage `json:"tracking_options"`
	SendStrategy    json.RawMessage `json:"send_strategy"`
	CreatedAt       *string         `json:"created_at" format:"date-time"`
	ScheduledAt     *string         `json:"scheduled_at" format:"date-time"`
	UpdatedAt       *string         `json:"updated_at" format:"date-time"`
	SendTime        *string         `json:"send_time" format:"date-time"`
}

// Metric is one metric of the metrics stream.
type Metric struct {
	ID          string          `json:"id" description:"The metric's Klaviyo ID."`
	Type        string          `json:"type" description:"Always \"metric\"."`
	Name        string          `json:"name" description:"The metric's name, e.g. Placed Order."`
	Created     *string         `json:"created" format:"date-time"`
	Updated     *string         `json:"updated" format:"date-time"`
	Integration json.RawMessage `json:"integration" description:"The integration that records the metric (id, name, category), null for custom metrics."`
}

// ListMember is one profile of one list, in the list_members stream.
type ListMember struct {
	ListID string `json:"list_id" description:"The list's Klaviyo ID."`
	ID     string `json:"id" description:"The profile's Klaviyo ID."`
	Type   string `json:"type" description:"Always \"profile\"."`
}
