package integ

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/tidwall/gjson"
)

// ErrTransform marks a stream stopped by a transform's invalid output: a bug
// in the integration, not in the data.
var ErrTransform = errors.New("a record transform returned invalid output")

// TransformFunc rewrites one record. It appends the new record, a JSON
// object, to dst and returns the extended slice; false drops the record.
// rec and everything read from it are only valid during the call.
type TransformFunc func(rec gjson.Result, c *HttpContext, dst []byte) ([]byte, bool)

// transform is one step of a stream's transform chain.
type transform struct {
	fn      TransformFunc
	trusted bool // a ready-made transform: its output needs no check
}

// Transform adds a record transform to the stream. Transforms run in the
// order they are given, on every record the runner emits (EmitPages,
// EmitBatch, EmitObject, EmitRaw, EmitCSV, EmitJSONLines), before the
// bookmark, validation and field selection see it: the stream's schema and
// replication key describe the transformed record. A transform that returns
// something other than one JSON object stops the stream with an error.
func Transform(fn TransformFunc) StreamOption {
	return func(s *Stream) { s.transforms = append(s.transforms, transform{fn: fn}) }
}

// Flatten lifts the members of the object at field to the top level, in its
// place (JSON:API's "attributes", say). A lifted member whose name is already
// a top-level field is dropped: the top level wins. A field that is missing
// or not an object is left as it is.
func Flatten(field string) StreamOption {
	return trusted(func(rec gjson.Result, _ *HttpContext, dst []byte) ([]byte, bool) {
		inner := rec.Get(gjson.Escape(field))
		if !inner.IsObject() {
			return append(dst, rec.Raw...), true
		}
		var small [32]string
		top := small[:0] // the top-level names, which lifted members may not shadow
		rec.ForEach(func(k, _ gjson.Result) bool {
			top = append(top, k.Str)
			return true
		})
		dst = append(dst, '{')
		first := true
		rec.ForEach(func(k, v gjson.Result) bool {
			if k.Str != field {
				dst, first = appendMember(dst, first, k.Raw, v.Raw), false
				return true
			}
			inner.ForEach(func(ik, iv gjson.Result) bool {
				if ik.Str == field || !slices.Contains(top, ik.Str) {
					dst, first = appendMember(dst, first, ik.Raw, iv.Raw), false
				}
				return true
			})
			return true
		})
		return append(dst, '}'), true
	})
}

// Drop removes top-level fields from every record (Salesforce's
// "attributes", say).
func Drop(fields ...string) StreamOption {
	return trusted(func(rec gjson.Result, _ *HttpContext, dst []byte) ([]byte, bool) {
		return appendWithout(dst, rec, fields), true
	})
}

// AddField sets a top-level field on every record to the JSON encoding of
// value(c): a value from the parent record (c.Parent()), the config or the
// run. A gjson.Result or json.RawMessage is written raw. A field of that name
// already in the record is replaced.
func AddField(name string, value func(c *HttpContext) any) StreamOption {
	return ComputeField(name, func(_ gjson.Result, c *HttpContext) any { return value(c) })
}

// ComputeField is AddField with the record at hand: a value derived from
// its fields (a composite id, a unit converted, a nested value lifted).
// value sees the record as the transforms declared before this one left
// it.
func ComputeField(name string, value func(rec gjson.Result, c *HttpContext) any) StreamOption {
	key, _ := json.Marshal(name)
	return trusted(func(rec gjson.Result, c *HttpContext, dst []byte) ([]byte, bool) {
		dst = appendWithout(dst, rec, []string{name})
		dst = dst[:len(dst)-1] // reopen the object
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = append(dst, key...)
		dst = append(dst, ':')
		dst = appendValue(dst, value(rec, c), c, name)
		return append(dst, '}'), true
	})
}

// Filter keeps only the records for which keep returns true (pull requests
// in GitHub's issues list, say, are dropped with a filter on
// !rec.Get("pull_request").Exists()).
func Filter(keep func(rec gjson.Result) bool) StreamOption {
	return trusted(func(rec gjson.Result, _ *HttpContext, dst []byte) ([]byte, bool) {
		if !keep(rec) {
			return dst, false
		}
		return append(dst, rec.Raw...), true
	})
}

func trusted(fn TransformFunc) StreamOption {
	return func(s *Stream) { s.transforms = append(s.transforms, transform{fn: fn, trusted: true}) }
}

func appendMember(dst []byte, first bool, key, value string) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, key...)
	dst = append(dst, ':')
	return append(dst, value...)
}

// appendWithout copies rec's members but those named in drop.
func appendWithout(dst []byte, rec gjson.Result, drop []string) []byte {
	dst = append(dst, '{')
	first := true
	rec.ForEach(func(k, v gjson.Result) bool {
		if !slices.Contains(drop, k.Str) {
			dst, first = appendMember(dst, first, k.Raw, v.Raw), false
		}
		return true
	})
	return append(dst, '}')
}

// appendValue writes v as JSON; a value that cannot be encoded is written as
// null and logged, since one bad value must not stop a sync.
func appendValue(dst []byte, v any, c *HttpContext, name string) []byte {
	switch x := v.(type) {
	case gjson.Result:
		if x.Exists() {
			return append(dst, x.Raw...)
		}
		return append(dst, "null"...)
	case json.RawMessage:
		if json.Valid(x) {
			return append(dst, x...)
		}
	default:
		if b, err := json.Marshal(v); err == nil {
			return append(dst, b...)
		}
	}
	if c != nil {
		c.Logger().Warn("AddField: the value cannot be encoded as JSON; writing null", "field", name)
	}
	return append(dst, "null"...)
}

// record sends one raw record through the stream's transforms, then to the
// emit path. A stream with no transform takes the record as it is.
func (c *HttpContext) record(rec []byte) {
	r := c.w
	xs := r.info.Stream.transforms
	if len(xs) == 0 {
		r.record(rec)
		return
	}
	if r.invalid != nil {
		return // the stream stops at the end of this page
	}
	for i, x := range xs {
		out := r.xbuf[i%2][:0]
		var keep bool
		out, keep = x.fn(gjson.Parse(view(rec)), c, out)
		r.xbuf[i%2] = out
		if !keep {
			return
		}
		if !x.trusted {
			if !validObject(out) {
				if r.invalid == nil {
					r.invalid = &Error{Kind: SystemFailure, Msg: fmt.Sprintf("stream %q: a transform returned something other than one JSON object: %s", r.info.Stream.Name, excerpt(out, 120)), Err: ErrTransform}
				}
				return
			}
			if hasNewline(view(out)) {
				r.multiline = true // indented output: the emit path puts it on one line
			}
		}
		rec = out
	}
	r.record(rec)
}

func validObject(b []byte) bool {
	t := skipSpace(view(b), 0)
	return t < len(b) && b[t] == '{' && gjson.ValidBytes(b) && gjson.ParseBytes(b).IsObject()
}
