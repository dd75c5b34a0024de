package integ

import (
	"context"
	"runtime"
	"strings"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/requests"
)

// prefetcher reads a stream's pages ahead of the writer, one request at a
// time: one goroutine, the fetcher, serves a whole EmitPages loop (starting
// one a page cost a goroutine, its future and, each time, growing a fresh
// stack through net/http's depth). It sends each request and reads the
// body; the writer checks the body, finds its records and, unless the
// fetcher could, works out the next request, which it hands back before
// it writes the page.
//
// When the paginator only asks whether a page was empty (see
// requests.CountsRecords) and the requests are GETs, the fetcher asks for
// the next request itself, from the body it has just read, and sends it
// at once: the check of the page, a pass over all of it, then overlaps
// the server's work on the next one. A page that then proves invalid
// fails the stream as before, before any of its records is written; the
// request sent on its word is cancelled.
//
// A body waits in a channel of one, so besides the page being written at
// most one body waits and one is being read.
type prefetcher struct {
	bodies  chan fetched
	reqs    chan *requests.Request // the next request, when the fetcher waits for it
	fetcher *conc.Future[struct{}]
	key     string
}

// page is one page of an EmitPages loop, read and split, with the request
// that follows it.
type page struct {
	r *requests.JSONResponse
	split
	fetchErr error             // the request failed, or its body is not JSON
	next     *requests.Request // nil: the last page
	nextErr  error             // the paginator failed, or asked for a page again
}

// fetched is a response as the fetcher read it, not yet checked, with the
// request after it when the fetcher could ask for that already (asked).
type fetched struct {
	req     *requests.Request // the request the body answers
	r       *requests.JSONResponse
	err     error
	asked   bool
	next    *requests.Request
	nextErr error
}

// newPrefetcher starts reading at first; it ends after a page with no next
// one, after a failure, or with ctx.
func (c *HttpContext) newPrefetcher(ctx context.Context, first *requests.Request, p requests.Paginator, path []string, sent sentRequests) *prefetcher {
	key := strings.Join(path, ".")
	pf := &prefetcher{bodies: make(chan fetched, 1), reqs: make(chan *requests.Request, 1), key: key}
	early := !requests.CountsRecords(p) && first.Safe() && requests.PageKey(key)
	pf.fetcher = conc.GoContext(ctx, func(ctx context.Context) (struct{}, error) {
		for req := first; ; {
			f := c.fetch(ctx, req)
			if f.err == nil && early {
				// The next request goes out before this page is checked:
				// the check, a pass over the page, then overlaps the
				// server's work on the next one.
				if nonEmpty, ok := peekRecords(view(f.r.Body), key); ok {
					n := 0
					if nonEmpty {
						n = 1 // the paginator only asks whether it is 0
					}
					f.asked = true
					f.next, f.nextErr = c.nextPage(p, req, f.r, n, sent)
				}
			}
			select {
			case pf.bodies <- f:
			case <-ctx.Done():
				return struct{}{}, nil
			}
			switch {
			case f.err != nil:
				return struct{}{}, nil
			case f.asked:
				req = f.next
			default: // the writer works it out once the page is checked
				select {
				case req = <-pf.reqs:
				case <-ctx.Done():
					return struct{}{}, nil
				}
			}
			if req == nil {
				return struct{}{}, nil
			}
		}
	})
	return pf
}

// next returns the next page, checked and split (its records in buf unless
// the page holds them), and hands the fetcher the request after it when
// the fetcher waits for that.
func (pf *prefetcher) next(ctx context.Context, c *HttpContext, p requests.Paginator, path []string, sent sentRequests, buf []string) page {
	var f fetched
	select {
	case f = <-pf.bodies:
	case <-pf.fetcher.Done():
		select {
		case f = <-pf.bodies: // sent just before the fetcher ended
		default:
			// The fetcher ended first: a recovered panic, or the context.
			if _, err := pf.fetcher.Await(); err != nil {
				return page{fetchErr: err}
			}
			return page{fetchErr: context.Cause(ctx)}
		}
	}
	if f.asked {
		// On one thread the fetcher, unblocked by that receive, would
		// wait for this goroutine to block before sending its next request.
		runtime.Gosched()
	}
	pg := c.readPage(f, p, path, pf.key, sent, buf)
	if !f.asked && f.err == nil {
		next := pg.next // the fetcher waits for this: nil ends it
		if pg.nextErr != nil {
			next = nil // a paginator may fail and still hand one out
		}
		pf.reqs <- next
		if next != nil {
			runtime.Gosched() // let it go out before this page is written
		}
	}
	return pg
}

// fetch sends req and reads its body, not yet checked.
func (c *HttpContext) fetch(ctx context.Context, req *requests.Request) fetched {
	f := fetched{req: req}
	f.r, f.err = requests.FetchUnchecked(ctx, c.http.doer, req, c.http.maxBytes)
	return f
}

// readPage checks the page f holds, finds its records and, unless the
// fetcher asked already, works out the request after it.
func (c *HttpContext) readPage(f fetched, p requests.Paginator, path []string, key string, sent sentRequests, buf []string) page {
	if f.err != nil {
		return page{fetchErr: f.err}
	}
	r := f.r
	if err := r.CheckPage(key); err != nil {
		return page{fetchErr: err}
	}
	pg := page{r: r, next: f.next, nextErr: f.nextErr}
	pg.split = splitRecords(c.Stream(), r, path, buf)
	if pg.err != nil || f.asked {
		return pg
	}
	pg.next, pg.nextErr = c.nextPage(p, f.req, r, len(pg.recs), sent)
	return pg
}

// wait returns when the fetcher has ended; cancel its context first.
func (pf *prefetcher) wait() { pf.fetcher.Await() }
