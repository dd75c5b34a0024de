package requests

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// ErrPaginationLoop means an API handed out a next page token or URL that
// was already requested in this run; following it would never end.
var ErrPaginationLoop = errors.New("requests: pagination loop")

// Paginator computes the request for the page after prev. It returns nil
// when there are no more pages. count is the number of records on the
// page just read; every built-in paginator stops when it is 0.
//
// The built-in paginators are safe for concurrent use and may be shared
// by streams and reused across runs without Reset: NextURL, LinkHeader
// and Cursor track each run separately, keyed by the URL of the request
// they handed out last, so a prev they did not produce starts a new run.
type Paginator interface {
	Next(prev *Request, resp *JSONResponse, count int) (*Request, error)
}

// Resetter is implemented by paginators with per-run state. Reset forgets
// every run, including ones abandoned after an error.
type Resetter interface {
	Reset()
}

// PaginatorFunc adapts a function to Paginator.
type PaginatorFunc func(prev *Request, resp *JSONResponse, count int) (*Request, error)

// Next calls f.
func (f PaginatorFunc) Next(prev *Request, resp *JSONResponse, count int) (*Request, error) {
	return f(prev, resp, count)
}

// loopGuard remembers, for each run in progress, the tokens it has used.
// Runs are keyed by the URL of their latest request, so only the frontier
// of live runs is kept.
type loopGuard struct {
	mu     sync.Mutex
	chains map[string]map[string]bool
}

func (g *loopGuard) Reset() {
	g.mu.Lock()
	g.chains = nil
	g.mu.Unlock()
}

// advance moves the run at prevURL to nextURL and reports whether token
// was already used by that run. prevToken (when non-empty) is the token
// of prev itself.
func (g *loopGuard) advance(prevURL, prevToken, nextURL, token string) (repeated bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	seen := g.chains[prevURL]
	if seen == nil {
		seen = map[string]bool{} // prev was not handed out by us: a new run
	}
	delete(g.chains, prevURL)
	if prevToken != "" {
		seen[prevToken] = true
	}
	if seen[token] {
		return true
	}
	seen[token] = true
	if g.chains == nil {
		g.chains = map[string]map[string]bool{}
	}
	g.chains[nextURL] = seen
	return false
}

// end forgets the run at prevURL.
func (g *loopGuard) end(prevURL string) {
	g.mu.Lock()
	delete(g.chains, prevURL)
	g.mu.Unlock()
}

func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

type urlPaginator struct {
	loopGuard
	next func(resp *JSONResponse) string
}

func (p *urlPaginator) Next(prev *Request, resp *JSONResponse, count int) (*Request, error) {
	ref := ""
	if count > 0 && resp != nil {
		ref = strings.TrimSpace(p.next(resp))
	}
	if ref == "" {
		p.end(prev.URL())
		return nil, nil
	}
	n := prev.Resolve(ref)
	if p.advance(prev.URL(), prev.URL(), n.URL(), n.URL()) {
		return nil, fmt.Errorf("%w: next URL %s was already requested", ErrPaginationLoop, shorten(RedactURL(n.URL())))
	}
	return n, nil
}

// NextURL follows the URL found at gjson path in the body, absolute or
// relative to the previous request's URL. A missing, null or empty value
// ends pagination.
func NextURL(path string) Paginator {
	return &urlPaginator{next: func(resp *JSONResponse) string {
		return strings.Clone(resp.Get(path).String()) // the body may be released and reused
	}}
}

// LinkHeader follows the RFC 8288 Link header with rel="next", as sent
// by GitHub and many others.
func LinkHeader() Paginator {
	return &urlPaginator{next: func(resp *JSONResponse) string {
		for _, v := range resp.Header.Values("Link") {
			for _, l := range ParseLinkHeader(v) {
				if l.HasRel("next") {
					return l.URL
				}
			}
		}
		return ""
	}}
}

type offsetPaginator struct {
	offsetParam, limitParam string
	size                    int
}

func (p *offsetPaginator) Reset() {}

func (p *offsetPaginator) Next(prev *Request, _ *JSONResponse, count int) (*Request, error) {
	if count == 0 || p.size > 0 && count < p.size {
		return nil, nil
	}
	off := 0
	if v := prev.QueryValue(p.offsetParam); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("requests: offset paginator: %s=%q is not an integer", p.offsetParam, v)
		}
		off = n
	}
	n := prev.Clone().SetQuery(p.offsetParam, strconv.Itoa(off+count))
	if p.limitParam != "" && p.size > 0 {
		n.SetQuery(p.limitParam, strconv.Itoa(p.size))
	}
	return n, nil
}

// Offset pages with an offset parameter advanced by the records read, and
// a limit parameter set to size. A page shorter than size (when size > 0)
// is the last. The offset is read back from the previous request, so the
// paginator is stateless.
func Offset(offsetParam, limitParam string, size int) Paginator {
	return &offsetPaginator{offsetParam: offsetParam, limitParam: limitParam, size: size}
}

type pagePaginator struct {
	pageParam, sizeParam string
	size, start          int
}

func (p *pagePaginator) Reset() {}

func (p *pagePaginator) Next(prev *Request, _ *JSONResponse, count int) (*Request, error) {
	if count == 0 || p.size > 0 && count < p.size {
		return nil, nil
	}
	page := p.start
	if v := prev.QueryValue(p.pageParam); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("requests: page paginator: %s=%q is not an integer", p.pageParam, v)
		}
		page = n
	}
	n := prev.Clone().SetQuery(p.pageParam, strconv.Itoa(page+1))
	if p.sizeParam != "" && p.size > 0 {
		n.SetQuery(p.sizeParam, strconv.Itoa(p.size))
	}
	return n, nil
}

// PageNumber pages with a page number parameter. A previous request
// without it is taken to be page start (usually 0 or 1). A page shorter
// than size (when size > 0) or empty is the last. Stateless.
func PageNumber(pageParam, sizeParam string, size, start int) Paginator {
	return &pagePaginator{pageParam: pageParam, sizeParam: sizeParam, size: size, start: start}
}

type cursorPaginator struct {
	loopGuard
	path, param string
}

func (p *cursorPaginator) Next(prev *Request, resp *JSONResponse, count int) (*Request, error) {
	tok := ""
	if count > 0 && resp != nil {
		tok = strings.Clone(resp.Get(p.path).String()) // the body may be released and reused
	}
	if tok == "" {
		p.end(prev.URL())
		return nil, nil
	}
	n := prev.Clone().SetQuery(p.param, tok)
	if p.advance(prev.URL(), prev.QueryValue(p.param), n.URL(), tok) {
		shown := shorten(tok)
		if isSecretParam(p.param) {
			shown = Redacted
		}
		return nil, fmt.Errorf("%w: cursor %s=%s was already requested", ErrPaginationLoop, p.param, shown)
	}
	return n, nil
}

// Cursor sends the token found at gjson path in the body as query
// parameter param. A missing, null or empty token ends pagination.
func Cursor(path, param string) Paginator {
	return &cursorPaginator{path: path, param: param}
}
