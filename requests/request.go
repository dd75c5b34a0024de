// Package requests is the HTTP layer of integ: an immutable-ish request
// builder, composable Doer middleware (timeouts, auth, retries, rate
// limiting), bounded JSON response reading with gjson access, secret
// redaction for logs and errors, and pagination helpers.
//
// A typical client is built once per run and shared by every stream:
//
//	limiter := requests.NewLimiter(5, 10)
//	doer := requests.Chain(requests.DefaultClient(),
//		requests.UserAgent("integ/1.0"),
//		requests.Authorize(requests.Bearer(token)),
//		requests.Retry(requests.RetryOptions{}),
//		requests.RateLimit(limiter),       // every attempt takes a token
//		requests.Timeout(60*time.Second), // per attempt
//	)
//	resp, err := requests.Do(ctx, doer, requests.New(url).Query("limit", "100"), 0)
//
// The package depends on nothing else in this module.
package requests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Request describes an HTTP request before it is built. The chainable
// setters mutate and return the receiver; use Clone to branch.
type Request struct {
	method string
	base   string // URL without query string or fragment
	query  []queryParam
	header http.Header
	body   []byte
	err    error // deferred error (bad JSON body), reported by Build
}

// queryParam keeps the original encoding of parameters that came in the
// raw URL so that signed "next" URLs are sent back byte for byte.
type queryParam struct {
	key, value string
	raw        string // original "k=v" segment; empty for added params
}

// New returns a GET request for rawURL. A query string already present in
// rawURL is kept byte for byte (signed or opaque "next" links must go back
// exactly as the API handed them out); Query appends to it. A fragment is
// dropped.
func New(rawURL string) *Request {
	r := &Request{method: http.MethodGet, header: http.Header{}}
	base, rawQuery, _ := strings.Cut(rawURL, "?")
	if i := strings.IndexByte(base, '#'); i >= 0 {
		base, rawQuery = base[:i], ""
	}
	if i := strings.IndexByte(rawQuery, '#'); i >= 0 {
		rawQuery = rawQuery[:i]
	}
	r.base = base
	for seg := range strings.SplitSeq(rawQuery, "&") {
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			dk, dv = k, v // keep undecodable params verbatim
		}
		r.query = append(r.query, queryParam{key: dk, value: dv, raw: seg})
	}
	return r
}

// Query appends a query parameter, keeping earlier values of k.
func (r *Request) Query(k, v string) *Request {
	r.query = append(r.query, queryParam{key: k, value: v})
	return r
}

// SetQuery replaces every value of k (including ones from the raw URL).
// The parameter keeps the position of its first occurrence.
func (r *Request) SetQuery(k, v string) *Request {
	kept := r.query[:0]
	found := false
	for _, p := range r.query {
		switch {
		case p.key != k:
			kept = append(kept, p)
		case !found:
			kept = append(kept, queryParam{key: k, value: v})
			found = true
		}
	}
	if !found {
		kept = append(kept, queryParam{key: k, value: v})
	}
	r.query = kept
	return r
}

// QueryValue returns the first value of query parameter k, or "".
func (r *Request) QueryValue(k string) string {
	for _, p := range r.query {
		if p.key == k {
			return p.value
		}
	}
	return ""
}

// Header sets a request header, replacing earlier values.
func (r *Request) Header(k, v string) *Request {
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set(k, v)
	return r
}

// Method sets the HTTP method.
func (r *Request) Method(m string) *Request {
	r.method = m
	return r
}

// Body sets the request body. The bytes are not copied.
func (r *Request) Body(b []byte) *Request {
	r.body = b
	return r
}

// JSONBody marshals v as the body and sets Content-Type. A marshal error
// is kept and returned by Build, so chains stay unbroken.
func (r *Request) JSONBody(v any) *Request {
	b, err := json.Marshal(v)
	if err != nil {
		r.err = fmt.Errorf("requests: marshal JSON body: %w", err)
		return r
	}
	r.body = b
	return r.Header("Content-Type", "application/json")
}

// Clone returns a deep copy of r.
func (r *Request) Clone() *Request {
	c := *r
	c.query = append([]queryParam(nil), r.query...)
	c.header = r.header.Clone()
	if r.body != nil {
		c.body = bytes.Clone(r.body)
	}
	return &c
}

