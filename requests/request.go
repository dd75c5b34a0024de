// Package requests is the HTTP layer of integ: an immutable request
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
// A Request is immutable: New(url).Query(k, v).Header(k, v) makes a new
// request at each step and never changes the one it started from, so a
// base request can be kept and shared by streams, pages and concurrent
// partitions. Assign the result, req = req.Query(k, v): a builder call used
// as a statement does nothing, and make lint (cmd/integ-lint) reports it.
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

// Request describes an HTTP request before it is built. A Request is
// immutable: every builder method (Query, SetQuery, Header, Method, Body,
// JSONBody, SetBodyField, Resolve) returns a new *Request and leaves its
// receiver as it was, so a base request can be kept and shared, by streams
// and by partitions running concurrently, and derived from freely:
//
//	base := requests.New(url).Header("Accept", "application/json")
//	page := base.Query("page", "2") // base is unchanged
//
// Derived requests share what they did not change (query parameters,
// headers and body are never written in place), so deriving one costs a
// copy of the part that changes. A call whose result is dropped does
// nothing; the requestresult analyzer (make lint) reports it.
type Request struct {
	method string
	base   string       // URL without query string or fragment
	query  []queryParam // shared with derived requests: append only through withQuery
	header []headerField
	body   []byte // shared with derived requests: replaced, never written to
	err    error  // deferred error (bad JSON body), reported by Build

	// url is URL(), built once when the query is set rather than on each
	// call: a page's request was asked for it half a dozen times
	// (paginator, loop checks, Build, logs).
	url string
}

// queryParam keeps the original encoding of parameters that came in the
// raw URL so that signed "next" URLs are sent back byte for byte.
type queryParam struct {
	key, value string
	raw        string // original "k=v" segment; empty for added params
}

// headerField is one header, its key in canonical form; keys are unique.
// A slice rather than an http.Header so a derived request copies a few
// words instead of a map.
type headerField struct{ key, value string }

// New returns a GET request for rawURL. A query string already present in
// rawURL is kept byte for byte (signed or opaque "next" links must go back
// exactly as the API handed them out); Query appends to it. A fragment is
// dropped.
func New(rawURL string) *Request {
	r := &Request{method: http.MethodGet}
	base, rawQuery, _ := strings.Cut(rawURL, "?")
	if i := strings.IndexByte(base, '#'); i >= 0 {
		base, rawQuery = base[:i], ""
	}
	if i := strings.IndexByte(rawQuery, '#'); i >= 0 {
		rawQuery = rawQuery[:i]
	}
	r.base = base
	if rawQuery == "" {
		r.url = base
		return r
	}
	r.query = make([]queryParam, 0, strings.Count(rawQuery, "&")+1)
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
	r.url = r.buildURL()
	return r
}

// derive returns a shallow copy of r for a builder method to change.
func (r *Request) derive() *Request {
	c := *r
	return &c
}

// Query returns a copy of r with the query parameter k=v appended, keeping
// earlier values of k.
func (r *Request) Query(k, v string) *Request {
	c := r.derive()
	// The full slice expression makes append copy: the backing array may be
	// shared with r and its other derivations.
	c.query = append(r.query[:len(r.query):len(r.query)], queryParam{key: k, value: v})
	c.url = c.buildURL()
	return c
}

