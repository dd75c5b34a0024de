// Package rest is the generic REST connector: its streams are declared in
// its config rather than in Go, for the many APIs that do not deserve a
// hand-written connector. It runs on the same framework as every other
// integration (retries, rate limits, pagination, incremental state, child
// streams, the Singer and Airbyte protocols), so a JSON file is all a new
// API needs:
//
//	{
//	  "base_url": "https://api.stripe.com/v1",
//	  "auth": {"type": "bearer", "token": "sk_live_..."},
//	  "start_date": "2024-01-01T00:00:00Z",
//	  "streams": [{
//	    "name": "customers",
//	    "path": "/customers",
//	    "records_path": "data",
//	    "primary_key": ["id"],
//	    "replication_key": "created",
//	    "params": {"limit": 100, "created[gte]": "{{bookmark | unix}}"},
//	    "pagination": {"type": "last_record", "field": "id", "param": "starting_after", "has_more_path": "has_more"}
//	  }]
//	}
//
// Each stream reads base_url+path (GET, or POST with a JSON body), finds the
// records at records_path (a gjson path) and follows its pagination until a
// stop condition holds: an empty page, no next link or token, has_more_path
// not true, a short page when short_page_ends says so; each stop is logged
// with its reason and max_pages fails a list that never ends. params and
// body strings are templates ({{bookmark | unix}}, {{start_date}}, {{now}},
// {{parent.id}}). A stream with a replication_key (nested keys with dots)
// is incremental; one with a parent is read once per parent record with a
// bookmark per partition. A stream with no schema has one inferred in
// discover from a sample of its records, marked as inferred; read takes
// schemas from the catalog.
//
// Every key and stream declaration is checked before any request is made;
// errors name the stream, the field and the closest valid spelling, and are
// config errors, so check and discover fail with them. See README.md for the
// reference and worked Stripe, GitHub and Klaviyo configs.
package rest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// Config is the connector's config: where the API is, how to authenticate
// and which streams to read. Its JSON Schema (spec, --about, validation) is
// generated from these types. A key that none of these types declares, at
// any depth, is an error naming the closest valid key (see unknownKeys).
type Config struct {
	BaseURL   string         `json:"base_url" title:"Base URL" description:"Root URL of the API; stream paths are relative to it." format:"uri" pattern:"^https?://" examples:"http://127.0.0.1:3000"`
	Auth      *Auth          `json:"auth,omitempty" title:"Authentication" description:"How requests authenticate. Put credentials here rather than in headers or params: only these fields are treated as secrets."`
	Headers   Values         `json:"headers,omitempty" title:"Headers" description:"HTTP headers sent with every request: an object of header names and their values (strings, numbers or booleans)."`
	StartDate string         `json:"start_date,omitempty" title:"Start date" description:"Where a first sync of an incremental stream starts: {{bookmark}} in params and body stands for it until the stream has a bookmark. RFC 3339 date-time or YYYY-MM-DD." examples:"2024-01-01T00:00:00Z"`
	Streams   []StreamConfig `json:"streams" title:"Streams" description:"The API's endpoints to read, one stream each."`
}

// Auth types.
const (
	AuthNone   = "none"
	AuthAPIKey = "api_key"
	AuthBearer = "bearer"
	AuthBasic  = "basic"
)

// Auth selects an authentication scheme. Only the fields of the chosen type
// are used; the secrets are never logged.
type Auth struct {
	Type     string       `json:"type" title:"Type" description:"none, api_key (name, value, in), bearer (token) or basic (username, password)." enum:"none,api_key,bearer,basic" default:"none"`
	Name     string       `json:"name,omitempty" title:"API key name" description:"api_key: the header or query parameter that carries the key." examples:"X-API-Key"`
	Value    integ.Secret `json:"value,omitempty" title:"API key" description:"api_key: the key (with its scheme when the header wants one: Klaviyo-API-Key pk_...)."`
	In       string       `json:"in,omitempty" title:"API key location" description:"api_key: send the key as a header or a query parameter." enum:"header,query" default:"header"`
	Token    integ.Secret `json:"token,omitempty" title:"Bearer token" description:"bearer: sent as Authorization: Bearer followed by the token."`
	Username string       `json:"username,omitempty" title:"Username" description:"basic: the user name."`
	Password integ.Secret `json:"password,omitempty" title:"Password" description:"basic: the password."`
}

