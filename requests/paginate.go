package requests

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/tidwall/gjson"
)

// ErrPaginationLoop means an API handed out a next page token or URL that
// was already requested in this run; following it would never end.
var ErrPaginationLoop = errors.New("requests: pagination loop")

// ErrTooManyPages means a paginator's MaxPages cap was reached while the
// API still had more pages.
var ErrTooManyPages = errors.New("requests: too many pages")

// Paginator computes the request for the page after prev. It returns nil
// when there are no more pages. count is the number of records on the
// page just read; every built-in paginator stops when it is 0.
//
// integ's EmitPages calls Next in page order, on a goroutine of its own,
// while earlier pages are still being written: Next must not touch the
// stream's context. For the built-in paginators that only ask whether a
// page was empty (CountsRecords), it calls Next before the page is
// validated, with count 1 for a page that has records.
//
// The built-in paginators are safe for concurrent use and may be shared
// by streams and reused across runs without Reset: the ones with tokens
// track each run separately, keyed by the request they handed out last
// (its Key), so a prev they did not produce starts a new run.
// They copy prev, never change it. Options (HasMore, ShortPageEnds,
// MaxPages) add stop conditions to any of them, and Paginate adds them
// to a paginator of your own.
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

// CountsRecords reports whether p's Next needs a page's exact record
// count. When it does not, only whether the page had any records, the
// request after a page can be worked out (and sent) before the page's
// records are counted, which takes a full pass over the page: the pass
// then overlaps the server's work on the next one. The built-in
// paginators that follow a URL, a cursor or a page number only ask
// whether a page was empty; Offset and LastRecordCursor count, and so do
// ShortPageEnds and StopWhen. Any other paginator is taken to count.
func CountsRecords(p Paginator) bool {
	e, ok := p.(emptinessOnly)
	return !ok || !e.onlyEmptiness()
}

// emptinessOnly is implemented by the paginators that read count only to
// see whether it is 0.
type emptinessOnly interface{ onlyEmptiness() bool }

func (p *urlPaginator) onlyEmptiness() bool        { return true }
func (p *cursorPaginator) onlyEmptiness() bool     { return true }
func (p *pagePaginator) onlyEmptiness() bool       { return true }
func (p *bodyCursorPaginator) onlyEmptiness() bool { return true }
func (p *ruledPaginator) onlyEmptiness() bool {
	return p.shortPage == 0 && p.stopWhen == nil && !CountsRecords(p.inner)
}

// loopGuard remembers, for each run in progress, the tokens it has used.
// Runs are keyed by the RequestKey of their latest request, so only the
// frontier of live runs is kept, and tokens by theirs: no URL or cursor
// is held for every GC cycle to scan.
type loopGuard struct {
	mu     sync.Mutex
	chains map[RequestKey]map[RequestKey]struct{}
}

func (g *loopGuard) Reset() {
	g.mu.Lock()
	g.chains = nil
	g.mu.Unlock()
}

// advance moves the run at prevKey to nextKey and reports whether token
// was already used by that run. prevToken (when non-empty) is the token
// of prev itself.
func (g *loopGuard) advance(prevKey RequestKey, prevToken string, nextKey RequestKey, token string) (repeated bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	seen := g.chains[prevKey]
	if seen == nil {
		seen = map[RequestKey]struct{}{} // prev was not handed out by us: a new run
		if prevToken != "" {
			seen[tokenKey(prevToken)] = struct{}{}
		}
	}
	// A run we handed prev to has its token already: it was the last one
	// added.
	delete(g.chains, prevKey)
	h := tokenKey(token)
	if _, ok := seen[h]; ok {
		return true
	}
	seen[h] = struct{}{}
	if g.chains == nil {
		g.chains = map[RequestKey]map[RequestKey]struct{}{}
	}
	g.chains[nextKey] = seen
	return false
}

// end forgets the run at prevKey.
func (g *loopGuard) end(prevKey RequestKey) {
	g.mu.Lock()
	delete(g.chains, prevKey)
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
		p.end(prev.Key())
		return nil, nil
	}
	n := prev.Resolve(ref)
	if p.advance(prev.Key(), prev.URL(), n.Key(), n.URL()) {
		return nil, fmt.Errorf("%w: next URL %s was already requested", ErrPaginationLoop, shorten(RedactURL(n.URL())))
	}
	return n, nil
}

// NextURL follows the URL found at gjson path in the body, absolute or
// relative to the previous request's URL. A missing, null or empty value
// ends pagination.
func NextURL(path string, opts ...PageOption) Paginator {
	return Paginate(&urlPaginator{next: func(resp *JSONResponse) string {
		return strings.Clone(resp.Get(path).String()) // the body may be released and reused
	}}, opts...)
}

