package hubspot

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// object is one CRM object type, read as one stream.
type object struct {
	name     string // the API's object type, and the stream's name
	modified string // the property holding the record's last-modified time
	doc      string
}

// objects are the CRM objects synced. Contacts keep their last-modified
// time in lastmodifieddate, the others in hs_lastmodifieddate.
var objects = []object{
	{"contacts", "lastmodifieddate", "Contacts, with every contact property (GET /crm/v3/objects/contacts; scope crm.objects.contacts.read)."},
	{"companies", "hs_lastmodifieddate", "Companies, with every company property (GET /crm/v3/objects/companies; scope crm.objects.companies.read)."},
	{"deals", "hs_lastmodifieddate", "Deals, with every deal property (GET /crm/v3/objects/deals; scope crm.objects.deals.read)."},
	{"tickets", "hs_lastmodifieddate", "Support tickets, with every ticket property (GET /crm/v3/objects/tickets; scope tickets)."},
}

// listObjects lists the object streams. It asks nothing: their schemas,
// from the properties API, are left to objectSchema.
func listObjects(*integ.HttpContext) ([]*integ.Stream, error) {
	out := make([]*integ.Stream, 0, len(objects))
	for _, o := range objects {
		out = append(out, integ.NewStream(o.name, nil, o.read,
			integ.PrimaryKey("id"),
			integ.Incremental("updatedAt"),
			integ.Sorted(), // the search is sorted on the last-modified time
			typedValues(),
			integ.Description(o.doc+" Incremental on updatedAt through the search API."),
		))
	}
	return out, nil
}

// read lists every record (full refresh) or searches those modified since
// the bookmark (incremental), asking for the selected properties.
func (o object) read(c *integ.HttpContext) error {
	cfg, err := load(c)
	if err != nil {
		return err
	}
	props := selectedProperties(c.Plan().Schema)
	if c.Plan().Incremental() {
		since, err := searchStart(c, cfg)
		if err != nil {
			return err
		}
		return o.search(c, cfg, props, since)
	}
	joined := strings.Join(props, ",")
	if len(joined) > maxPropertiesInURL {
		// Too long for a URL: the search takes them in its body.
		return o.search(c, cfg, props, time.UnixMilli(0))
	}
	first := requests.New(apiURL(cfg, "/crm/v3/objects/"+url.PathEscape(o.name))).
		Query("limit", itoa(cfg.PageSize))
	if len(props) > 0 {
		first = first.Query("properties", joined)
	}
	return c.EmitPages(first.Query("archived", "false"), pages(), "results")
}

// maxPropertiesInURL bounds the properties parameter of a list request:
// an account with many custom properties would pass the URL length
// HubSpot's servers accept, so such a full refresh reads through the search.
const maxPropertiesInURL = 8000

// selectedProperties names the HubSpot properties of the run's schema.
func selectedProperties(s *integ.Schema) []string {
	if s == nil {
		return nil
	}
	if p := s.Property("properties"); p != nil {
		return p.PropertyNames()
	}
	return nil
}

// objectSchema builds an object's schema from its property definitions
// (GET /crm/v3/properties/{object}).
func objectSchema(c *integ.HttpContext, name string) (*integ.Schema, error) {
	cfg, err := load(c)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(requests.New(apiURL(cfg, "/crm/v3/properties/"+url.PathEscape(name))).Query("archived", "false"))
	if err != nil {
		return nil, fmt.Errorf("reading the %s properties: %w", name, err)
	}
	props := map[string]any{}
	for _, p := range resp.Get("results").Array() {
		if n := p.Get("name").String(); n != "" {
			props[n] = propertySchema(p)
		}
	}
	dateTime := map[string]any{"type": "string", "format": "date-time"}
	raw, err := json.Marshal(map[string]any{
		"type": "object",
		"properties": map[string]any{
			"id":         map[string]any{"type": "string", "description": "The record's ID (hs_object_id)."},
			"properties": map[string]any{"type": "object", "properties": props, "description": "The record's property values, by property name."},
			"createdAt":  dateTime,
			"updatedAt":  map[string]any{"type": "string", "format": "date-time", "description": "When the record was last modified."},
			"archived":   map[string]any{"type": "boolean"},
			"archivedAt": map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
		},
	})
	if err != nil {
		return nil, err
	}
	sch := new(integ.Schema)
	if err := sch.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("the %s properties: %w", name, err)
	}
	return sch, nil
}

