package requests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
)

// DefaultMaxResponseBytes bounds a JSON response held in memory when the
// caller passes maxBytes <= 0. 256 MiB fits the largest single pages seen
// in practice while stopping a runaway body before it exhausts memory.
const DefaultMaxResponseBytes = 256 << 20

// errorBodyLimit bounds how much of a non-2xx body is read for the excerpt.
const errorBodyLimit = 64 << 10

// excerptLen is the size of body excerpts in errors.
const excerptLen = 200

var (
	// ErrTooLarge means a response body exceeded the byte limit.
	ErrTooLarge = errors.New("requests: response body too large")
	// ErrNotJSON means a 2xx response body is not valid JSON (an HTML
	// error page behind a proxy, a truncated body, ...).
	ErrNotJSON = errors.New("requests: response is not valid JSON")
)

// JSONResponse is a fully read, validated JSON response.
type JSONResponse struct {
	Status int
	Header http.Header
	URL    string // the request URL (unredacted)
	Body   []byte // never mutated after reading

	pooled *[]byte // Body's buffer, returned to the pool by Release
	page   *Page   // the records ReadPage found, nil for ReadJSON

	method    string // the request's, for errors
	unchecked bool   // read by FetchUnchecked, not yet validated
}

// Get runs a gjson path against the body without copying it: a string
// result may share the body's memory, so clone what must outlive a Release.
func (r *JSONResponse) Get(path string) gjson.Result {
	return gjson.Get(bytesView(r.Body), path)
}

// Raw returns the body.
func (r *JSONResponse) Raw() []byte { return r.Body }

// bytesView returns b as a string without copying; safe because the body
// is never written to once read.
func bytesView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// StatusError reports a non-2xx response.
type StatusError struct {
	Method      string
	URL         string // redacted
	Status      int
	Attempts    int // requests sent, including retries; at least 1
	BodyExcerpt string
	// Body is the error body, up to 64 KiB: an API's explanation can run
	// past the excerpt (Stripe names the missing permission at the end).
	Body   []byte
	Header http.Header
}

func (e *StatusError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Attempts > 1 {
		fmt.Fprintf(&sb, " after %d attempts", e.Attempts)
	}
	if e.BodyExcerpt != "" {
		sb.WriteString(": ")
		sb.WriteString(e.BodyExcerpt)
	}
	return sb.String()
}

// ReadJSON reads and closes resp.Body and returns it as a JSONResponse.
//
// It fails with a *StatusError for a non-2xx status, with an error wrapping
// ErrTooLarge when the body exceeds maxBytes (DefaultMaxResponseBytes if
// maxBytes <= 0), and with an error wrapping ErrNotJSON when the body is
// not valid JSON. An empty 2xx body (204 No Content, or Content-Length: 0)
// is a valid response whose Body is the JSON literal null, so Get finds
// nothing and callers need no special case.
func ReadJSON(resp *http.Response, maxBytes int64) (*JSONResponse, error) {
	return readJSON(resp, maxBytes, nil)
}

// readJSON is ReadJSON that, given a page, also finds its records.
func readJSON(resp *http.Response, maxBytes int64, pg *Page) (*JSONResponse, error) {
	r, err := readUnchecked(resp, maxBytes)
	if err != nil {
		pg.release()
		return nil, err
	}
	if err := r.check(pg); err != nil {
		return nil, err
	}
	return r, nil
}

// readUnchecked reads and closes resp.Body as ReadJSON does, without
// checking that the body is JSON.
func readUnchecked(resp *http.Response, maxBytes int64) (*JSONResponse, error) {
	defer resp.Body.Close()
	if maxBytes <= 0 {
		maxBytes = DefaultMaxResponseBytes
	}
	method, rawURL := requestOf(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, min(maxBytes, errorBodyLimit)))
		h := resp.Header.Clone()
		attempts := 1
		if h != nil {
			if n, err := strconv.Atoi(h.Get(AttemptsHeader)); err == nil && n > 0 {
				attempts = n
			}
			h.Del(AttemptsHeader)
		}
		return nil, &StatusError{
			Method:      method,
			URL:         RedactURL(rawURL),
			Status:      resp.StatusCode,
			Attempts:    attempts,
			BodyExcerpt: Excerpt(b),
			Body:        b,
			Header:      h,
		}
	}
	bp, err := readResponseBody(resp, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, RedactURL(rawURL), err)
	}
	b := *bp
	if int64(len(b)) > maxBytes {
		putBody(bp)
		return nil, fmt.Errorf("%s %s: %w (limit %d bytes)", method, RedactURL(rawURL), ErrTooLarge, maxBytes)
	}
	r := &JSONResponse{Status: resp.StatusCode, Header: resp.Header, URL: rawURL, Body: b, pooled: bp, method: method, unchecked: true}
	if len(b) == 0 {
		putBody(bp)
		r.Body, r.pooled = []byte("null"), nil
	}
	return r, nil
}

