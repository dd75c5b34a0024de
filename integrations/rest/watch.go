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
		run := c.Run()
		if run == nil || run.Stream.Schema == nil || !strings.HasPrefix(run.Stream.Schema.Description, InferredMarker) {
			return dst, true
		}
		drift(run.Stream.Schema, rec, "", func(field, problem string) {
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

// drift reports the fields of v that s does not describe.
func drift(s *integ.Schema, v gjson.Result, at string, report func(field, problem string)) {
	if s == nil || len(s.Type) == 0 {
		return // {}: anything
	}
	if t := jsonType(v); !s.Type.Has(t) && !(t == "integer" && s.Type.Has("number")) {
		report(fieldLabel(at), fmt.Sprintf("is %s, not %s", article(t), strings.Join(s.Type, " or ")))
		return
	}
	switch {
	case v.IsObject() && s.Properties != nil:
		v.ForEach(func(k, val gjson.Result) bool {
			name := k.String()
			p := s.Property(name)
			path := integ.JoinKey(append(integ.SplitKey(at), name)...)
			if at == "" {
				path = integ.JoinKey(name)
			}
			if p == nil {
				if s.AdditionalProperties == nil || *s.AdditionalProperties {
					report(fieldLabel(path), "is not in it")
				}
				return true
			}
			drift(p, val, path, report)
			return true
		})
	case v.IsArray() && s.Items != nil:
		v.ForEach(func(_, e gjson.Result) bool {
			drift(s.Items, e, at+"[]", report)
			return true
		})
	}
}

func fieldLabel(at string) string {
	if at == "" {
		return "the record"
	}
	return fmt.Sprintf("field %q", at)
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