// Record formats.
const (
	FormatJSON      = "json"
	FormatJSONLines = "jsonl"
)

// StreamConfig declares one stream. Fields that only some values of another
// field use are checked by the connector, which names the stream in its
// errors, rather than by the config schema.
type StreamConfig struct {
	Name             string          `json:"name" title:"Name" description:"The stream's name, unique in the config." examples:"posts"`
	Path             string          `json:"path,omitempty" title:"Path" description:"Required. The endpoint: a path relative to base_url, or an absolute URL. A child stream's path may use fields of its parent's record: /repos/{{parent.owner.login}}/{{parent.name}}/issues." examples:"/posts"`
	Method           string          `json:"method,omitempty" title:"Method" description:"GET (the default) or POST (a search endpoint: the body is sent as JSON)."`
	Body             json.RawMessage `json:"body,omitempty" title:"Body" description:"POST: the JSON body of the first request; its strings may hold templates ({{bookmark}}, {{start_date}}, {{now}})."`
	Format           string          `json:"format,omitempty" title:"Format" description:"json (the default): one JSON document per page; jsonl: one record per line (JSON Lines), read as it arrives."`
	RecordsPath      string          `json:"records_path,omitempty" title:"Records path" description:"gjson path to the array of records in the response; empty: the body is the array." examples:"data"`
	RecordFilter     string          `json:"record_filter,omitempty" title:"Record filter" description:"gjson condition a record must meet to be kept, as in a gjson query: state==\"open\", price>10, tags.#>0." examples:"state==\"open\""`
	PrimaryKey       []string        `json:"primary_key,omitempty" title:"Primary key" description:"Top-level fields that identify a record."`
	ReplicationKey   string          `json:"replication_key,omitempty" title:"Replication key" description:"Field that grows when a record changes (updated_at); dots reach into objects (attributes.updated, commit.committer.date). Makes the stream incremental." examples:"updated_at"`
	IncrementalParam string          `json:"incremental_param,omitempty" title:"Incremental parameter" description:"Query parameter that receives the bookmark as it is (the same as params {\"name\": \"{{bookmark}}\"}). Use params templates for another shape." examples:"updated_at_gte"`
	Sorted           bool            `json:"sorted,omitempty" title:"Sorted" description:"The API returns records in ascending replication_key order (set params to ask for it), so the bookmark advances at every checkpoint instead of only when the stream completes."`
	Params           Values          `json:"params,omitempty" title:"Query parameters" description:"Query parameters of the first request: an object of names and values. Values may hold templates: {{bookmark}} (the stream's bookmark, else start_date; a parameter whose value is unknown is left out), {{start_date}}, {{now}}, {{parent.<field>}}, each with an optional format: {{bookmark | unix}} (rfc3339, date, unix, unix_ms)." examples:"{\"since\": \"{{bookmark}}\"}"`
	Parent           string          `json:"parent,omitempty" title:"Parent stream" description:"Makes this a child stream: it is read once per record of the named stream, whose fields its path, params and body can use ({{parent.id}}), with one bookmark per parent record."`
	PartitionKey     string          `json:"partition_key,omitempty" title:"Partition key" description:"Child streams: the parent record's field that names its partition in the state (default: the parent's primary key)." examples:"full_name"`
	Pagination       *Pagination     `json:"pagination,omitempty" title:"Pagination" description:"How to get the next page; absent: one request."`
	Schema           json.RawMessage `json:"schema,omitempty" title:"Schema" description:"JSON Schema of the records; absent or null: inferred in discover from a sample of records."`
}

// Pagination types.
const (
	PageNone       = "none"
	PagePage       = "page"
	PageOffset     = "offset"
	PageLinkHeader = "link_header"
	PageNextURL    = "next_url"
	PageCursor     = "cursor"
	PageLastRecord = "last_record"
	PageBodyCursor = "body_cursor"
)

// defaultMaxPages is the page cap of a stream that sets none.
const defaultMaxPages = 10000

