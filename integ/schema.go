package integ

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
)

// Schema is the subset of JSON Schema (draft-07) that integ generates and
// reads. Properties keep their declared order so that specs, catalogs and
// golden files are stable; keywords integ does not model are kept in Extra and
// written back unchanged.
type Schema struct {
	Type        Types
	Title       string
	Description string
	Format      string
	Properties  []Property
	Items       *Schema
	Required    []string
	Enum        []any
	Default     any
	Examples    []any
	Minimum     *float64
	Maximum     *float64
	Pattern     string
	// Secret marks a value that is never shown (a password, a token); it
	// is written as JSON Schema's writeOnly. Protocols add their own words
	// for it (Airbyte's airbyte_secret).
	Secret bool
	// Order is a config field's position in a form. integ does not write
	// it; protocols with a UI order do (Airbyte's order).
	Order                *int
	AdditionalProperties *bool
	// OneOf lists alternatives, one of which the value must match (an auth
	// method chosen by a discriminator such as "auth_type").
	OneOf []*Schema
	// Const is the one value allowed, or nil (the discriminator of a OneOf
	// alternative).
	Const any
	Extra map[string]json.RawMessage
}

// Property is one named member of an object schema.
type Property struct {
	Name   string
	Schema *Schema
}

// Types is a JSON Schema "type": one name is written as a string, several as
// an array.
type Types []string

// Has reports whether t names the type n.
func (t Types) Has(n string) bool { return slices.Contains(t, n) }

// Nullable reports whether "null" is among the types.
func (t Types) Nullable() bool { return t.Has("null") }

// Property returns the schema of the named property, or nil.
func (s *Schema) Property(name string) *Schema {
	if s == nil {
		return nil
	}
	for _, p := range s.Properties {
		if p.Name == name {
			return p.Schema
		}
	}
	return nil
}

// PropertyPath finds a nested property by its path segments. When a segment
// is missing it returns nil and the index of that segment. An object with no
// declared properties accepts any path below it (its members are open).
func (s *Schema) PropertyPath(segs []string) (*Schema, int) {
	cur := s
	for i, seg := range segs {
		if cur == nil {
			return nil, i
		}
		open := len(cur.Type) == 0 || cur.Type.Has("object")
		if open && len(cur.Properties) == 0 && i > 0 && (cur.AdditionalProperties == nil || *cur.AdditionalProperties) {
			return cur, -1 // an open object: nothing to check against
		}
		next := cur.Property(seg)
		if next == nil {
			return nil, i
		}
		cur = next
	}
	return cur, -1
}

// PropertyNames lists the properties in declared order.
func (s *Schema) PropertyNames() []string {
	names := make([]string, len(s.Properties))
	for i, p := range s.Properties {
		names[i] = p.Name
	}
	return names
}

// Select returns a copy of an object schema that keeps only the named
// properties (in the schema's own order) and drops the others from Required.
func (s *Schema) Select(names []string) *Schema {
	keep := make(map[string]bool, len(names))
	for _, n := range names {
		keep[n] = true
	}
	c := *s
	c.Properties = nil
	for _, p := range s.Properties {
		if keep[p.Name] {
			c.Properties = append(c.Properties, p)
		}
	}
	c.Required = nil
	for _, r := range s.Required {
		if keep[r] {
			c.Required = append(c.Required, r)
		}
	}
	return &c
}