// check validates the body and, given a page, finds its records in the
// same pass. An invalid body is released.
func (r *JSONResponse) check(pg *Page) error {
	if !scanJSON(r.Body, pg) {
		err := fmt.Errorf("%s %s: %w (Content-Type %q, %d bytes): %s",
			r.method, RedactURL(r.URL), ErrNotJSON, r.Header.Get("Content-Type"), len(r.Body), Excerpt(r.Body))
		pg.release()
		r.Release()
		return err
	}
	r.page, r.unchecked = pg, false
	return nil
}

// FetchUnchecked sends r like Do and reads the whole body, but does not
// check that it is JSON: until CheckPage, the body is the server's bytes
// as they came, and Get reads them as gjson reads anything. It is for
// pipelining, where the request after a page can be worked out before the
// page is validated (see CountsRecords). A non-2xx status, an oversized
// body and a failed read fail as they do for Do.
func FetchUnchecked(ctx context.Context, d Doer, r *Request, maxBytes int64) (*JSONResponse, error) {
	resp, err := send(ctx, d, r)
	if err != nil {
		return nil, err
	}
	return readUnchecked(resp, maxBytes)
}

// CheckPage validates a response read by FetchUnchecked as ReadPage would
// (as ReadJSON would, for a path that is not a PageKey), finding the
// records at key in the same pass. An invalid body fails with an error
// wrapping ErrNotJSON, and the response is released. It does nothing to a
// response already checked.
func (r *JSONResponse) CheckPage(key string) error {
	if !r.unchecked {
		return nil
	}
	if !PageKey(key) {
		return r.check(nil)
	}
	return r.check(newPage(key))
}

// readResponseBody returns the body's buffer: Retry's, when it has read
// the whole body already, or a new read.
func readResponseBody(resp *http.Response, maxBytes int64) (*[]byte, error) {
	if bb, ok := resp.Body.(*bufferedBody); ok {
		if bp, ok := bb.take(); ok {
			return bp, nil
		}
	}
	return readBody(resp.Body, resp.ContentLength, maxBytes)
}

func requestOf(resp *http.Response) (method, rawURL string) {
	if resp.Request == nil {
		return "", ""
	}
	method = resp.Request.Method
	if method == "" {
		method = http.MethodGet
	}
	if resp.Request.URL != nil {
		rawURL = resp.Request.URL.String()
	}
	return method, rawURL
}

// Excerpt returns up to ~200 bytes of b on one line: whitespace runs
// collapse to a space, control and invalid bytes are dropped, and a cut
// is marked with "...". It is meant for error messages.
func Excerpt(b []byte) string {
	var sb strings.Builder
	space := false
	for len(b) > 0 && sb.Len() < excerptLen {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r == utf8.RuneError && size <= 1:
			continue
		case unicode.IsSpace(r):
			space = sb.Len() > 0
			continue
		case !unicode.IsPrint(r):
			continue
		}
		if space {
			sb.WriteByte(' ')
			space = false
		}
		sb.WriteRune(r)
	}
	if len(bytes.TrimSpace(b)) > 0 {
		sb.WriteString("...")
	}
	return sb.String()
}

// Do builds r, sends it with d and reads the JSON response (see ReadJSON).
// Errors name the method and redacted URL.
func Do(ctx context.Context, d Doer, r *Request, maxBytes int64) (*JSONResponse, error) {
	return do(ctx, d, r, maxBytes, nil)
}

func do(ctx context.Context, d Doer, r *Request, maxBytes int64, pg *Page) (*JSONResponse, error) {
	resp, err := send(ctx, d, r)
	if err != nil {
		pg.release()
		return nil, err
	}
	return readJSON(resp, maxBytes, pg)
}

// send builds r and sends it with d; errors name the request.
func send(ctx context.Context, d Doer, r *Request) (*http.Response, error) {
	req, err := r.Build(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := d.Do(req)
	if err != nil {
		var ae *AttemptsError
		if errors.As(err, &ae) {
			return nil, err // already names the request
		}
		return nil, fmt.Errorf("%s %s: %w", req.Method, RedactURL(req.URL.String()), stripURLError(err))
	}
	if resp.Request == nil {
		resp.Request = req
	}
	return resp, nil
}