// Pagination declares how a stream pages. Which fields apply depends on the
// type; a field the type does not use is an error.
type Pagination struct {
	Type          string `json:"type,omitempty" title:"Type" description:"none; page (page_param, size_param, size, start); offset (offset_param, limit_param, size); link_header (follows rel=\"next\"); next_url (path to the next URL in the body); cursor (path to the token in the body, param to send it in); last_record (field of the page's last record sent as param: Stripe's starting_after); body_cursor (POST: path to the token, field of the body that receives it)." examples:"page"`
	PageParam     string `json:"page_param,omitempty" title:"Page parameter" description:"page: the page number parameter (default page)."`
	SizeParam     string `json:"size_param,omitempty" title:"Page size parameter" description:"page, link_header, next_url, cursor, last_record: parameter that receives size (per_page, page[size], limit)."`
	Size          int    `json:"size,omitempty" title:"Page size" description:"Records asked for per page. A shorter page ends the list only with short_page_ends."`
	Start         *int   `json:"start,omitempty" title:"First page" description:"page: the number of the first page (default 1)."`
	OffsetParam   string `json:"offset_param,omitempty" title:"Offset parameter" description:"offset: the offset parameter (default offset)."`
	LimitParam    string `json:"limit_param,omitempty" title:"Limit parameter" description:"offset: parameter that receives size (default limit)."`
	Path          string `json:"path,omitempty" title:"Path" description:"next_url: gjson path to the next page's URL in the body; cursor, body_cursor: gjson path to the next page's token." examples:"links.next"`
	Param         string `json:"param,omitempty" title:"Cursor parameter" description:"cursor, last_record: the query parameter that receives the token." examples:"starting_after"`
	Field         string `json:"field,omitempty" title:"Field" description:"last_record: the record field sent as param (default id); body_cursor: the top-level body field that receives the token." examples:"id"`
	HasMorePath   string `json:"has_more_path,omitempty" title:"Has-more path" description:"gjson path to a boolean in the body: the list ends when it is not true (Stripe's has_more)." examples:"has_more"`
	ShortPageEnds bool   `json:"short_page_ends,omitempty" title:"Short page ends" description:"A page with fewer than size records is the last (only for APIs documented to fill every page but the last; many cap pages below the size asked for)."`
	MaxPages      int    `json:"max_pages,omitempty" title:"Page cap" description:"The stream fails when it has read this many pages and the API offers another (default 10000)."`
}

// Values is a map of header or query parameter values. Strings, numbers and
// booleans are accepted (and sent as text), so "_limit": 100 works.
type Values map[string]string

// UnmarshalJSON accepts an object of scalar values.
func (v *Values) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("must be an object of strings: %w", err)
	}
	if raw == nil {
		*v = nil
		return nil
	}
	out := make(Values, len(raw))
	for k, r := range raw {
		var s string
		if string(r) == "null" {
			return fmt.Errorf("the value of %q must be a string, a number or a boolean", k)
		}
		if json.Unmarshal(r, &s) == nil {
			out[k] = s
			continue
		}
		var b bool
		if json.Unmarshal(r, &b) == nil {
			out[k] = strconv.FormatBool(b)
			continue
		}
		var n json.Number
		if json.Unmarshal(r, &n) == nil {
			out[k] = n.String()
			continue
		}
		return fmt.Errorf("the value of %q must be a string, a number or a boolean", k)
	}
	*v = out
	return nil
}

// sortedKeys returns the keys in order, so requests are stable.
func (v Values) sortedKeys() []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Source declares the connector.
func Source() *integ.Source {
	src := integ.NewSource("rest", Config{},
		integ.WithTitle("REST API"),
		integ.WithDocumentationURL(DocumentationURL),
		integ.WithDescription("Any JSON REST API, its streams declared in the config: endpoints, record paths, pagination, auth and incremental parameters."),
		integ.WithStreamList(listStreams),
		integ.WithSchemaResolver(inferSchema),
		integ.WithMiddleware(httpMiddleware),
	)
	describeValues(src.ConfigSchema())
	return src
}

// DocumentationURL is where the connector's reference lives.
const DocumentationURL = "https://github.com/integ/integ/blob/main/docs/rest.md"

// valuesSchema describes the members of headers and params: Airbyte's
// acceptance rules refuse an object schema that says nothing of its content
// (spec.objects_not_empty), and the UI needs it to offer key/value rows.
const valuesSchema = `{"type":["string","number","boolean"]}`