// MarshalJSON writes keywords in a fixed order, then Extra sorted by key.
func (s *Schema) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	field := func(k string, v any) error {
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("schema keyword %q: %w", k, err)
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(raw)
		return nil
	}
	type kv struct {
		k    string
		v    any
		omit bool
	}
	var props any
	if s.Properties != nil {
		props = orderedProps(s.Properties)
	}
	var typ any
	switch len(s.Type) {
	case 0:
	case 1:
		typ = s.Type[0]
	default:
		typ = []string(s.Type)
	}
	fields := []kv{
		{"type", typ, typ == nil},
		{"format", s.Format, s.Format == ""},
		{"title", s.Title, s.Title == ""},
		{"description", s.Description, s.Description == ""},
		{"properties", props, s.Properties == nil},
		{"items", s.Items, s.Items == nil},
		{"required", s.Required, s.Required == nil},
		{"enum", s.Enum, s.Enum == nil},
		{"default", s.Default, s.Default == nil},
		{"examples", s.Examples, s.Examples == nil},
		{"minimum", s.Minimum, s.Minimum == nil},
		{"maximum", s.Maximum, s.Maximum == nil},
		{"pattern", s.Pattern, s.Pattern == ""},
		{"writeOnly", true, !s.Secret},
		{"additionalProperties", s.AdditionalProperties, s.AdditionalProperties == nil},
	}
	for _, f := range fields {
		if f.omit {
			continue
		}
		if err := field(f.k, f.v); err != nil {
			return nil, err
		}
	}
	// const and oneOf sort among Extra, where they were kept before the
	// model had them: existing specs and catalogs stay byte for byte.
	extra := make(map[string]any, len(s.Extra)+2)
	for k, v := range s.Extra {
		extra[k] = v
	}
	if s.Const != nil {
		extra["const"] = s.Const
	}
	if s.OneOf != nil {
		extra["oneOf"] = s.OneOf
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := field(k, extra[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type orderedProps []Property

func (p orderedProps) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, prop := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(prop.Name) // JSON escaping, not Go's: names can hold anything
		b.Write(name)
		b.WriteByte(':')
		raw, err := json.Marshal(prop.Schema)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", prop.Name, err)
		}
		b.Write(raw)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ErrBadSchema is wrapped by every error about a schema that cannot be read.
var ErrBadSchema = errors.New("invalid JSON schema")

// UnmarshalJSON reads a schema, keeping property order. A boolean schema
// (true/false) is accepted: true is the empty schema.
func (s *Schema) UnmarshalJSON(data []byte) error {
	*s = Schema{}
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("true")) {
		return nil
	}
	if bytes.Equal(data, []byte("false")) {
		s.Extra = map[string]json.RawMessage{"not": json.RawMessage("{}")}
		return nil
	}
	members, err := orderedObject(data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSchema, err)
	}
	for _, m := range members {
		if err := s.setKeyword(m.key, m.raw); err != nil {
			return fmt.Errorf("%w: keyword %q: %v", ErrBadSchema, m.key, err)
		}
	}
	return nil
}

func (s *Schema) setKeyword(k string, raw json.RawMessage) error {
	switch k {
	case "type":
		var one string
		if err := json.Unmarshal(raw, &one); err == nil {
			s.Type = Types{one}
			return nil
		}
		return json.Unmarshal(raw, (*[]string)(&s.Type))
	case "title":
		return json.Unmarshal(raw, &s.Title)
	case "description":
		return json.Unmarshal(raw, &s.Description)
	case "format":
		return json.Unmarshal(raw, &s.Format)
	case "properties":
		members, err := orderedObject(raw)
		if err != nil {
			return err
		}
		s.Properties = make([]Property, 0, len(members))
		for _, m := range members {
			sub := new(Schema)
			if err := sub.UnmarshalJSON(m.raw); err != nil {
				return fmt.Errorf("property %q: %w", m.key, err)
			}
			s.Properties = append(s.Properties, Property{Name: m.key, Schema: sub})
		}
		return nil
	case "items":
		if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
			break // tuple form: kept verbatim
		}
		s.Items = new(Schema)
		return s.Items.UnmarshalJSON(raw)
	case "required":
		return json.Unmarshal(raw, &s.Required)
	case "enum":
		return unmarshalNumbers(raw, &s.Enum)
	case "default":
		return unmarshalNumbers(raw, &s.Default)
	case "examples":
		return unmarshalNumbers(raw, &s.Examples)
	case "minimum":
		return json.Unmarshal(raw, &s.Minimum)
	case "maximum":
		return json.Unmarshal(raw, &s.Maximum)
	case "pattern":
		return json.Unmarshal(raw, &s.Pattern)
	case "writeOnly", "secret": // the Singer SDK writes "secret"
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		s.Secret = s.Secret || b
		return nil
	case "const":
		if err := unmarshalNumbers(raw, &s.Const); err != nil || s.Const != nil {
			return err
		}
		// const: null stays in Extra, since a nil Const means "none".
	case "oneOf":
		if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
			var alts []json.RawMessage
			if err := json.Unmarshal(raw, &alts); err != nil {
				return err
			}
			s.OneOf = make([]*Schema, len(alts))
			for i, a := range alts {
				s.OneOf[i] = new(Schema)
				if err := s.OneOf[i].UnmarshalJSON(a); err != nil {
					return fmt.Errorf("oneOf[%d]: %w", i, err)
				}
			}
			return nil
		}
	case "additionalProperties":
		var b bool
		if err := json.Unmarshal(raw, &b); err == nil {
			s.AdditionalProperties = &b
			return nil
		}
	}
	if !json.Valid(raw) {
		return errors.New("not valid JSON")
	}
	if s.Extra == nil {
		s.Extra = map[string]json.RawMessage{}
	}
	s.Extra[k] = append(json.RawMessage(nil), raw...)
	return nil
}

// unmarshalNumbers keeps numbers as json.Number so values round-trip exactly.
func unmarshalNumbers(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

type member struct {
	key string
	raw json.RawMessage
}

// orderedObject splits a JSON object into its members in document order.
func orderedObject(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected an object, got %s", describeToken(tok))
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("member %q: %w", key, err)
		}
		out = append(out, member{key, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the object")
	}
	return out, nil
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return string(v)
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}
