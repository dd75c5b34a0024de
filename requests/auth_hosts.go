package requests

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Hosts is the set of origins (scheme, host and port) credentials may be
// sent to: the API's base URL, plus hosts a connector names (an OAuth
// instance_url learned at run time). A paginator's next URL or a redirect
// to anywhere else (a signed S3 download, a CDN) goes out without them.
// Hosts is safe for concurrent use; hosts may be added while requests run.
type Hosts struct {
	mu      sync.RWMutex
	origins []originKey
	adopt   bool // the first origin asked about joins an empty set
}

// NewHosts returns the set of the given hosts: URLs
// ("https://api.example.com/v2": the path is ignored) or bare hosts
// ("api.example.com", "api.example.com:8443": https). It panics on none
// of them: a connector's constants, not user input; use Add for those.
func NewHosts(urlsOrHosts ...string) *Hosts {
	h := &Hosts{}
	for _, u := range urlsOrHosts {
		if err := h.Add(u); err != nil {
			panic(err)
		}
	}
	return h
}

// ErrNoHost means a URL or host given to Hosts names no host.
var ErrNoHost = errors.New("requests: no host")

// Add lets credentials go to the origin of urlOrHost too.
func (h *Hosts) Add(urlOrHost string) error {
	o, err := originOf(urlOrHost)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Contains(h.origins, o) {
		h.origins = append(h.origins, o)
	}
	return nil
}

// AdoptFirst makes a set that is still empty take the origin of the first
// request it is asked about (trust on first use), for sources that name no
// host: a run's first authorized request goes to its API. It returns h.
func (h *Hosts) AdoptFirst() *Hosts {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.adopt = true
	return h
}

// Allows reports whether credentials may go to u.
func (h *Hosts) Allows(u *url.URL) bool {
	o := origin(u)
	h.mu.RLock()
	ok, adopt := slices.Contains(h.origins, o), h.adopt && len(h.origins) == 0
	h.mu.RUnlock()
	if ok || !adopt {
		return ok
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.origins) == 0 { // two first requests: one wins
		h.origins = append(h.origins, o)
	}
	return slices.Contains(h.origins, o)
}

// String lists the origins, for messages.
func (h *Hosts) String() string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var sb strings.Builder
	for i, o := range h.origins {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(o.scheme + "://" + o.host + ":" + o.port)
	}
	return sb.String()
}

// originKey is an origin: scheme, host and port, lower case, with the
// scheme's default port spelled out so that https://x and https://x:443
// are one. Comparing two allocates nothing.
type originKey struct{ scheme, host, port string }

// originOf parses a URL or a bare host into an origin.
func originOf(s string) (originKey, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return originKey{}, fmt.Errorf("%w in %q", ErrNoHost, RedactURL(s))
	}
	return origin(u), nil
}

func origin(u *url.URL) originKey {
	o := originKey{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname()), port: u.Port()}
	if o.port == "" {
		switch o.scheme {
		case "http":
			o.port = "80"
		case "https":
			o.port = "443"
		}
	}
	return o
}

// ScopeTo restricts a to the origins in h: a request to any other goes out
// without credentials (and a 401 from it renews nothing).
func ScopeTo(a Authenticator, h *Hosts) Authenticator {
	s := &scoped{a: a, hosts: h}
	if hk, ok := a.(tokenHooker); ok {
		return &scopedHooks{scoped: s, h: hk}
	}
	return s
}

type tokenHooker interface{ AddTokenHook(func(*Token)) }

type scoped struct {
	a     Authenticator
	hosts *Hosts
}

func (s *scoped) Authorize(req *http.Request) error {
	if !s.hosts.Allows(req.URL) {
		return nil
	}
	return s.a.Authorize(req)
}

func (s *scoped) Invalidate(req *http.Request) bool {
	ra, ok := s.a.(Reauthenticator)
	return ok && s.hosts.Allows(req.URL) && ra.Invalidate(req)
}

// scopedHooks keeps an OAuth2's AddTokenHook reachable through ScopeTo, so
// that its tokens are still registered as secrets.
type scopedHooks struct {
	*scoped
	h tokenHooker
}

func (s *scopedHooks) AddTokenHook(fn func(*Token)) { s.h.AddTokenHook(fn) }

// credKey marks an authorized request's context with what was added to it,
// for StripCredentialsOnRedirect.
type credKey struct{}

// credentials are what an authenticator put on one request, and where
// they may go.
type credentials struct {
	from    *url.URL // the authorized request's URL: its origin is computed on a redirect only
	hosts   *Hosts   // nil: the request's own origin only
	headers []string
	params  []string
	buf     [2]string // headers' first storage: most authenticators set one
}

func (c *credentials) allows(u *url.URL) bool {
	if c.hosts != nil {
		return c.hosts.Allows(u)
	}
	return origin(u) == origin(c.from)
}

// record notes the headers and query parameters that differ between the
// request before and after authorizing.
func (c *credentials) record(before, after *http.Request) {
	c.headers = c.buf[:0]
	for k, v := range after.Header {
		if !slices.Equal(before.Header[k], v) {
			c.headers = append(c.headers, k)
		}
	}
	if after.URL.RawQuery != before.URL.RawQuery {
		was := before.URL.Query()
		for k, v := range after.URL.Query() {
			if !slices.Equal(was[k], v) {
				c.params = append(c.params, k)
			}
		}
	}
}

func withCredentials(ctx context.Context, c *credentials) context.Context {
	return context.WithValue(ctx, credKey{}, c)
}

// maxRedirects is net/http's own limit, which a CheckRedirect replaces.
const maxRedirects = 10

// StripCredentialsOnRedirect is an http.Client's CheckRedirect that removes
// what Authorize added (headers such as X-Api-Key, which net/http forwards
// to any host, and query-string keys) from a redirect to an origin the
// credentials may not go to, and puts them back on one to an origin they
// may (net/http drops Authorization between hosts; a Location rarely
// repeats a query key). DefaultClient uses it; set it on a client of your
// own. Like net/http's default, it stops after 10 redirects.
func StripCredentialsOnRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	c, _ := req.Context().Value(credKey{}).(*credentials)
	if c == nil || len(via) == 0 {
		return nil
	}
	first := via[0] // the authorized request
	allowed := c.allows(req.URL)
	for _, h := range c.headers {
		if !allowed {
			req.Header.Del(h)
		} else if req.Header.Get(h) == "" {
			req.Header[h] = first.Header[h]
		}
	}
	if len(c.params) == 0 {
		return nil
	}
	q, had := req.URL.Query(), first.URL.Query()
	changed := false
	for _, p := range c.params {
		switch {
		case !allowed && q.Has(p):
			q.Del(p)
			changed = true
		case allowed && !q.Has(p) && had.Has(p):
			q[p] = had[p]
			changed = true
		}
	}
	if changed {
		u := *req.URL
		u.RawQuery = q.Encode()
		req.URL = &u
	}
	return nil
}
