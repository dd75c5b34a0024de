package integ

import (
	"context"
	"runtime"
	"strings"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/requests"
)

// prefetcher reads a stream's pages ahead of the writer, one request at a
// time, in two goroutines that serve a whole EmitPages loop: a fetcher
// sends each request and reads its body, and a reader checks the body,
// finds its records and works out the next request, which it hands to the
// fetcher at once, whatever the writer is doing. (Starting a goroutine a
// page cost a goroutine, its future and, each time, growing a fresh stack
// through net/http's depth.)
//
// When the paginator only asks whether a page was empty (see
// requests.CountsRecords) and the requests are GETs, the next request goes
// out before the page is validated: the pass over the page, the longest
// part of reading it, then overlaps the server's work on the next one. A
// page that then proves invalid fails the stream as before, before any of
// its records is written; the request sent on its word is cancelled.
//
// Pages wait in a channel of one, so at most three checked pages exist at
// once (the one being written, one waiting and one read), and the body of
// the next one, fetched on the word of the last. The reader's three record
// buffers take turns accordingly: when it reads page i, the writer has
// taken page i-1 and so is done with page i-3.
type prefetcher struct {
	pages   chan page
	done    *conc.Future[struct{}] // the reader
	fetcher *conc.Future[struct{}]
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

// fetched is a response as the fetcher read it, not yet checked.
type fetched struct {
	r   *requests.JSONResponse
	err error
}

// newPrefetcher starts reading at first; it ends after a page with no next
// one, after a failure, or with ctx.
func (c *HttpContext) newPrefetcher(ctx context.Context, first *requests.Request, p requests.Paginator, path []string, sent sentRequests) *prefetcher {
	pf := &prefetcher{pages: make(chan page, 1)}
	reqs, bodies := make(chan *requests.Request, 1), make(chan fetched, 1)
	pf.fetcher = conc.GoContext(ctx, func(ctx context.Context) (struct{}, error) {
		for {
			select {
			case <-ctx.Done():
				return struct{}{}, nil
			case req := <-reqs:
				r, err := requests.FetchUnchecked(ctx, c.http.doer, req, c.http.maxBytes)
				select {
				case bodies <- fetched{r, err}: // one request at a time: never blocks
				case <-ctx.Done():
					return struct{}{}, nil
				}
			}
		}
	})
	early := !requests.CountsRecords(p) && first.Safe()
	key := strings.Join(path, ".")
	pf.done = conc.GoContext(ctx, func(ctx context.Context) (struct{}, error) {
		var bufs [3][]string
		reqs <- first
		for i, req := 0, first; ; i++ {
			var f fetched
			select {
			case f = <-bodies:
			case <-ctx.Done():
				return struct{}{}, nil
			case <-pf.fetcher.Done():
				_, err := pf.fetcher.Await() // a recovered panic, or the context
				if err == nil {
					return struct{}{}, nil
				}
				f.err = err
			}
			pg := c.readPage(req, f, p, path, key, early, sent, bufs[i%3][:0], func(next *requests.Request) {
				reqs <- next // the fetcher is idle: its last body was just taken
				if early {
					// On one thread the fetcher would otherwise wait for
					// this page's check to end before sending.
					runtime.Gosched()
				}
			})
			if !pg.pageRecs && pg.recs != nil {
				bufs[i%3] = pg.recs // keep the grown buffer
			}
			select {
			case pf.pages <- pg:
			case <-ctx.Done():
				return struct{}{}, nil
			}
			if pg.fetchErr != nil || pg.err != nil || pg.nextErr != nil || pg.next == nil {
				return struct{}{}, nil
			}
			req = pg.next
		}
	})
	return pf
}

// readPage checks the page f holds, finds its records and works out the
// request after it, handing that to send. With early set, a page that
// looks like one is asked for its next request first, on whether it has
// any records (peekRecords), and is checked after.
func (c *HttpContext) readPage(req *requests.Request, f fetched, p requests.Paginator, path []string, key string, early bool, sent sentRequests, buf []string, send func(*requests.Request)) page {
	var pg page
	if f.err != nil {
		pg.fetchErr = f.err
		return pg
	}
	r := f.r
	asked := false
	if early && requests.PageKey(key) {
		if nonEmpty, ok := peekRecords(view(r.Body), key); ok {
			n := 0
			if nonEmpty {
				n = 1 // the paginator only asks whether it is 0
			}
			pg.next, pg.nextErr = c.nextPage(p, req, r, n, sent)
			if pg.next != nil && pg.nextErr == nil {
				send(pg.next)
			}
			asked = true
		}
	}
	if err := r.CheckPage(key); err != nil {
		return page{fetchErr: err}
	}
	pg.r = r
	pg.split = splitRecords(c.Stream(), r, path, buf)
	if pg.err != nil || asked {
		return pg
	}
	pg.next, pg.nextErr = c.nextPage(p, req, r, len(pg.recs), sent)
	if pg.next != nil && pg.nextErr == nil {
		send(pg.next)
	}
	return pg
}

// await returns the next page.
func (pf *prefetcher) await(ctx context.Context) page {
	select {
	case pg := <-pf.pages:
		return pg
	case <-pf.done.Done():
		select {
		case pg := <-pf.pages: // sent just before the goroutine ended
			return pg
		default:
		}
		// The goroutine ended first: a recovered panic, or the context.
		if _, err := pf.done.Await(); err != nil {
			return page{fetchErr: err}
		}
		return page{fetchErr: context.Cause(ctx)}
	}
}

// wait returns when both goroutines have ended; cancel their context first.
func (pf *prefetcher) wait() {
	pf.done.Await()
	pf.fetcher.Await()
}
