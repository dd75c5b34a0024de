package integ

import "context"

// scope gives c a context that ends when the runner returns (call the
// result then): a response body the runner left open gives its
// concurrency slot back at that point, so a forgotten Close cannot starve
// the rest of the sync of requests. c is done with once its runner is.
func (c *HttpContext) scope() (end context.CancelFunc) {
	ctx, cancel := context.WithCancel(c.ctx)
	c.ctx = ctx
	return cancel
}
