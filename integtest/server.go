package integtest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Masked replaces secret header and query values in recorded requests.
const Masked = "****"

// Server is an httptest server that records every request its handler
// answers, so a test can assert the parameters and headers the vendor
// documents. It closes when the test ends.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []Request
}

// Request is one recorded request. Header and Query hold secrets masked
// (Authorization, cookies, API-key headers and parameters): compare a
// secret with HeaderIs or QueryIs, which never print it.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte

	rawHeader http.Header
	rawQuery  url.Values
}

// NewServer starts h behind a recorder.
func NewServer(t testing.TB, h http.Handler) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := Request{
			Method: r.Method, Path: r.URL.Path, Body: body,
			rawHeader: r.Header.Clone(), rawQuery: r.URL.Query(),
		}
		rec.Header, rec.Query = maskHeader(r.Header), maskQuery(r.URL.Query())
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests returns the requests answered so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Reset forgets the recorded requests (between two syncs of one test).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// HeaderIs reports whether the request carried header name with exactly
// value (compared unmasked).
func (r Request) HeaderIs(name, value string) bool { return r.rawHeader.Get(name) == value }

// QueryIs reports whether the request carried parameter name with exactly
// value (compared unmasked).
func (r Request) QueryIs(name, value string) bool { return r.rawQuery.Get(name) == value }

// String is the request line with secrets masked.
func (r Request) String() string {
	if len(r.Query) == 0 {
		return r.Method + " " + r.Path
	}
	return r.Method + " " + r.Path + "?" + r.Query.Encode()
}

// secretHeaders are masked whatever their value.
var secretHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
}

func maskHeader(h http.Header) http.Header {
	out := h.Clone()
	for name, vals := range out {
		if !secretHeaders[name] && !looksSecret(name) {
			continue
		}
		for i, v := range vals {
			// Keep the scheme so a test can see "Bearer ****" was sent.
			if scheme, _, ok := strings.Cut(v, " "); ok && (name == "Authorization" || name == "Proxy-Authorization") {
				vals[i] = scheme + " " + Masked
			} else {
				vals[i] = Masked
			}
		}
	}
	return out
}

func maskQuery(q url.Values) url.Values {
	for name, vals := range q {
		if looksSecret(name) {
			for i := range vals {
				vals[i] = Masked
			}
		}
	}
	return q
}

// looksSecret matches names such as X-Api-Key, api_key, access_token,
// client_secret or password, but not page tokens.
func looksSecret(name string) bool {
	n := strings.NewReplacer("-", "", "_", "", ".", "").Replace(strings.ToLower(name))
	for _, p := range []string{"page", "next", "cursor", "continuation"} {
		if strings.Contains(n, p) {
			return false
		}
	}
	for _, s := range []string{"key", "token", "secret", "password", "passwd", "signature", "credential", "auth", "session"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return n == "sig"
}
