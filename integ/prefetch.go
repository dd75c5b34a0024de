package integ

import (
	"context"
	"strings"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/requests"
)

// prefetcher reads a stream's pages ahead of the writer, one request at a
// time, in two goroutines that serve a whole EmitPages loop: a fetcher
// sends each request and reads its body, and a reader checks the body,
// finds its records and works out the next request, which it hands back
// to the fetcher, whatever the writer is doing. (Starting a goroutine a
// page cost a goroutine, its future and, each time, growing a fresh stack
// through net/http's depth.)
//
// When the paginator only asks whether a page was empty (see
// requests.CountsRecords) and the requests are GETs, the fetcher asks for
// the next request itself, from the body it has just read, and sends it
// at once: the check of the page, a pass over all of it, then overlaps
// the server's work on the next one. A page that then proves invalid
// fails the stream as before, before any of its records is written; the
// request sent on its word is cancelled.
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
	pf := &prefetcher{pages: make(chan page, 1)}
	// Bodies are handed over, not queued: a fetcher that has read one
	// sends nothing more until the reader takes it.
	reqs, bodies := make(chan *requests.Request, 1), make(chan fetched)
	early := !requests.CountsRecords(p) && first.Safe()
	key := strings.Join(path, ".")
	early = early && requests.PageKey(key)
	pf.fetcher = conc.GoContext(ctx, func(ctx context.Context) (struct{}, error) {
		for req := first; ; {
			f := fetched{req: req}
			f.r, f.err = requests.FetchUnchecked(ctx, c.http.doer, req, c.http.maxBytes)
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
			case bodies <- f:
			case <-ctx.Done():
				return struct{}{}, nil
			}
			switch {
			case f.err != nil:
				return struct{}{}, nil
			case f.asked:
				req = f.next
			default: // the reader works it out once the page is checked
				select {
				case req = <-reqs:
				case <-ctx.Done():
					return struct{}{}, nil
				}
			}
			if req == nil {
				return struct{}{}, nil
			}
		}
	})
	pf.done = conc.GoContext(ctx, func(ctx context.Context) (struct{}, error) {
		var bufs [3][]string
		for i := 0; ; i++ {
			var f fetched
			select {
			case f = <-bodies:
			case <-ctx.Done():
				return struct{}{}, nil
			case <-pf.fetcher.Done():
				select {
				case f = <-bodies: // sent just before the fetcher ended
				default:
					_, err := pf.fetcher.Await() // a recovered panic, or the context
					if err == nil {
						return struct{}{}, nil
					}
					f.err = err
				}
			}
			pg := c.readPage(f, p, path, key, sent, bufs[i%3][:0])
			if !pg.pageRecs && pg.recs != nil {
				bufs[i%3] = pg.recs // keep the grown buffer
			}
			if !f.asked && f.err == nil {
				next := pg.next // the fetcher waits for this: nil ends it
				if pg.fetchErr != nil || pg.err != nil || pg.nextErr != nil {
					next = nil
				}
				reqs <- next
			}
			select {
			case pf.pages <- pg:
			case <-ctx.Done():
				return struct{}{}, nil
			}
			if pg.fetchErr != nil || pg.err != nil || pg.nextErr != nil || pg.next == nil {
				return struct{}{}, nil
			}
		}
	})
	return pf
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
