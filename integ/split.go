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
// JSON object data, or -1 when the key is absent. It does not validate:
// on data that is not JSON it returns some offset or -1, never more than
// len(data) (peekRecords reads bodies not yet checked).
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
		if end >= len(data) {
			return -1 // an unterminated key, or nothing after it
		}
		k := data[i+1 : end-1]
		if strings.IndexByte(k, '\\') >= 0 { // an escaped key: compare what it means
			var decoded string
			if json.Unmarshal([]byte(data[i:end]), &decoded) == nil {
				k = decoded
			}
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return -1
		}
		i = skipSpace(data, i+1)
		if k == key {
			return i
		}
		if i >= len(data) {
			return -1
		}
		i = skipValue(data, i)
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != ',' {
			return -1
		}
		i++
	}
}

// peekRecords looks, without validating, at whether the record array at
// key (a requests.PageKey) of a body not yet checked has an element: for a
// paginator that only asks whether a page was empty, the next request can
// then go out before the page is validated. ok is false when the body does
// not look like a page; its check will say what is wrong. A null array is
// an empty page, as the splitter reads it.
func peekRecords(data, key string) (nonEmpty, ok bool) {
	i := skipSpace(data, 0)
	if key != "" {
		i = arrayAt(data, key)
	}
	if i < 0 || i >= len(data) {
		return false, false
	}
	switch data[i] {
	case 'n':
		return false, strings.HasPrefix(data[i:], "null")
	case '[':
		j := skipSpace(data, i+1)
		return j < len(data) && data[j] != ']', j < len(data)
	}
	return false, false
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
	s := splitRecords(c.Stream(), r, path, c.w.recs[:0])
	c.w.takeSplit(s)
	return s.recs, s.err
}

// split is a page's records, as splitRecords found them.
type split struct {
	recs      []string
	multiline bool  // a record may span lines
	err       error // the page is not what the stream expects
	pageRecs  bool  // recs belong to the response's page, not to the buffer given
}

// takeSplit makes s the page being written: whether its records may span
// lines, and the record buffer, kept when splitting grew it.
func (r *streamWriter) takeSplit(s split) {
	if !s.pageRecs && s.recs != nil {
		r.recs = s.recs
	}
	r.multiline = s.multiline
}

// splitRecords finds the records of r at path, in buf unless the response
// found them itself. It touches no stream state, so a prefetcher can split a
// page while the one before it is written.
func splitRecords(stream string, r *requests.JSONResponse, path []string, buf []string) split {
	p := strings.Join(path, ".")
	if pg := r.Page(); pg != nil && pg.Key == p && (pg.Found || p != "" && strings.HasPrefix(view(r.Body[skipSpaceBytes(r.Body):]), "{")) {
		return splitPage(stream, r, pg, p, buf)
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
		return split{err: noRecordArray(stream, r, p)}
	}
	if strings.HasPrefix(data[start:], "null") {
		return split{recs: buf}
	}
	if start >= len(data) || data[start] != '[' {
		return split{err: notRecordArray(stream, r, p)}
	}
	recs, bad := splitArray(data, start, buf)
	s := split{recs: recs, multiline: hasNewline(data)}
	if bad >= 0 {
		s.err = notObject(stream, r, p, bad)
	}
	return s
}

// splitPage takes the records the one-pass reader found.
func splitPage(stream string, r *requests.JSONResponse, pg *requests.Page, p string, buf []string) split {
	switch {
	case !pg.Found:
		return split{err: noRecordArray(stream, r, p)}
	case pg.Null:
		return split{recs: buf}
	case !pg.IsArray:
		return split{err: notRecordArray(stream, r, p)}
	}
	s := split{recs: pg.Records, multiline: pg.Multiline, pageRecs: true}
	if pg.NotObject >= 0 {
		s.recs, s.err = pg.Records[:pg.NotObject], notObject(stream, r, p, pg.NotObject)
	}
	return s
}

func noRecordArray(stream string, r *requests.JSONResponse, p string) error {
	return fmt.Errorf("stream %q: the response from %s has no %q: the API's response shape is not what this integration expects",
		stream, requests.RedactURL(r.URL), p)
}

func notRecordArray(stream string, r *requests.JSONResponse, p string) error {
	return fmt.Errorf("stream %q: %q in the response from %s is not an array of records", stream, p, requests.RedactURL(r.URL))
}

func notObject(stream string, r *requests.JSONResponse, p string, bad int) error {
	return fmt.Errorf("stream %q: element %d of %q in the response from %s is not a JSON object", stream, bad, p, requests.RedactURL(r.URL))
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
