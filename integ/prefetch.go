package integ

import (
	"context"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/requests"
)

// prefetcher fetches a stream's next page while the current one is
// written. One goroutine serves a whole EmitPages loop: starting one a
// page cost a goroutine, its future and, each time, growing a fresh stack
// through net/http's depth, about a tenth of a small page's CPU.
type prefetcher struct {
	reqs  chan *requests.Request
	resps chan fetched
	done  *conc.Future[struct{}]
}

type fetched struct {
	r   *requests.JSONResponse
	err error
}

// newPrefetcher starts the goroutine; it ends with ctx.
func (c *HttpContext) newPrefetcher(ctx context.Context, path []string) *prefetcher {
	p := &prefetcher{reqs: make(chan *requests.Request, 1), resps: make(chan fetched, 1)}
	p.done = conc.GoContext(ctx, func(ctx context.Context) (struct{}, error) {
		for {
			select {
			case <-ctx.Done():
				return struct{}{}, nil
			case req := <-p.reqs:
				r, err := c.doPage(ctx, req, path)
				p.resps <- fetched{r, err} // one request at a time: never blocks
			}
		}
	})
	return p
}

// start asks for req; at most one request may be outstanding.
func (p *prefetcher) start(req *requests.Request) { p.reqs <- req }

// await returns the response to the request started last.
func (p *prefetcher) await(ctx context.Context) (*requests.JSONResponse, error) {
	select {
	case f := <-p.resps:
		return f.r, f.err
	case <-p.done.Done():
		// The goroutine ended first: a recovered panic, or the context.
		if _, err := p.done.Await(); err != nil {
			return nil, err
		}
		return nil, context.Cause(ctx)
	}
}
