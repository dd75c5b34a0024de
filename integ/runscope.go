package integ

import "context"

// scope gives c a context that ends when the runner returns (call the
// result then): a response body the runner left open gives its
// concurrency slot back at that point, so a forgotten Close cannot starve
// the rest of the sync of requests.
func (c *HttpContext) scope() (end func()) {
	parent := c.ctx
	ctx, cancel := context.WithCancel(parent)
	c.ctx = ctx
	return func() {
		cancel()
		c.ctx = parent
	}
}
