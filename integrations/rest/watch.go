package rest

import (
	"fmt"
	"strings"
	"sync"

	"github.com/integ/integ/integ"
	"github.com/tidwall/gjson"
)

// maxDriftWarnings bounds the warnings one stream logs about records that
// leave its inferred schema.
const maxDriftWarnings = 20

// watchInferred warns, once per field, when a record leaves its stream's
// schema and that schema was inferred (its description starts with
// InferredMarker, in discover's output and so in the catalog read gets): a
// field the sample never had is dropped by many targets, and a changed type
// makes some abort the load. Records are emitted unchanged. Given schemas
// are not watched: validate_records is the tool for those.
func watchInferred() integ.StreamOption {
	var mu sync.Mutex
	warned := map[string]bool{}
	return integ.Transform(func(rec gjson.Result, c *integ.HttpContext, dst []byte) ([]byte, bool) {
		dst = append(dst, rec.Raw...)
		run := c.Plan()
		if run == nil || run.Stream.Schema == nil || !strings.HasPrefix(run.Stream.Schema.Description, InferredMarker) {
			return dst, true
		}
		path := paths.Get().(*[]string)
		defer paths.Put(path)
		*path = (*path)[:0]
		drift(run.Stream.Schema, rec, path, func(field, problem string) {
			mu.Lock()
			defer mu.Unlock()
			if warned[field] || len(warned) >= maxDriftWarnings {
				return
			}
			warned[field] = true
			c.Logger().Warn(fmt.Sprintf("stream %q: a record leaves the inferred schema: %s %s; run discover again (or give the stream a schema) so that targets keep it", run.Stream.Name, field, problem))
		})
		return dst, true
	})
}

// paths reuses the field path buffers of drift.
var paths = sync.Pool{New: func() any { p := make([]string, 0, 8); return &p }}

// drift reports the fields of v that s does not describe. path is the
// field names down to v, joined only for a report: the common case, a
// record that fits, allocates nothing for it.
func drift(s *integ.Schema, v gjson.Result, path *[]string, report func(field, problem string)) {
	if s == nil || len(s.Type) == 0 {
		return // {}: anything
	}
	if t := jsonType(v); !s.Type.Has(t) && !(t == "integer" && s.Type.Has("number")) {
		report(fieldLabel(*path), fmt.Sprintf("is %s, not %s", article(t), strings.Join(s.Type, " or ")))
		return
	}
	switch {
	case v.IsObject() && s.Properties != nil:
		v.ForEach(func(k, val gjson.Result) bool {
			*path = append(*path, k.String())
			if p := s.Property(k.String()); p != nil {
				drift(p, val, path, report)
			} else if s.AdditionalProperties == nil || *s.AdditionalProperties {
				report(fieldLabel(*path), "is not in it")
			}
			*path = (*path)[:len(*path)-1]
			return true
		})
	case v.IsArray() && s.Items != nil:
		*path = append(*path, "[]")
		v.ForEach(func(_, e gjson.Result) bool {
			drift(s.Items, e, path, report)
			return true
		})
		*path = (*path)[:len(*path)-1]
	}
}

// fieldLabel names the field at path (attributes.updated, tags[]).
func fieldLabel(path []string) string {
	if len(path) == 0 {
		return "the record"
	}
	var b strings.Builder
	for i, seg := range path {
		switch {
		case seg == "[]":
			b.WriteString(seg)
		case i > 0:
			b.WriteString("." + integ.JoinKey(seg))
		default:
			b.WriteString(integ.JoinKey(seg))
		}
	}
	return fmt.Sprintf("field %q", b.String())
}

func article(t string) string {
	if strings.ContainsRune("aeiou", rune(t[0])) {
		return "an " + t
	}
	return "a " + t
}

// jsonType is the JSON Schema type of a value.
func jsonType(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return "null"
	case gjson.True, gjson.False:
		return "boolean"
	case gjson.Number:
		if strings.ContainsAny(v.Raw, ".eE") {
			return "number"
		}
		return "integer"
	case gjson.String:
		return "string"
	}
	if v.IsArray() {
		return "array"
	}
	return "object"
}