// SetBodyField sets the top-level field of the JSON object body to the
// raw JSON value (a POST search's "after" cursor), keeping the other
// fields and their order. An empty body becomes an object. A body that is
// not a JSON object is an error, reported by Build.
func (r *Request) SetBodyField(field string, value json.RawMessage) *Request {
	if !json.Valid(value) || !utf8.ValidString(field) {
		r.err = fmt.Errorf("requests: body field %q: value is not JSON, or the name is not UTF-8", field)
		return r
	}
	body := bytes.TrimSpace(r.body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		r.err = fmt.Errorf("requests: body field %q: the body is not a JSON object", field)
		return r
	}
	key, _ := json.Marshal(field)
	var out bytes.Buffer
	replaced := false
	// Walk the object's members in order so the body stays as written.
	dec := json.NewDecoder(bytes.NewReader(body))
	_, _ = dec.Token() // {
	out.WriteByte('{')
	for dec.More() {
		t, _ := dec.Token()
		k, _ := t.(string)
		var v json.RawMessage
		_ = dec.Decode(&v)
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		out.Write(kb)
		out.WriteByte(':')
		if k == field {
			out.Write(value)
			replaced = true
			continue
		}
		out.Write(v)
	}
	if !replaced {
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		out.Write(key)
		out.WriteByte(':')
		out.Write(value)
	}
	out.WriteByte('}')
	r.body = out.Bytes()
	if r.header.Get("Content-Type") == "" {
		r = r.Header("Content-Type", "application/json")
	}
	return r
}

// Fingerprint identifies what r fetches: method, URL and body. Two
// requests with the same fingerprint ask for the same page, which is how
// pagination loops are caught.
func (r *Request) Fingerprint() string {
	if len(r.body) == 0 {
		return r.method + " " + r.URL()
	}
	return r.method + " " + r.URL() + "\n" + string(r.body)
}

// URL returns the full URL including the query string.
func (r *Request) URL() string {
	if len(r.query) == 0 {
		return r.base
	}
	var sb strings.Builder
	sb.WriteString(r.base)
	for i, p := range r.query {
		if i == 0 {
			sb.WriteByte('?')
		} else {
			sb.WriteByte('&')
		}
		if p.raw != "" {
			sb.WriteString(p.raw)
			continue
		}
		sb.WriteString(url.QueryEscape(p.key))
		sb.WriteByte('=')
		sb.WriteString(url.QueryEscape(p.value))
	}
	return sb.String()
}

// String returns the method and redacted URL, for logs.
func (r *Request) String() string { return r.method + " " + RedactURL(r.URL()) }

// Resolve returns a new GET request for ref resolved against r's URL (RFC
// 3986), for relative "next" links. Headers set on r are carried over;
// method, body and query parameters are not.
func (r *Request) Resolve(ref string) *Request {
	base, err := url.Parse(r.URL())
	if err != nil {
		n := New(ref)
		n.err = fmt.Errorf("requests: resolve %q: %w", RedactURL(ref), err)
		return n
	}
	u, err := url.Parse(ref)
	if err != nil {
		n := New(ref)
		n.err = fmt.Errorf("requests: resolve %q: %w", RedactURL(ref), err)
		return n
	}
	n := New(base.ResolveReference(u).String())
	n.header = r.header.Clone()
	return n
}

// Build returns an *http.Request bound to ctx. Bodies are replayable:
// GetBody is set so retries and redirects can resend them.
func (r *Request) Build(ctx context.Context) (*http.Request, error) {
	if r.err != nil {
		return nil, r.err
	}
	var req *http.Request
	var err error
	if r.body != nil {
		// NewRequest sets ContentLength and GetBody for a *bytes.Reader.
		req, err = http.NewRequestWithContext(ctx, r.method, r.URL(), bytes.NewReader(r.body))
	} else {
		req, err = http.NewRequestWithContext(ctx, r.method, r.URL(), nil)
	}
	if err != nil {
		return nil, fmt.Errorf("requests: build %s %s: %w", r.method, RedactURL(r.URL()), stripURLError(err))
	}
	for k, vs := range r.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	return req, nil
}
