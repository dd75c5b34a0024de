package integ

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Struct tags read by the schema generator, besides `json`:
//
//	title:"Base URL"              human title
//	description:"..."             help text
//	default:"100"                 default value, parsed as the field's type
//	examples:"a" or examples:`["a","b"]`
//	enum:"asc,desc"               allowed values, comma separated
//	format:"uri"                  JSON Schema format
//	minimum:"1" maximum:"1000"    numeric bounds
//	pattern:"^[a-z]+$"            string pattern
//	minLength:"8" maxLength:"64"  string length bounds
//	oneof:"auth_type"             the field is a choice of alternatives (see [OneOf])
//	secret:"true"                 the string field is a secret (or use [Secret])
//
// In a config schema a field is required unless it is a pointer, has a
// default, or is tagged omitempty; fields get Airbyte's "order" in declaration
// order. In a record schema nothing is required and pointers, slices, maps and
// interfaces are nullable.

var (
	timeType   = reflect.TypeFor[time.Time]()
	secretType = reflect.TypeFor[Secret]()
	rawType    = reflect.TypeFor[json.RawMessage]()
)

type schemaMode int

const (
	recordMode schemaMode = iota
	configMode
)

// SchemaOf generates the record schema of a Go value's type.
func SchemaOf(v any) (*Schema, error) { return generate(reflect.TypeOf(v), recordMode) }

// ConfigSchemaOf generates the config schema of a Go value's type.
func ConfigSchemaOf(v any) (*Schema, error) { return generate(reflect.TypeOf(v), configMode) }

func generate(t reflect.Type, mode schemaMode) (*Schema, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: no type given", ErrBadSchema)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: %s is not a struct", ErrBadSchema, t)
	}
	g := &generator{mode: mode, seen: map[reflect.Type]bool{}}
	return g.schema(t, "")
}

type generator struct {
	mode schemaMode
	seen map[reflect.Type]bool // structs on the current path, to refuse cycles
}

func (g *generator) schema(t reflect.Type, path string) (*Schema, error) {
	nullable := false
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
		nullable = g.mode == recordMode
	}
	s, err := g.base(t, path)
	if err != nil {
		return nil, err
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Interface:
		nullable = nullable || (g.mode == recordMode && t != rawType)
	}
	if nullable && len(s.Type) > 0 && !s.Type.Nullable() {
		s.Type = append(s.Type, "null")
	}
	return s, nil
}

func (g *generator) base(t reflect.Type, path string) (*Schema, error) {
	switch t {
	case timeType:
		return &Schema{Type: Types{"string"}, Format: "date-time"}, nil
	case secretType:
		return &Schema{Type: Types{"string"}, Secret: true}, nil
	case rawType:
		return &Schema{}, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return &Schema{Type: Types{"boolean"}}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &Schema{Type: Types{"integer"}}, nil
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: Types{"number"}}, nil
	case reflect.String:
		return &Schema{Type: Types{"string"}}, nil
	case reflect.Interface:
		return &Schema{}, nil
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return &Schema{Type: Types{"string"}, Extra: map[string]json.RawMessage{"contentEncoding": json.RawMessage(`"base64"`)}}, nil
		}
		items, err := g.schema(t.Elem(), path+"[]")
		if err != nil {
			return nil, err
		}
		return &Schema{Type: Types{"array"}, Items: items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%w: %s: map keys must be strings", ErrBadSchema, path)
		}
		return &Schema{Type: Types{"object"}}, nil
	case reflect.Struct:
		return g.object(t, path)
	}
	return nil, fmt.Errorf("%w: %s: unsupported Go type %s", ErrBadSchema, orRoot(path), t)
}

func orRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

func (g *generator) object(t reflect.Type, path string) (*Schema, error) {
	if g.seen[t] {
		return nil, fmt.Errorf("%w: %s: recursive type %s", ErrBadSchema, orRoot(path), t)
	}
	g.seen[t] = true
	defer delete(g.seen, t)

	obj := &Schema{Type: Types{"object"}, Properties: []Property{}}
	if err := g.fields(obj, t, path); err != nil {
		return nil, err
	}
	return obj, nil
}

