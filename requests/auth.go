package requests

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
)

// Authenticator puts credentials on a request. Authenticators are safe for
// concurrent use; turn one into a Middleware with Authorize.
type Authenticator interface {
	Authorize(req *http.Request) error
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(*http.Request) error

// Authorize calls f(req).
func (f AuthenticatorFunc) Authorize(req *http.Request) error { return f(req) }

// Reauthenticator is an Authenticator whose credentials can go stale before
// their announced expiry (OAuth access tokens): on a 401 the middleware calls
// Invalidate with the request it sent and, if it returns true, authorizes and
// sends the request once more.
type Reauthenticator interface {
	Authenticator
	// Invalidate drops the credentials req was sent with, unless they were
	// already replaced; it reports whether a retry is worthwhile.
	Invalidate(req *http.Request) bool
}

// Authorize is the middleware of a: every request gets its credentials on a
// clone (the caller's request is never changed). With a Reauthenticator, a
// 401 answer renews the credentials and the request is sent again, once.
func Authorize(a Authenticator) Middleware {
	return func(next Doer) Doer {
		return DoerFunc(func(req *http.Request) (*http.Response, error) {
			out, err := authorized(a, req)
			if err != nil {
				return nil, err
			}
			resp, err := next.Do(out)
			if err != nil || resp.StatusCode != http.StatusUnauthorized {
				return resp, err
			}
			ra, ok := a.(Reauthenticator)
			if !ok || !ra.Invalidate(out) || !replayable(req) {
				return resp, nil
			}
			retry, err := authorized(a, req)
			if err != nil {
				drain(resp)
				return nil, err // why the renewal failed (a revoked grant) says more than the 401
			}
			if req.Body != nil && req.GetBody != nil {
				if retry.Body, err = req.GetBody(); err != nil {
					return resp, nil
				}
			}
			drain(resp)
			return next.Do(retry)
		})
	}
}

// authorized returns a clone of req with credentials, its context noting
// what they are so that a redirect elsewhere drops them.
func authorized(a Authenticator, req *http.Request) (*http.Request, error) {
	c := &credentials{from: req.URL}
	if s, ok := a.(*scoped); ok {
		c.hosts = s.hosts
	} else if s, ok := a.(*scopedHooks); ok {
		c.hosts = s.hosts
	}
	out := req.Clone(withCredentials(req.Context(), c))
	if err := a.Authorize(out); err != nil {
		return nil, err
	}
	c.record(req, out)
	return out, nil
}

// replayable: a request with a body can only be sent again if it can be
// rebuilt.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// APIKeyHeader sends key in header, after prefix: APIKeyHeader("Authorization",
// "Klaviyo-API-Key ", key), APIKeyHeader("X-Api-Key", "", key).
func APIKeyHeader(header, prefix, key string) Authenticator {
	return AuthenticatorFunc(func(req *http.Request) error {
		if key == "" {
			return ErrNoCredentials
		}
		req.Header.Set(header, prefix+key)
		return nil
	})
}

// APIKeyInQuery sends key as the query parameter param (other parameters
// keep their encoding). Logged URLs redact it when param looks secret
// (api_key, token, ...); register other parameters' values as secrets.
func APIKeyInQuery(param, key string) Authenticator {
	return AuthenticatorFunc(func(req *http.Request) error {
		if key == "" {
			return ErrNoCredentials
		}
		u := *req.URL
		if !u.Query().Has(param) {
			kv := url.QueryEscape(param) + "=" + url.QueryEscape(key)
			if u.RawQuery == "" {
				u.RawQuery = kv
			} else {
				u.RawQuery += "&" + kv
			}
		} else {
			q := u.Query()
			q.Set(param, key)
			u.RawQuery = q.Encode()
		}
		req.URL = &u
		return nil
	})
}

// Bearer sends "Authorization: Bearer token".
func Bearer(token string) Authenticator { return APIKeyHeader("Authorization", "Bearer ", token) }

// Basic sends HTTP basic credentials. An empty password is allowed (APIs
// that take a key as the user name).
func Basic(user, password string) Authenticator {
	v := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	return AuthenticatorFunc(func(req *http.Request) error {
		if user == "" {
			return ErrNoCredentials
		}
		req.Header.Set("Authorization", v)
		return nil
	})
}

// ErrNoCredentials is returned by an authenticator given empty credentials.
var ErrNoCredentials = errors.New("requests: no credentials: the key or token is empty")

// drain lets the connection be reused before a response is dropped.
func drain(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}
