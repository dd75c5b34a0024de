package requests

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// Page is a page of records as ReadPage found them while it validated the
// body: one pass over the bytes, not a validation and then a split. The
// records are views of the response's Body, valid until its Release.
type Page struct {
	// Key is the top-level key of the record array; "" when the body
	// itself is the array.
	Key string
	// Found is set when the key is in the body (always, for "").
	Found bool
	// IsArray is set when the value at Key is an array; Null when it is
	// the literal null.
	IsArray, Null bool
	// Records are the raw elements of the array, unparsed.
	Records []string
	// NotObject is the index of the first element that is not a JSON
	// object, or -1.
	NotObject int
	// Multiline is set when the body has a newline (in valid JSON, only
	// ever whitespace between tokens): its records may span lines.
	Multiline bool

	pooled *[]string // Records' pooled backing array
	shaped int       // records matched against the shape of the one before (see shape), for tests
}

// PageKey reports whether ReadPage can find the records at the gjson path
// in one pass: "" (the body) or one plain top-level key. Any other path
// needs gjson on the body.
func PageKey(path string) bool {
	return path == "" || !strings.ContainsAny(path, `.*?|#@\!:[]{}"`)
}

// keyIs reports whether the object key whose string opens at b[k] is
// pg.Key; end bounds the member (the key's value starts there).
func (pg *Page) keyIs(b []byte, k, end int) bool {
	e := scanString(b, k)
	if e < 0 || e > end {
		return false
	}
	raw := b[k+1 : e-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == pg.Key
	}
	var decoded string // an escaped key: compare what it means
	return json.Unmarshal(b[k:e], &decoded) == nil && decoded == pg.Key
}

// recordsPool keeps the record slices of released pages: a page's slice
// of a thousand string headers is 16 KiB of garbage otherwise.
var recordsPool = sync.Pool{New: func() any { s := make([]string, 0, 128); return &s }}

func newPage(key string) *Page {
	rp := recordsPool.Get().(*[]string)
	return &Page{Key: key, Records: (*rp)[:0], NotObject: -1, pooled: rp}
}

func (pg *Page) release() {
	if pg == nil || pg.pooled == nil {
		return
	}
	rp := pg.pooled
	pg.pooled = nil
	if cap(pg.Records) > 1<<16 {
		return // a rare huge page: let it go
	}
	clear(pg.Records) // the views must not keep a released body alive
	*rp = pg.Records[:0]
	pg.Records = nil
	recordsPool.Put(rp)
}

// Page returns the records ReadPage or DoPage found, or nil when the
// response was read by ReadJSON.
func (r *JSONResponse) Page() *Page { return r.page }

// ReadPage is ReadJSON for a page of records at key (see PageKey): the
// body is validated and, in the same pass, the elements of the array at
// key are found; Page returns them. An invalid body is refused exactly as
// ReadJSON refuses it, before any record is handed out.
func ReadPage(resp *http.Response, maxBytes int64, key string) (*JSONResponse, error) {
	return readJSON(resp, maxBytes, newPage(key))
}

// DoPage is Do reading the response with ReadPage.
func DoPage(ctx context.Context, d Doer, r *Request, maxBytes int64, key string) (*JSONResponse, error) {
	return do(ctx, d, r, maxBytes, newPage(key))
}
