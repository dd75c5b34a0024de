package integ

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// OneOf marks a config struct whose fields are alternatives, exactly one of
// which the user fills: an API key or OAuth, say. Embed it, give each
// alternative a pointer-to-struct field tagged with its discriminator value
// and a title, and tag the config field that holds it with the
// discriminator's key:
//
//	type Credentials struct {
//		integ.OneOf
//		OAuth *OAuthCredentials `oneof:"oauth2.0" title:"OAuth2.0"`
//		Token *TokenCredentials `oneof:"access_token" title:"Access Token"`
//	}
//	type Config struct {
//		Credentials Credentials `json:"credentials" oneof:"auth_type" title:"Authentication"`
//	}
//
// The schema says "oneOf" with one object per alternative, each with
// "auth_type": {"const": "oauth2.0"} first; the user's config is flat
// ({"auth_type": "oauth2.0", "client_id": ...}); decoding with
// Config.Decode (or HttpContext.Load) fills the chosen alternative's pointer,
// the others stay nil, and Method names it. Config.Raw keeps the flat shape.
// Defaults and secrets inside alternatives work as anywhere else; a config
// naming no method, or a wrong one, is told which methods there are.
type OneOf struct {
	method string
}

// Method is the discriminator value of the chosen alternative ("oauth2.0"),
// or "" before decoding.
func (o OneOf) Method() string { return o.method }

var oneOfType = reflect.TypeFor[OneOf]()

// alternative is one choice of a OneOf struct.
type alternative struct {
	field reflect.StructField
	value string // the discriminator's value
	key   string // the field's JSON name, used internally to decode
}

// alternatives lists the choices of a OneOf struct type t.
func alternatives(t reflect.Type, path string) ([]alternative, error) {
	var out []alternative
	seen := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type == oneOfType || !f.IsExported() {
			continue
		}
		value, ok := f.Tag.Lookup("oneof")
		if !ok {
			return nil, fmt.Errorf("%w: %s: field %s of a oneof struct needs a oneof:\"value\" tag naming its method", ErrBadSchema, path, f.Name)
		}
		if f.Type.Kind() != reflect.Pointer || f.Type.Elem().Kind() != reflect.Struct {
			return nil, fmt.Errorf("%w: %s: alternative %s must be a pointer to a struct, not %s", ErrBadSchema, path, f.Name, f.Type)
		}
		if value == "" || seen[value] {
			return nil, fmt.Errorf("%w: %s: alternative %s: oneof value %q is empty or used twice", ErrBadSchema, path, f.Name, value)
		}
		seen[value] = true
		name, _, skip := jsonName(f)
		if skip {
			return nil, fmt.Errorf("%w: %s: alternative %s must not be tagged json:\"-\"", ErrBadSchema, path, f.Name)
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, alternative{field: f, value: value, key: name})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s: a oneof struct needs at least one alternative", ErrBadSchema, path)
	}
	return out, nil
}

// choiceSchema is the schema of a oneof config field of struct type t whose
// discriminator is disc.
func (g *generator) choiceSchema(t reflect.Type, disc, path string) (*Schema, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: %s: oneof:%q needs a struct of alternatives, not %s", ErrBadSchema, path, disc, t)
	}
	alts, err := alternatives(t, path)
	if err != nil {
		return nil, err
	}
	s := &Schema{Type: Types{"object"}}
	for _, a := range alts {
		alt, err := g.schema(a.field.Type, path)
		if err != nil {
			return nil, err
		}
		if alt.Property(disc) != nil {
			return nil, fmt.Errorf("%w: %s: alternative %s has its own %q field, the discriminator's name", ErrBadSchema, path, a.field.Name, disc)
		}
		alt.Title = a.field.Tag.Get("title")
		if alt.Title == "" {
			alt.Title = a.field.Name
		}
		alt.Description = a.field.Tag.Get("description")
		zero := 0
		discProp := &Schema{Type: Types{"string"}, Const: a.value, Order: &zero}
		for _, p := range alt.Properties {
			if p.Schema.Order != nil {
				n := *p.Schema.Order + 1
				p.Schema.Order = &n
			}
		}
		alt.Properties = append([]Property{{Name: disc, Schema: discProp}}, alt.Properties...)
		alt.Required = append([]string{disc}, alt.Required...)
		s.OneOf = append(s.OneOf, alt)
	}
	return s, nil
}

