package requests

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrPollTimeout is returned by Poll when the job is not done within the
// longest wait it was given.
var ErrPollTimeout = errors.New("the job did not finish in time")

// PollOptions shape Poll's waits. The zero value waits 1 s, then doubles
// the wait up to 30 s, for at most 30 minutes in all.
type PollOptions struct {
	First   time.Duration // the first wait (default 1 s)
	Max     time.Duration // the longest single wait (default 30 s)
	Timeout time.Duration // the longest wait in all (default 30 min)
	// Waiting, when set, is told before each wait: how many polls so far
	// and how long the job has been waited for (to log progress).
	Waiting func(polls int, waited time.Duration)
}

// Poll sends req until done says the job it asks about has finished (an
// asynchronous export: Salesforce Bulk 2.0's JobComplete, Shopify's bulk
// operation COMPLETED), and returns that last response. done returns an error
// for a job that failed, which Poll returns as it is. Each poll goes through
// d (retries, rate limit, auth); the waits between polls end early when ctx
// does.
func Poll(ctx context.Context, d Doer, req *Request, maxBytes int64, o PollOptions, done func(*JSONResponse) (bool, error)) (*JSONResponse, error) {
	if o.First <= 0 {
		o.First = time.Second
	}
	if o.Max <= 0 {
		o.Max = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	wait, waited := o.First, time.Duration(0)
	for polls := 1; ; polls++ {
		resp, err := Do(ctx, d, req, maxBytes)
		if err != nil {
			return nil, err
		}
		ok, err := done(resp)
		if err != nil || ok {
			return resp, err
		}
		if waited+wait > o.Timeout {
			return nil, fmt.Errorf("%w: %d polls of %s over %v", ErrPollTimeout, polls, req, waited.Round(time.Second))
		}
		if o.Waiting != nil {
			o.Waiting(polls, waited)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		waited += wait
		wait = min(2*wait, o.Max)
	}
}