func (g *generator) fields(obj *Schema, t reflect.Type, path string) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, skip := jsonName(f)
		if skip {
			continue
		}
		if f.Type == oneOfType {
			continue // the marker of a oneof struct, not a setting
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != timeType {
				if err := g.fields(obj, ft, path); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fpath := name
		if path != "" {
			fpath = path + "." + name
		}
		var prop *Schema
		var err error
		if disc, ok := f.Tag.Lookup("oneof"); ok && f.Type != oneOfType {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			prop, err = g.choiceSchema(ft, disc, fpath)
		} else {
			prop, err = g.schema(f.Type, fpath)
		}
		if err != nil {
			return err
		}
		if err := applyTags(prop, f, fpath); err != nil {
			return err
		}
		if g.mode == configMode {
			order := len(obj.Properties)
			prop.Order = &order
			optional := f.Type.Kind() == reflect.Pointer || strings.Contains(opts, "omitempty") || prop.Default != nil
			if !optional {
				obj.Required = append(obj.Required, name)
			}
		}
		obj.Properties = append(obj.Properties, Property{Name: name, Schema: prop})
	}
	return nil
}

// jsonName returns the field's JSON name ("" for the Go name), its options,
// and whether encoding/json skips it.
func jsonName(f reflect.StructField) (name, opts string, skip bool) {
	tag, ok := f.Tag.Lookup("json")
	if !ok {
		return "", "", false
	}
	if tag == "-" {
		return "", "", true
	}
	name, opts, _ = strings.Cut(tag, ",")
	return name, opts, false
}

func applyTags(s *Schema, f reflect.StructField, path string) error {
	tag := f.Tag
	s.Title = tag.Get("title")
	s.Description = tag.Get("description")
	if v := tag.Get("format"); v != "" {
		s.Format = v
	}
	s.Pattern = tag.Get("pattern")
	for _, key := range []string{"minLength", "maxLength"} {
		if v, ok := tag.Lookup(key); ok {
			if n, err := strconv.ParseUint(v, 10, 31); err != nil || n > 1<<20 {
				return fmt.Errorf("%w: %s: tag %s:%q is not a length", ErrBadSchema, path, key, v)
			}
			if s.Extra == nil {
				s.Extra = map[string]json.RawMessage{}
			}
			s.Extra[key] = json.RawMessage(v)
		}
	}
	if v, ok := tag.Lookup("secret"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%w: %s: tag secret:%q is not true or false", ErrBadSchema, path, v)
		}
		s.Secret = s.Secret || b
	}
	var err error
	num := func(key string) (*float64, error) {
		v, ok := tag.Lookup(key)
		if !ok {
			return nil, nil
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: tag %s:%q is not a number", ErrBadSchema, path, key, v)
		}
		return &n, nil
	}
	if s.Minimum, err = num("minimum"); err != nil {
		return err
	}
	if s.Maximum, err = num("maximum"); err != nil {
		return err
	}
	if v, ok := tag.Lookup("default"); ok {
		if s.Default, err = tagValue(s, v); err != nil {
			return fmt.Errorf("%w: %s: default %q: %v", ErrBadSchema, path, v, err)
		}
	}
	if v, ok := tag.Lookup("examples"); ok {
		if strings.HasPrefix(v, "[") {
			if err := unmarshalNumbers([]byte(v), &s.Examples); err != nil {
				return fmt.Errorf("%w: %s: examples %q: %v", ErrBadSchema, path, v, err)
			}
		} else {
			ex, err := tagValue(s, v)
			if err != nil {
				return fmt.Errorf("%w: %s: examples %q: %v", ErrBadSchema, path, v, err)
			}
			s.Examples = []any{ex}
		}
	}
	if v, ok := tag.Lookup("enum"); ok {
		for _, part := range strings.Split(v, ",") {
			e, err := tagValue(s, strings.TrimSpace(part))
			if err != nil {
				return fmt.Errorf("%w: %s: enum %q: %v", ErrBadSchema, path, v, err)
			}
			s.Enum = append(s.Enum, e)
		}
	}
	return nil
}

// tagValue parses a tag's text as a value of the schema's type.
func tagValue(s *Schema, v string) (any, error) {
	switch {
	case s.Type.Has("string"):
		return v, nil
	case s.Type.Has("integer"):
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return nil, fmt.Errorf("not an integer")
		}
		return json.Number(v), nil
	case s.Type.Has("number"):
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("not a number")
		}
		return json.Number(v), nil
	case s.Type.Has("boolean"):
		return strconv.ParseBool(v)
	}
	var out any
	if err := unmarshalNumbers([]byte(v), &out); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	return out, nil
}