// chosenAlternative returns the index of the alternative of s that doc
// selects: the first whose const properties all equal doc's values. It is -1
// when none does.
func chosenAlternative(s *Schema, doc map[string]any) int {
	for i, alt := range s.OneOf {
		consts := 0
		match := true
		for _, p := range alt.Properties {
			if p.Schema.Const == nil {
				continue
			}
			consts++
			if !sameJSON(doc[p.Name], p.Schema.Const) {
				match = false
				break
			}
		}
		if match && consts > 0 {
			return i
		}
	}
	return -1
}

func sameJSON(a, b any) bool {
	ra, err1 := json.Marshal(a)
	rb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ra, rb)
}

// discriminator describes how the alternatives of s are told apart, for an
// error message: the key and each alternative's value and title.
func discriminator(s *Schema) (key string, methods []string) {
	for _, alt := range s.OneOf {
		for _, p := range alt.Properties {
			if p.Schema.Const == nil {
				continue
			}
			key = p.Name
			v, _ := json.Marshal(p.Schema.Const)
			m := string(v)
			if alt.Title != "" {
				m += " (" + alt.Title + ")"
			}
			methods = append(methods, m)
			break
		}
	}
	return key, methods
}

// reshape rewrites a decoded config document for encoding/json: the flat
// object of each oneof field ({"auth_type": "oauth2.0", ...}) is nested under
// the chosen alternative's field name ({"OAuth": {...}}). It returns
// whether anything changed.
func reshape(t reflect.Type, doc any) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		arr, ok := doc.([]any)
		changed := false
		for i := 0; ok && i < len(arr); i++ {
			changed = reshape(t.Elem(), arr[i]) || changed
		}
		return changed
	case reflect.Map:
		m, ok := doc.(map[string]any)
		changed := false
		for _, v := range m {
			if ok {
				changed = reshape(t.Elem(), v) || changed
			}
		}
		return changed
	case reflect.Struct:
	default:
		return false
	}
	m, ok := doc.(map[string]any)
	if !ok || t == timeType {
		return false
	}
	changed := false
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, skip := jsonName(f)
		if skip || f.Type == oneOfType {
			continue
		}
		if f.Anonymous && name == "" {
			changed = reshape(f.Type, doc) || changed
			continue
		}
		if name == "" {
			name = f.Name
		}
		child, ok := m[name]
		if !ok {
			continue
		}
		disc, isChoice := f.Tag.Lookup("oneof")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		obj, isObj := child.(map[string]any)
		if !isChoice || !isObj || ft.Kind() != reflect.Struct {
			changed = reshape(f.Type, child) || changed
			continue
		}
		alts, err := alternatives(ft, name)
		if err != nil {
			continue
		}
		nested := map[string]any{}
		for _, a := range alts {
			if v, ok := obj[disc].(string); ok && v == a.value {
				reshape(a.field.Type, obj)
				nested[a.key] = obj
			}
		}
		m[name] = nested
		changed = true
	}
	return changed
}

// setMethods records in every OneOf of v which alternative was decoded.
func setMethods(v reflect.Value) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			setMethods(v.Index(i))
		}
		return
	case reflect.Struct:
	default:
		return
	}
	t := v.Type()
	if t == timeType {
		return
	}
	var marker reflect.Value
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Type == oneOfType {
			marker = v.Field(i)
		}
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Type == oneOfType {
			continue
		}
		fv := v.Field(i)
		if value, ok := f.Tag.Lookup("oneof"); ok && marker.IsValid() && f.Type.Kind() == reflect.Pointer && !fv.IsNil() && marker.CanSet() {
			marker.Set(reflect.ValueOf(OneOf{method: value}))
		}
		setMethods(fv)
	}
}

// decodeConfig decodes a validated config document into v, a pointer to a
// config struct, nesting oneof choices as the Go type declares them.
func decodeConfig(raw json.RawMessage, v any) error {
	t := reflect.TypeOf(v)
	if t != nil && t.Kind() == reflect.Pointer {
		var doc any
		if unmarshalNumbers(raw, &doc) == nil && reshape(t.Elem(), doc) {
			if b, err := json.Marshal(doc); err == nil {
				raw = b
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	setMethods(reflect.ValueOf(v))
	return nil
}