// describeValues gives the headers and params objects of the config schema
// their additionalProperties. The config's own decoding (Values) enforces
// the same rule.
func describeValues(s *integ.Schema) {
	if s == nil {
		return
	}
	set := func(p *integ.Schema) {
		if p == nil {
			return
		}
		if p.Extra == nil {
			p.Extra = map[string]json.RawMessage{}
		}
		p.Extra["additionalProperties"] = json.RawMessage(valuesSchema)
	}
	set(s.Property("headers"))
	if st := s.Property("streams"); st != nil && st.Items != nil {
		set(st.Items.Property("params"))
	}
}

// httpMiddleware builds the config's headers and its authentication. Rate
// limits, retries and timeouts are the framework's run settings
// (requests_per_second, max_attempts); pretty-printed responses are put on
// one line by the framework.
func httpMiddleware(cfg *integ.Config) (requests.Middleware, error) {
	if err := checkConfigKeys(cfg.Raw()); err != nil {
		return nil, err
	}
	var c Config
	if err := cfg.Decode(&c); err != nil {
		return nil, err
	}
	if err := checkHTTP(&c); err != nil {
		return nil, err
	}
	var mws []requests.Middleware
	for _, k := range c.Headers.sortedKeys() {
		mws = append(mws, requests.Header(k, c.Headers[k]))
	}
	if auth := authMiddleware(c.Auth, c.BaseURL); auth != nil {
		mws = append(mws, auth)
	}
	return func(next requests.Doer) requests.Doer { return requests.Chain(next, mws...) }, nil
}

// checkHTTP checks the headers and the auth block for its type. Errors are
// config errors naming the field.
func checkHTTP(c *Config) error {
	for _, k := range c.Headers.sortedKeys() {
		if err := checkHeader(k, c.Headers[k]); err != nil {
			return integ.ConfigErrorf("headers: %w", err)
		}
	}
	a := c.Auth
	if a == nil {
		return nil
	}
	missing := func(field string) error {
		return integ.ConfigErrorf("auth.%s is required when auth.type is %q", field, a.Type)
	}
	switch a.Type {
	case AuthNone, "":
	case AuthBearer:
		if a.Token == "" {
			return missing("token")
		}
	case AuthBasic:
		if a.Username == "" {
			return missing("username")
		}
	case AuthAPIKey:
		if a.Name == "" {
			return missing("name")
		}
		if a.Value == "" {
			return missing("value")
		}
		switch a.In {
		case "header", "":
			if err := checkHeader(a.Name, ""); err != nil {
				return integ.ConfigErrorf("auth.name: %w", err)
			}
		case "query":
		default:
			return integ.ConfigErrorf("auth.in %q is unknown (use header or query)", a.In)
		}
	default:
		return integ.ConfigErrorf("auth.type %q is unknown (use none, api_key, bearer or basic)", a.Type)
	}
	return nil
}

// authMiddleware applies a checked auth block (nil for none), to requests
// to base's host only: a child stream's templated URL or a next link to
// another host does not get the credentials.
func authMiddleware(a *Auth, base string) requests.Middleware {
	if a == nil {
		return nil
	}
	var auth requests.Authenticator
	switch a.Type {
	case AuthBearer:
		auth = requests.Bearer(a.Token.Reveal())
	case AuthBasic:
		auth = requests.Basic(a.Username, a.Password.Reveal())
	case AuthAPIKey:
		if a.In == "query" {
			auth = requests.APIKeyInQuery(a.Name, a.Value.Reveal())
		} else {
			auth = requests.APIKeyHeader(a.Name, "", a.Value.Reveal())
		}
	default:
		return nil
	}
	hosts := requests.NewHosts()
	if hosts.Add(base) != nil {
		hosts.AdoptFirst()
	}
	return requests.Authorize(requests.ScopeTo(auth, hosts))
}

// checkHeader refuses header names and values net/http would refuse at the
// first request, with a message that names the header. The value is never
// quoted: it may be a credential.
func checkHeader(name, value string) error {
	if name == "" {
		return fmt.Errorf("a header name is empty")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return fmt.Errorf("header name %q is not a valid HTTP header name", name)
		}
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("the value of header %q contains a line break or NUL", name)
	}
	return nil
}
