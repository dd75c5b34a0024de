package salesforce

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// listObjects is the one cheap call: the names of the queryable objects.
// Their schemas are left to describe, which is asked only for the objects
// a command needs.
func listObjects(c *integ.HttpContext) ([]*integ.Stream, error) {
	cfg, err := integ.ConfigOf[Config](c)
	if err != nil {
		return nil, err
	}
	root, err := apiRoot(c)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(requests.New(root + "/sobjects"))
	if err != nil {
		return nil, fmt.Errorf("listing the org's objects: %w", err)
	}
	var out []*integ.Stream
	for _, o := range resp.Get("sobjects").Array() {
		if !o.Get("queryable").Bool() {
			continue
		}
		name := o.Get("name").String()
		key := replicationKey(name)
		opts := []integ.StreamOption{
			integ.PrimaryKey("Id"),
			integ.Incremental(key),
			integ.Description(describeLabel(o)),
			integ.Transform(normalize),
		}
		run := restQuery(name, key, cfg.IncludeDeleted)
		if slices.Contains(cfg.BulkObjects, name) {
			run = bulkQuery(name, key, cfg)
		} else {
			opts = append(opts, integ.Sorted()) // ORDER BY the key; Bulk API 2.0 cannot sort
		}
		out = append(out, integ.NewStream(name, nil, run, opts...))
	}
	return out, nil
}

// replicationKey is the field an object's changes are tracked by, guessed
// from its name since the list does not say which fields an object has
// (the describe that does is not asked for at list time): field history
// objects only have CreatedDate, sharing objects LastModifiedDate.
func replicationKey(object string) string {
	switch {
	case strings.HasSuffix(object, "History"):
		return "CreatedDate"
	case strings.HasSuffix(object, "Share"):
		return "LastModifiedDate"
	}
	return "SystemModstamp"
}

func describeLabel(o gjson.Result) string {
	label := o.Get("label").String()
	if o.Get("custom").Bool() {
		return label + " (custom object)"
	}
	return label
}

// describe turns an object's describe into a JSON Schema.
func describe(c *integ.HttpContext, name string) (*integ.Schema, error) {
	root, err := apiRoot(c)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(requests.New(root + "/sobjects/" + url.PathEscape(name) + "/describe"))
	if err != nil {
		return nil, fmt.Errorf("describing %s: %w", name, err)
	}
	sch := &integ.Schema{Type: integ.Types{"object"}}
	for _, f := range resp.Get("fields").Array() {
		p := fieldSchema(f.Get("type").String(), f.Get("nillable").Bool())
		p.Description = f.Get("label").String()
		sch.Properties = append(sch.Properties, integ.Property{Name: f.Get("name").String(), Schema: p})
	}
	return sch, nil
}

// fieldSchema maps a describe field type to JSON Schema.
func fieldSchema(typ string, nillable bool) *integ.Schema {
	s := &integ.Schema{}
	t := "string"
	switch typ {
	case "boolean":
		t = "boolean"
	case "int", "long":
		t = "integer"
	case "double", "currency", "percent":
		t = "number"
	case "date":
		s.Format = "date"
	case "datetime":
		s.Format = "date-time"
	case "address", "location":
		t = "object"
	case "base64":
		s.Extra = map[string]json.RawMessage{"contentEncoding": json.RawMessage(`"base64"`)}
	case "anyType", "complexvalue":
		return s // any JSON value
	}
	s.Type = integ.Types{t}
	if nillable {
		s.Type = append(s.Type, "null")
	}
	return s
}

// bulkSelectable reports whether Bulk API 2.0 can read a field: compound
// fields (address, location) and base64 fields it cannot.
func bulkSelectable(p *integ.Schema) bool {
	if p == nil || p.Type.Has("object") {
		return false
	}
	_, b64 := p.Extra["contentEncoding"]
	return !b64
}

// normalize drops the "attributes" member the REST API adds to every record
// and writes the API's datetimes (2024-03-01T12:00:00.000+0000) as RFC 3339
// (2024-03-01T12:00:00.000Z), so they validate as date-time and compare as
// strings; Bulk API 2.0 CSV already writes a Z.
func normalize(rec gjson.Result, _ *integ.HttpContext, dst []byte) ([]byte, bool) {
	dst = append(dst, '{')
	first := true
	rec.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "attributes" {
			return true
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, k.Raw...)
		dst = append(dst, ':')
		if v.Type == gjson.String && isSalesforceDateTime(v.Str) {
			dst = append(dst, '"')
			dst = append(dst, v.Str[:len(v.Str)-5]...)
			dst = append(dst, 'Z', '"')
			return true
		}
		dst = append(dst, v.Raw...)
		return true
	})
	return append(dst, '}'), true
}

// isSalesforceDateTime matches 2024-03-01T12:00:00.000+0000, the only
// form the API writes a datetime in.
func isSalesforceDateTime(s string) bool {
	const shape = "dddd-dd-ddTdd:dd:dd.ddd+0000"
	if len(s) != len(shape) {
		return false
	}
	for i := 0; i < len(shape); i++ {
		if shape[i] == 'd' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		} else if s[i] != shape[i] {
			return false
		}
	}
	return true
}
