package requests

import (
	"net"
	"net/http"
	"time"
)

// Doer sends an HTTP request. *http.Client implements it.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// DoerFunc adapts a function to Doer.
type DoerFunc func(*http.Request) (*http.Response, error)

// Do calls f(req).
func (f DoerFunc) Do(req *http.Request) (*http.Response, error) { return f(req) }

// Middleware decorates a Doer.
type Middleware func(Doer) Doer

// Chain wraps d with mw. The first middleware is the outermost: it sees
// the request first and the response last.
func Chain(d Doer, mw ...Middleware) Doer {
	for i := len(mw) - 1; i >= 0; i-- {
		d = mw[i](d)
	}
	return d
}

// DefaultClient returns an *http.Client tuned for API extraction. It has
// no overall Timeout because response bodies can be large and slow to
// stream; bound each attempt with the Timeout middleware instead. A
// redirect to another origin loses the credentials Authorize added
// (StripCredentialsOnRedirect).
func DefaultClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			ExpectContinueTimeout: time.Second,
			MaxIdleConns:          128,
			MaxIdleConnsPerHost:   64, // requests in flight at the default concurrency limit stay on open connections
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: StripCredentialsOnRedirect,
	}
}

// withClone returns middleware that edits a clone of each request, so the
// caller's request (possibly reused by Retry) is never mutated.
func withClone(edit func(*http.Request)) Middleware {
	return func(next Doer) Doer {
		return DoerFunc(func(req *http.Request) (*http.Response, error) {
			c := req.Clone(req.Context())
			edit(c)
			return next.Do(c)
		})
	}
}

// Header sets header k to v on every request, overriding the request's own.
// It never changes the caller's request: it sets the header on a copy, and
// it runs on every request, so it copies less than Request.Clone: the
// request, its URL and its header map (values shared, capped so that an
// Add further down reallocates), the key canonicalised once. A request
// that has exactly that header already goes on as it is, with no copy:
// the requests of an integ page loop carry the user agent from the first.
func Header(k, v string) Middleware {
	k = http.CanonicalHeaderKey(k)
	return func(next Doer) Doer {
		return DoerFunc(func(req *http.Request) (*http.Response, error) {
			if vs := req.Header[k]; len(vs) == 1 && vs[0] == v {
				return next.Do(req) // set already (a page loop's requests carry it): no copy
			}
			c := new(http.Request)
			*c = *req
			if req.URL != nil {
				u := *req.URL
				c.URL = &u
			}
			h := make(http.Header, len(req.Header)+1)
			for hk, hv := range req.Header {
				h[hk] = hv[:len(hv):len(hv)]
			}
			h[k] = []string{v}
			c.Header = h
			return next.Do(c)
		})
	}
}

// UserAgent sets the User-Agent header.
func UserAgent(ua string) Middleware { return Header("User-Agent", ua) }
