package requests

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// Timeout bounds each request passing through it (put it inside Retry so
// that every attempt gets a fresh deadline). The deadline also covers
// reading the body: the request's context is released when the body is
// closed. A request that runs out of time fails with an error that is
// context.DeadlineExceeded.
//
// One timer serves every request in flight through the middleware, not
// one each: at a page every few hundred microseconds, a timer per request
// (and another for net/http's ResponseHeaderTimeout) was a measurable
// share of a tap's CPU. See watchdog.
func Timeout(d time.Duration, opts ...TimeoutOption) Middleware {
	var cfg timeoutConfig
	for _, o := range opts {
		o(&cfg)
	}
	return func(next Doer) Doer {
		if d <= 0 {
			return next
		}
		header := cfg.header
		if header <= 0 || header >= d {
			header = d
		}
		wd := &watchdog{}
		return DoerFunc(func(req *http.Request) (*http.Response, error) {
			start := time.Now()
			a := wd.watch(req.Context(), start.Add(header), start.Add(d))
			resp, err := next.Do(req.WithContext(a))
			if err != nil {
				a.done()
				return resp, err
			}
			if header < d {
				wd.extend(a) // headers are in: the rest of d for the body
			}
			resp.Body = &attemptBody{ReadCloser: resp.Body, a: a}
			return resp, nil
		})
	}
}

// TimeoutOption tunes Timeout.
type TimeoutOption func(*timeoutConfig)

type timeoutConfig struct{ header time.Duration }

// HeaderTimeout bounds, within Timeout's own bound, the wait for the
// response's headers, counted from when the request is sent: a server
// that has not answered by then fails the request, with an error that is
// context.DeadlineExceeded and a net.Error whose Timeout is true (as
// net/http's Transport.ResponseHeaderTimeout's). The body then has the
// rest of Timeout's time.
func HeaderTimeout(d time.Duration) TimeoutOption {
	return func(c *timeoutConfig) { c.header = d }
}

// errHeaderTimeout is why a request that waited too long for its
// response's headers was cancelled.
var errHeaderTimeout error = &timeoutError{"timeout awaiting response headers"}

type timeoutError struct{ msg string }

func (e *timeoutError) Error() string        { return e.msg }
func (e *timeoutError) Timeout() bool        { return true }
func (e *timeoutError) Temporary() bool      { return true }
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// watchdog cancels the requests in flight that outlive their deadlines.
// It keeps them in a list and one timer armed at the earliest deadline it
// knows of. A request that ends leaves the list and touches no timer: the
// timer, when it fires, cancels whatever is overdue and re-arms itself at
// the earliest deadline left (or stays unarmed). Requests end long before
// their deadlines, so it fires about once a timeout while requests flow,
// and never when none do.
type watchdog struct {
	mu    sync.Mutex
	head  *attempt // the requests in flight, a doubly linked list
	timer *time.Timer
	armed time.Time // when the timer fires; zero when it is not armed
}

// attempt is one request in flight: its context (a cancellable child of
// the caller's that reports the deadline) and its place in the list.
type attempt struct {
	context.Context // from WithCancelCause
	cancel          context.CancelCauseFunc
	wd              *watchdog
	due             time.Time // when the watchdog cancels it: the header deadline, then end
	end             time.Time // the request's own deadline, headers and body
	prev, next      *attempt  // in the list while in flight (see unlist)
}

// watch starts watching a request: due is its first deadline, end its
// last.
func (wd *watchdog) watch(parent context.Context, due, end time.Time) *attempt {
	ctx, cancel := context.WithCancelCause(parent)
	a := &attempt{Context: ctx, cancel: cancel, wd: wd, due: due, end: end}
	wd.mu.Lock()
	defer wd.mu.Unlock()
	a.next = wd.head
	if wd.head != nil {
		wd.head.prev = a
	}
	wd.head = a
	if wd.armed.IsZero() || due.Before(wd.armed) {
		wd.arm(due)
	}
	return a
}

// arm sets the timer to fire at t; wd.mu is held.
func (wd *watchdog) arm(t time.Time) {
	wd.armed = t
	d := time.Until(t)
	if wd.timer == nil {
		wd.timer = time.AfterFunc(d, wd.fire)
		return
	}
	wd.timer.Reset(d)
}

// extend moves a request whose headers came to its last deadline, which
// is later: the timer, armed no later than the old one, stays.
func (wd *watchdog) extend(a *attempt) {
	wd.mu.Lock()
	a.due = a.end
	wd.mu.Unlock()
}

// unlist takes a out of the list; wd.mu is held.
func (wd *watchdog) unlist(a *attempt) {
	if a.prev == nil && wd.head != a {
		return // out already: fired, or ended
	}
	if a.prev != nil {
		a.prev.next = a.next
	} else {
		wd.head = a.next
	}
	if a.next != nil {
		a.next.prev = a.prev
	}
	a.prev, a.next = nil, nil
}

// fire cancels the overdue requests and re-arms the timer at the earliest
// deadline left.
func (wd *watchdog) fire() {
	type cancel struct {
		a     *attempt
		cause error
	}
	var overdue []cancel
	wd.mu.Lock()
	now := time.Now()
	var next time.Time
	for a := wd.head; a != nil; {
		following := a.next
		if !now.Before(a.due) {
			wd.unlist(a)
			// The cause is read here, under the lock: headers that come
			// now may extend a.due as soon as the lock is let go.
			cause := context.DeadlineExceeded
			if a.due.Before(a.end) {
				cause = errHeaderTimeout
			}
			overdue = append(overdue, cancel{a, cause})
		} else if next.IsZero() || a.due.Before(next) {
			next = a.due
		}
		a = following
	}
	wd.armed = time.Time{}
	if !next.IsZero() {
		wd.arm(next)
	}
	wd.mu.Unlock()
	for _, c := range overdue {
		c.a.cancel(c.cause) // outside the lock: cancelling runs the context's callbacks
	}
}

// done ends the request: it leaves the watch and its context is
// cancelled (context.Canceled).
func (a *attempt) done() {
	a.wd.mu.Lock()
	a.wd.unlist(a)
	a.wd.mu.Unlock()
	a.cancel(nil)
}

// Deadline is the request's own deadline, or the caller's when that is
// earlier.
func (a *attempt) Deadline() (time.Time, bool) {
	if d, ok := a.Context.Deadline(); ok && d.Before(a.end) {
		return d, true
	}
	return a.end, true
}

// Err is context.DeadlineExceeded once the watchdog cancelled the request,
// as a context with a deadline says; WithCancelCause's own would say
// Canceled.
func (a *attempt) Err() error {
	err := a.Context.Err()
	if err != nil && errors.Is(context.Cause(a.Context), context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
}

// attemptBody ends its request when closed.
type attemptBody struct {
	io.ReadCloser
	a *attempt
}

func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.a.done()
	return err
}
