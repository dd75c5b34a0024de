package rest

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/integ/integ/integ"
	"github.com/tidwall/gjson"
)

// inferrer builds a record schema from sample records. The rules:
//
//   - properties keep the order in which they first appear;
//   - a property missing from some records, or null in some, is nullable;
//   - integers and non-integers together widen to number; other mixes keep
//     every type seen (["string","integer"]);
//   - strings that all parse as RFC 3339 date-times get format date-time,
//     and strings that are all YYYY-MM-DD dates get format date;
//   - objects and arrays are inferred recursively (array items from every
//     element of every sample);
//   - a property only ever seen as null gets the empty schema {} (any
//     value), since nothing says what it holds;
//   - a property whose name has control characters (other than \b \f \n
//     \r \t) or invalid UTF-8 is left out: integ.Schema writes property
//     names with strconv.Quote, whose escapes for those are not JSON. Its
//     values are still emitted with the records.
type inferrer struct {
	root node
}

func newInferrer() *inferrer { return &inferrer{} }

// add observes one record (a JSON object).
func (in *inferrer) add(rec gjson.Result) { in.root.add(rec) }

// schema is the inferred object schema; with no samples, an object with no
// known properties.
func (in *inferrer) schema() *integ.Schema {
	if in.root.count == 0 {
		return &integ.Schema{Type: integ.Types{"object"}, Properties: []integ.Property{}}
	}
	return in.root.schema(false)
}

// node accumulates what the values at one place in the records looked like.
type node struct {
	count                  int // values seen, nulls included
	null, boolean, integer bool
	number, str            bool
	object, array          bool
	notDateTime, notDate   bool // a string that is not one was seen
	objects                int  // object values seen
	names                  []string
	props                  map[string]*node
	items                  *node
}

func (n *node) add(v gjson.Result) {
	n.count++
	switch v.Type {
	case gjson.Null:
		n.null = true
	case gjson.True, gjson.False:
		n.boolean = true
	case gjson.Number:
		if strings.ContainsAny(v.Raw, ".eE") {
			n.number = true
		} else {
			n.integer = true
		}
	case gjson.String:
		n.str = true
		n.notDateTime = n.notDateTime || !isDateTime(v.Str)
		n.notDate = n.notDate || !isDate(v.Str)
	case gjson.JSON:
		switch {
		case v.IsObject():
			n.object = true
			n.objects++
			var seen map[string]bool
			v.ForEach(func(k, val gjson.Result) bool {
				if seen[k.Str] {
					return true // a duplicate key: the last one wins in most decoders, count it once
				}
				if seen == nil {
					seen = map[string]bool{}
				}
				seen[k.Str] = true
				n.prop(k.Str).add(val)
				return true
			})
		case v.IsArray():
			n.array = true
			if n.items == nil {
				n.items = &node{}
			}
			v.ForEach(func(_, e gjson.Result) bool {
				n.items.add(e)
				return true
			})
		}
	}
}

func (n *node) prop(name string) *node {
	if p, ok := n.props[name]; ok {
		return p
	}
	if n.props == nil {
		n.props = map[string]*node{}
	}
	p := &node{}
	n.props[name] = p
	n.names = append(n.names, name)
	return p
}

// schema renders the node; optional says the value was missing somewhere.
func (n *node) schema(optional bool) *integ.Schema {
	s := &integ.Schema{}
	if n.object {
		s.Type = append(s.Type, "object")
		s.Properties = make([]integ.Property, 0, len(n.names))
		for _, name := range n.names {
			if !json.Valid([]byte(strconv.Quote(name))) {
				continue // integ cannot write this name in a schema (see quotable)
			}
			p := n.props[name]
			s.Properties = append(s.Properties, integ.Property{Name: name, Schema: p.schema(p.count < n.objects)})
		}
	}
	if n.array {
		s.Type = append(s.Type, "array")
		if n.items != nil && n.items.count > 0 {
			s.Items = n.items.schema(false)
		}
	}
	if n.str {
		s.Type = append(s.Type, "string")
	}
	switch {
	case n.number:
		s.Type = append(s.Type, "number")
	case n.integer:
		s.Type = append(s.Type, "integer")
	}
	if n.boolean {
		s.Type = append(s.Type, "boolean")
	}
	if len(s.Type) == 0 {
		return s // only nulls: nothing is known
	}
	if len(s.Type) == 1 && n.str {
		switch {
		case !n.notDateTime:
			s.Format = "date-time"
		case !n.notDate:
			s.Format = "date"
		}
	}
	if n.null || optional {
		s.Type = append(s.Type, "null")
	}
	return s
}

// isDateTime reports whether s is an RFC 3339 date-time.
func isDateTime(s string) bool {
	if len(s) < len("2006-01-02T15:04:05Z") || (s[10] != 'T' && s[10] != 't') {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// isDate reports whether s is an RFC 3339 full-date (YYYY-MM-DD).
func isDate(s string) bool {
	if len(s) != len(time.DateOnly) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}
