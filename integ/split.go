package integ

import (
	"encoding/json"
	"fmt"
	"strings"
	"unsafe"

	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// view is a read-only string over b without a copy. The caller keeps b
// alive and unchanged while the string is in use.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// The record path's splitter. ReadJSON has already validated the body, so
// finding a page's records only needs the JSON's structure: strings (to skip
// their brackets and commas) and nesting depth. One pass with vectorised
// string skipping is about twice as fast as gjson's Get and ForEach, which
// parse the array twice.

// arrayAt returns the offset of the value at a simple top-level key of the
// valid JSON object data, or -1 when the key is absent.
func arrayAt(data, key string) int {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return -1
	}
	i++
	for {
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != '"' {
			return -1 // '}' or the end: no such key
		}
		end := skipString(data, i)
		k := data[i+1 : end-1]
		if strings.IndexByte(k, '\\') >= 0 { // an escaped key: compare what it means
			var decoded string
			if json.Unmarshal([]byte(data[i:end]), &decoded) == nil {
				k = decoded
			}
		}
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // past ':'
		if k == key {
			return i
		}
		i = skipValue(data, i)
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != ',' {
			return -1
		}
		i++
	}
}

// simpleKey reports whether a gjson path is one plain key that arrayAt can
// find (no dots, wildcards, modifiers or escapes).
func simpleKey(path string) bool {
	return path != "" && !strings.ContainsAny(path, `.*?|#@\!:[]{}"`)
}

// splitArray appends the raw elements of the array at data[i] == '[' to
// recs. bad is the index of the first element that is not an object, or -1.
func splitArray(data string, i int, recs []string) (out []string, bad int) {
	n := 0
	i++ // past '['
	for {
		i = skipSpace(data, i)
		if i >= len(data) || data[i] == ']' {
			return recs, -1
		}
		if data[i] != '{' {
			return recs, n
		}
		end := skipValue(data, i)
		recs = append(recs, data[i:end])
		n++
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i++
		}
	}
}

// skipValue returns the offset just past the value starting at data[i].
func skipValue(data string, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(data)
	}
	// a number, true, false or null: up to the next delimiter
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the offset just past the string whose opening quote
// is data[i]. A quote ends the string unless an odd run of backslashes
// precedes it.
func skipString(data string, i int) int {
	i++
	for {
		j := strings.IndexByte(data[i:], '"')
		if j < 0 {
			return len(data)
		}
		i += j
		k := i - 1
		for k >= 0 && data[k] == '\\' {
			k--
		}
		if (i-1-k)%2 == 0 {
			return i + 1
		}
		i++
	}
}

func skipSpace(data string, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// split finds a page's records: the raw bytes of each element of the record
// array, unparsed. A response read with requests.ReadPage for this path
// already has them, found while its body was validated; otherwise the
// splitter finds them. The slice is reused from page to page.
func (c *HttpContext) split(r *requests.JSONResponse, path []string) ([]string, error) {
	if c.w == nil {
		return nil, errNoStream
	}
	p := strings.Join(path, ".")
	if pg := r.Page(); pg != nil && pg.Key == p && (pg.Found || p != "" && strings.HasPrefix(view(r.Body[skipSpaceBytes(r.Body):]), "{")) {
		return c.splitPage(r, pg, p)
	}
	data := view(r.Body) // read-only view
	start := 0
	switch {
	case p == "":
		start = skipSpace(data, 0)
	case simpleKey(p) && strings.HasPrefix(data[skipSpace(data, 0):], "{"):
		start = arrayAt(data, p)
	default: // a gjson path: let gjson find the array, then split it
		arr := r.Get(p)
		start, data = 0, arr.Raw
		if !arr.Exists() {
			start = -1
		}
	}
	if start < 0 {
		return nil, c.noRecordArray(r, p)
	}
	recs := c.w.recs[:0]
	if strings.HasPrefix(data[start:], "null") {
		return recs, nil
	}
	if start >= len(data) || data[start] != '[' {
		return nil, c.notRecordArray(r, p)
	}
	c.w.multiline = hasNewline(data)
	recs, bad := splitArray(data, start, recs)
	c.w.recs = recs
	if bad >= 0 {
		return recs, c.notObject(r, p, bad)
	}
	return recs, nil
}

// splitPage takes the records the one-pass reader found.
func (c *HttpContext) splitPage(r *requests.JSONResponse, pg *requests.Page, p string) ([]string, error) {
	switch {
	case !pg.Found:
		return nil, c.noRecordArray(r, p)
	case pg.Null:
		return c.w.recs[:0], nil
	case !pg.IsArray:
		return nil, c.notRecordArray(r, p)
	}
	c.w.multiline = pg.Multiline
	if pg.NotObject >= 0 {
		return pg.Records[:pg.NotObject], c.notObject(r, p, pg.NotObject)
	}
	return pg.Records, nil
}

func (c *HttpContext) noRecordArray(r *requests.JSONResponse, p string) error {
	return fmt.Errorf("stream %q: the response from %s has no %q: the API's response shape is not what this integration expects",
		c.Stream(), requests.RedactURL(r.URL), p)
}

func (c *HttpContext) notRecordArray(r *requests.JSONResponse, p string) error {
	return fmt.Errorf("stream %q: %q in the response from %s is not an array of records", c.Stream(), p, requests.RedactURL(r.URL))
}

func (c *HttpContext) notObject(r *requests.JSONResponse, p string, bad int) error {
	return fmt.Errorf("stream %q: element %d of %q in the response from %s is not a JSON object", c.Stream(), bad, p, requests.RedactURL(r.URL))
}

func skipSpaceBytes(b []byte) int { return skipSpace(view(b), 0) }

func recordArray(r *requests.JSONResponse, path []string) gjson.Result {
	if len(path) == 0 || (len(path) == 1 && path[0] == "") {
		return gjson.Parse(view(r.Body))
	}
	return r.Get(strings.Join(path, "."))
}

// hasNewline is two vectorised scans: cheaper than ContainsAny on a page.
func hasNewline(s string) bool {
	return strings.IndexByte(s, '\n') >= 0 || strings.IndexByte(s, '\r') >= 0
}