// SetQuery returns a copy of r in which k has the single value v, replacing
// every value of k (including ones from the raw URL). The parameter keeps
// the position of its first occurrence.
func (r *Request) SetQuery(k, v string) *Request {
	kept := make([]queryParam, 0, len(r.query)+1)
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
	c := r.derive()
	c.query = kept
	c.url = c.buildURL()
	return c
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

// Header returns a copy of r with header k set to v, replacing earlier
// values.
func (r *Request) Header(k, v string) *Request {
	k = http.CanonicalHeaderKey(k)
	h := make([]headerField, 0, len(r.header)+1)
	for _, f := range r.header {
		if f.key != k {
			h = append(h, f)
		}
	}
	c := r.derive()
	c.header = append(h, headerField{key: k, value: v})
	return c
}

// HeaderValue returns the value of header k, or "".
func (r *Request) HeaderValue(k string) string {
	k = http.CanonicalHeaderKey(k)
	for _, f := range r.header {
		if f.key == k {
			return f.value
		}
	}
	return ""
}

// Method returns a copy of r with the HTTP method m.
func (r *Request) Method(m string) *Request {
	c := r.derive()
	c.method = m
	return c
}

// Safe reports whether r's method is GET or HEAD: a request that reads
// and changes nothing, which may be sent before it is certain to be
// needed (see requests.CountsRecords).
func (r *Request) Safe() bool {
	return r.method == "" || r.method == http.MethodGet || r.method == http.MethodHead
}

// Body returns a copy of r with the body b. The bytes are not copied: do
// not change them while a request using them may be sent.
func (r *Request) Body(b []byte) *Request {
	c := r.derive()
	c.body = b
	return c
}

// JSONBody returns a copy of r with v marshalled as the body and
// Content-Type set. A marshal error is kept and returned by Build, so
// chains stay unbroken.
func (r *Request) JSONBody(v any) *Request {
	b, err := json.Marshal(v)
	if err != nil {
		c := r.derive()
		c.err = fmt.Errorf("requests: marshal JSON body: %w", err)
		return c
	}
	c := r.Header("Content-Type", "application/json")
	c.body = b
	return c
}

// Clone returns a copy of r with a copy of its body. Builder methods never
// change their receiver, so branching needs no Clone; it is for a body
// whose bytes the caller is about to change.
func (r *Request) Clone() *Request {
	c := r.derive()
	if r.body != nil {
		c.body = bytes.Clone(r.body)
	}
	return c
}

// SetBodyField returns a copy of r with the top-level field of the JSON
// object body set to the raw JSON value (a POST search's "after" cursor),
// keeping the other fields and their order. An empty body becomes an
// object. A body that is not a JSON object is an error, reported by Build.
func (r *Request) SetBodyField(field string, value json.RawMessage) *Request {
	if !json.Valid(value) || !utf8.ValidString(field) {
		c := r.derive()
		c.err = fmt.Errorf("requests: body field %q: value is not JSON, or the name is not UTF-8", field)
		return c
	}
	body := bytes.TrimSpace(r.body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		c := r.derive()
		c.err = fmt.Errorf("requests: body field %q: the body is not a JSON object", field)
		return c
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
	var c *Request
	if r.HeaderValue("Content-Type") == "" {
		c = r.Header("Content-Type", "application/json")
	} else {
		c = r.derive()
	}
	c.body = out.Bytes()
	return c
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
func (r *Request) URL() string { return r.url }

func (r *Request) buildURL() string {
	if len(r.query) == 0 {
		return r.base
	}
	// One allocation for the usual URL: its size unescaped, plus room for a
	// few escapes.
	n := len(r.base) + 16
	for _, p := range r.query {
		n += 2 + len(p.raw) + len(p.key) + len(p.value)
	}
	var sb strings.Builder
	sb.Grow(n)
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
	if plainAbsolute(ref) {
		// Most next links: absolute, nothing to resolve or normalize. Not
		// parsed here: Build parses the URL New keeps, which fails exactly
		// when ref does (New keeps the scheme, host and path as they are
		// and the query's parameters as they came, and plainAbsolute
		// refuses fragments, which New would drop unchecked).
		n := New(ref)
		n.header = r.header // never written in place: sharing is safe
		return n
	}
	return r.resolve(ref)
}

// resolve is Resolve by RFC 3986, for any reference.
func (r *Request) resolve(ref string) *Request {
	u, err := url.Parse(ref)
	if err != nil {
		n := New(ref)
		n.err = fmt.Errorf("requests: resolve %q: %w", RedactURL(ref), err)
		return n
	}
	base := u // an absolute reference (most next links) ignores the base
	if !u.IsAbs() {
		if base, err = url.Parse(r.URL()); err != nil {
			n := New(ref)
			n.err = fmt.Errorf("requests: resolve %q: %w", RedactURL(ref), err)
			return n
		}
	}
	n := New(base.ResolveReference(u).String())
	n.header = r.header // never written in place: sharing is safe
	return n
}

// plainAbsolute reports whether ref is an absolute http(s) URL with no
// dot segment in its path, which resolving would only copy, and no
// fragment (url.Parse checks it, New drops it) or control byte.
func plainAbsolute(ref string) bool {
	rest, ok := strings.CutPrefix(ref, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(ref, "http://"); !ok {
			return false
		}
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c < 0x20 || c == 0x7f || c == '#' {
			return false
		}
	}
	path, _, _ := strings.Cut(rest, "?")
	return !strings.Contains(path, "/.")
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
	if len(r.header) > 0 {
		// One backing array for every value: a header each, no append room.
		vals := make([]string, len(r.header))
		for i, f := range r.header {
			vals[i] = f.value
			req.Header[f.key] = vals[i : i+1 : i+1]
		}
	}
	return req, nil
}
