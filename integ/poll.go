package integ

import (
	"time"

	"github.com/integ/integ/requests"
)

// Poll asks about an asynchronous job (a bulk export) until done says it
// has finished, through the run's HTTP stack, and returns the last
// response; see requests.Poll for the waits. Progress is logged on the
// first wait and every tenth after, unless o.Waiting is set.
func (c *HttpContext) Poll(req *requests.Request, o requests.PollOptions, done func(*requests.JSONResponse) (bool, error)) (*requests.JSONResponse, error) {
	if o.Waiting == nil {
		o.Waiting = func(polls int, waited time.Duration) {
			if polls == 1 || polls%10 == 0 {
				c.logger.Info("waiting for the job to finish", "request", req.String(), "polls", polls, "waited", waited.Round(time.Second).String())
			}
		}
	}
	return requests.Poll(c.ctx, c.http.doer, req, c.http.maxBytes, o, done)
}