// propertySchema types one property from its definition's "type".
func propertySchema(p gjson.Result) map[string]any {
	s := map[string]any{}
	if l := p.Get("label").String(); l != "" {
		s["title"] = l
	}
	t := "string"
	switch p.Get("type").String() {
	case "number":
		t = "number"
	case "bool":
		t = "boolean"
	case "date":
		s["format"] = "date"
	case "datetime":
		s["format"] = "date-time"
	}
	s["type"] = []string{t, "null"}
	return s
}

// valueKind is how a property's string value is written.
type valueKind uint8

const (
	asText valueKind = iota
	asNumber
	asBool
	asTyped // a date or date-time: "" becomes null
)

// typedValues returns the transform writing HubSpot's string values as the
// run's schema types them: "12.5" as 12.5, "true" as true, "" of a typed
// property as null. A value that does not parse stays as HubSpot sent it.
func typedValues() integ.StreamOption {
	var mu sync.Mutex
	var run *integ.StreamPlan
	var kinds map[string]valueKind
	return integ.Transform(func(rec gjson.Result, c *integ.HttpContext, dst []byte) ([]byte, bool) {
		mu.Lock()
		if r := c.Plan(); r != run {
			run, kinds = r, kindsOf(r.Schema)
		}
		k := kinds
		mu.Unlock()
		return appendTyped(dst, rec, k), true
	})
}

// kindsOf reads the kind of every typed property from a schema.
func kindsOf(s *integ.Schema) map[string]valueKind {
	kinds := map[string]valueKind{}
	if s == nil || s.Property("properties") == nil {
		return kinds
	}
	for _, p := range s.Property("properties").Properties {
		switch {
		case p.Schema == nil:
		case slices.Contains(p.Schema.Type, "number"), slices.Contains(p.Schema.Type, "integer"):
			kinds[p.Name] = asNumber
		case slices.Contains(p.Schema.Type, "boolean"):
			kinds[p.Name] = asBool
		case p.Schema.Format == "date" || p.Schema.Format == "date-time":
			kinds[p.Name] = asTyped
		}
	}
	return kinds
}

// appendTyped appends rec with its "properties" values typed.
func appendTyped(dst []byte, rec gjson.Result, kinds map[string]valueKind) []byte {
	if len(kinds) == 0 || !rec.Get("properties").IsObject() {
		return append(dst, rec.Raw...)
	}
	dst = append(dst, '{')
	first := true
	rec.ForEach(func(k, v gjson.Result) bool {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(append(dst, k.Raw...), ':')
		if k.Str != "properties" {
			dst = append(dst, v.Raw...)
			return true
		}
		dst = append(dst, '{')
		inner := true
		v.ForEach(func(pk, pv gjson.Result) bool {
			if !inner {
				dst = append(dst, ',')
			}
			inner = false
			dst = append(append(dst, pk.Raw...), ':')
			dst = append(dst, typedValue(pv, kinds[pk.Str])...)
			return true
		})
		dst = append(dst, '}')
		return true
	})
	return append(dst, '}')
}

// typedValue is the JSON of one property value of the given kind.
func typedValue(v gjson.Result, kind valueKind) string {
	if v.Type != gjson.String || kind == asText {
		return v.Raw
	}
	s := v.Str
	switch {
	case s == "":
		return "null"
	case kind == asBool && (s == "true" || s == "false"):
		return s
	case kind == asNumber && isNumber(s):
		return s
	}
	return v.Raw
}

// isNumber reports whether s is a JSON number.
func isNumber(s string) bool {
	return s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') && json.Valid([]byte(s))
}

func itoa(n int) string { return strconv.Itoa(n) }