// LinkHeader follows the RFC 8288 Link header with rel="next", as sent
// by GitHub and many others.
func LinkHeader(opts ...PageOption) Paginator {
	return Paginate(&urlPaginator{next: func(resp *JSONResponse) string {
		for _, v := range resp.Header.Values("Link") {
			for _, l := range ParseLinkHeader(v) {
				if l.HasRel("next") {
					return l.URL
				}
			}
		}
		return ""
	}}, opts...)
}

type offsetPaginator struct {
	offsetParam, limitParam string
	size                    int
}

func (p *offsetPaginator) Reset() {}

func (p *offsetPaginator) Next(prev *Request, _ *JSONResponse, count int) (*Request, error) {
	if count == 0 {
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
	n := prev.SetQuery(p.offsetParam, strconv.Itoa(off+count))
	if p.limitParam != "" && p.size > 0 {
		n = n.SetQuery(p.limitParam, strconv.Itoa(p.size))
	}
	return n, nil
}

// Offset pages with an offset parameter advanced by the records read, and
// a limit parameter set to size (when both are set). An empty page is the
// last; so is a short one with ShortPageEnds(size), for APIs known to fill
// every page but the last (many cap a page below the limit asked for). The
// offset is read back from the previous request, so the paginator is
// stateless.
func Offset(offsetParam, limitParam string, size int, opts ...PageOption) Paginator {
	return Paginate(&offsetPaginator{offsetParam: offsetParam, limitParam: limitParam, size: size}, opts...)
}

type pagePaginator struct {
	pageParam, sizeParam string
	size, start          int
}

func (p *pagePaginator) Reset() {}

func (p *pagePaginator) Next(prev *Request, _ *JSONResponse, count int) (*Request, error) {
	if count == 0 {
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
	n := prev.SetQuery(p.pageParam, strconv.Itoa(page+1))
	if p.sizeParam != "" && p.size > 0 {
		n = n.SetQuery(p.sizeParam, strconv.Itoa(p.size))
	}
	return n, nil
}

// PageNumber pages with a page number parameter. A previous request
// without it is taken to be page start (usually 0 or 1). An empty page is
// the last; so is a short one with ShortPageEnds(size). Stateless.
func PageNumber(pageParam, sizeParam string, size, start int, opts ...PageOption) Paginator {
	return Paginate(&pagePaginator{pageParam: pageParam, sizeParam: sizeParam, size: size, start: start}, opts...)
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
		p.end(prev.Key())
		return nil, nil
	}
	n := prev.SetQuery(p.param, tok)
	if p.advance(prev.Key(), prev.QueryValue(p.param), n.Key(), tok) {
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
func Cursor(path, param string, opts ...PageOption) Paginator {
	return Paginate(&cursorPaginator{path: path, param: param}, opts...)
}

type lastRecordPaginator struct {
	loopGuard
	records, field, param string
}

func (p *lastRecordPaginator) Next(prev *Request, resp *JSONResponse, count int) (*Request, error) {
	tok := ""
	if count > 0 && resp != nil {
		at := strconv.Itoa(count - 1)
		if p.records != "" {
			at = p.records + "." + at
		}
		tok = strings.Clone(resp.Get(at + "." + p.field).String())
	}
	if tok == "" {
		p.end(prev.Key())
		return nil, nil
	}
	n := prev.SetQuery(p.param, tok)
	if p.advance(prev.Key(), prev.QueryValue(p.param), n.Key(), tok) {
		return nil, fmt.Errorf("%w: %s=%s (from the page's last record) was already requested", ErrPaginationLoop, p.param, shorten(tok))
	}
	return n, nil
}

// LastRecordCursor sends the field of the page's last record (records is
// the gjson path of the record array, "" for the body itself) as query
// parameter param: Stripe's starting_after. Pair it with HasMore so that
// the last page is known without asking for an empty one:
//
//	requests.LastRecordCursor("data", "id", "starting_after", requests.HasMore("has_more"))
func LastRecordCursor(records, field, param string, opts ...PageOption) Paginator {
	return Paginate(&lastRecordPaginator{records: records, field: field, param: param}, opts...)
}

type bodyCursorPaginator struct {
	loopGuard
	path, field string
}

func (p *bodyCursorPaginator) Next(prev *Request, resp *JSONResponse, count int) (*Request, error) {
	var tok string // raw JSON: a string or a number, sent back as it came
	if count > 0 && resp != nil {
		if v := resp.Get(p.path); v.Exists() && v.Type != gjson.Null && v.String() != "" {
			tok = strings.Clone(v.Raw)
		}
	}
	if tok == "" {
		p.end(prev.Key())
		return nil, nil
	}
	n := prev.SetBodyField(p.field, []byte(tok))
	if p.advance(prev.Key(), "", n.Key(), tok) {
		return nil, fmt.Errorf("%w: body %s=%s was already requested", ErrPaginationLoop, p.field, shorten(tok))
	}
	return n, nil
}

// BodyCursor pages a POST search: the next request is prev with the
// top-level field of its JSON body set to the token at gjson path in the
// response (a string or a number, sent as it came). HubSpot's CRM search:
//
//	requests.BodyCursor("paging.next.after", "after")
//
// A missing, null or empty token ends pagination.
func BodyCursor(path, field string, opts ...PageOption) Paginator {
	return Paginate(&bodyCursorPaginator{path: path, field: field}, opts...)
}

// PageOption adds a stop condition to a paginator.
type PageOption func(*pageRules)

type pageRules struct {
	hasMore   string
	shortPage int
	maxPages  int
	stopWhen  func(resp *JSONResponse, count int) bool
}

// HasMore ends pagination unless the boolean at gjson path in the body is
// true (Stripe's has_more, Zendesk's meta.has_more).
func HasMore(path string) PageOption { return func(r *pageRules) { r.hasMore = path } }

// ShortPageEnds ends pagination after a page of fewer than size records,
// for APIs documented to fill every page but the last. Without it a short
// page is followed, and only an empty one (or the paginator's own signal)
// ends the list: many APIs cap pages below the size asked for.
func ShortPageEnds(size int) PageOption { return func(r *pageRules) { r.shortPage = size } }

// StopWhen ends pagination after a page for which stop returns true: for
// APIs that say they are done in their own words, such as a total
// (offset + count >= total) or a status field. count is the page's
// records; resp is nil for a paginator that reads no body.
func StopWhen(stop func(resp *JSONResponse, count int) bool) PageOption {
	return func(r *pageRules) { r.stopWhen = stop }
}

// MaxPages fails a run with ErrTooManyPages when it has read n pages and
// the API still offers another: a guard against an API that never says it
// is done.
func MaxPages(n int) PageOption { return func(r *pageRules) { r.maxPages = n } }

type ruledPaginator struct {
	inner Paginator
	pageRules

	mu    sync.Mutex
	pages map[RequestKey]int // pages read by each live run, keyed by its latest request
}

// Paginate adds stop conditions to p (one of yours, or a built-in). Every
// paginator made by Paginate also stops on an empty page.
func Paginate(p Paginator, opts ...PageOption) Paginator {
	if len(opts) == 0 {
		return p
	}
	r := &ruledPaginator{inner: p}
	for _, o := range opts {
		o(&r.pageRules)
	}
	return r
}

// ender is implemented by paginators that track runs.
type ender interface{ end(prevKey RequestKey) }

func (p *ruledPaginator) Next(prev *Request, resp *JSONResponse, count int) (*Request, error) {
	stop := count == 0 ||
		p.shortPage > 0 && count < p.shortPage ||
		p.hasMore != "" && resp != nil && !resp.Get(p.hasMore).Bool() ||
		p.stopWhen != nil && p.stopWhen(resp, count)
	key := prev.Key()
	read := 1
	if p.maxPages > 0 {
		p.mu.Lock()
		read += p.pages[key]
		delete(p.pages, key)
		p.mu.Unlock()
	}
	if stop {
		if e, ok := p.inner.(ender); ok {
			e.end(key)
		}
		return nil, nil
	}
	next, err := p.inner.Next(prev, resp, count)
	if err != nil || next == nil || p.maxPages <= 0 {
		return next, err
	}
	if read >= p.maxPages {
		if e, ok := p.inner.(ender); ok {
			e.end(next.Key())
		}
		return nil, fmt.Errorf("%w: read %d pages and the API offers another (%s); raise the page cap if the list is that long", ErrTooManyPages, read, next)
	}
	p.mu.Lock()
	if p.pages == nil {
		p.pages = map[RequestKey]int{}
	}
	p.pages[next.Key()] = read
	p.mu.Unlock()
	return next, nil
}

// Reset forgets every run, the wrapped paginator's too.
func (p *ruledPaginator) Reset() {
	p.mu.Lock()
	p.pages = nil
	p.mu.Unlock()
	if r, ok := p.inner.(Resetter); ok {
		r.Reset()
	}
}
