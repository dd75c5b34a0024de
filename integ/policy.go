package integ

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"

	"github.com/integ/integ/requests"
)

// ErrorAction says what the engine does with an error a runner (or a request
// it made) returned. Policies return Default when they have no opinion, so
// the next policy, and then the engine, decides.
type ErrorAction int

const (
	// Default: no opinion; ask the next policy, then the engine's default
	// (Abort for refused credentials, unreachable hosts and a rate limit
	// spent beyond what the source waits for; Fail otherwise).
	Default ErrorAction = iota
	// Fail ends the stream with the error; other streams go on and the sync
	// reports failure.
	Fail
	// Skip drops the smallest unit the error belongs to with a warning: one
	// partition of a child stream, or the rest of a stream that has none.
	// What was read before stays written; the sync does not fail for it.
	Skip
	// Abort ends the whole sync: nothing else can work (credentials refused).
	Abort
)

func (a ErrorAction) String() string {
	switch a {
	case Fail:
		return "fail"
	case Skip:
		return "skip"
	case Abort:
		return "abort"
	}
	return "default"
}

// ErrorPolicy classifies an error. Use errors.As to look for a
// *requests.StatusError (its Status, Header and Body).
type ErrorPolicy func(err error) ErrorAction

// OnError sets a stream's error policy; it is asked before the source's.
func OnError(p ErrorPolicy) StreamOption { return func(s *Stream) { s.onError = p } }

// WithErrorPolicy sets the source's error policy, asked for every stream
// after the stream's own.
func WithErrorPolicy(p ErrorPolicy) SourceOption { return func(s *Source) { s.onError = p } }

// SkipOn is a policy that skips (see Skip) on the given HTTP statuses: a
// repository whose issues are disabled answers 410, a deleted one 404.
func SkipOn(statuses ...int) ErrorPolicy {
	return func(err error) ErrorAction {
		var se *requests.StatusError
		if errors.As(err, &se) && slices.Contains(statuses, se.Status) {
			return Skip
		}
		return Default
	}
}

// decide asks the stream's policy, then the source's, then falls back to
// the engine's default.
func (s *Source) decide(st *Stream, err error) ErrorAction {
	for _, p := range []ErrorPolicy{st.onError, s.onError} {
		if p == nil {
			continue
		}
		if a := p(err); a != Default {
			return a
		}
	}
	if unreachable(err) || spent(err) {
		return Abort
	}
	return Fail
}

// spent reports a rate limit that cannot be waited for. The limit belongs
// to the account, so every other stream would only spend more requests to
// be refused the same way (Salesforce counts refused calls too).
func spent(err error) bool {
	var rl *requests.RateLimitError
	return errors.As(err, &rl)
}

// settle applies the error policy to the error a top-level stream ended
// with, before the stream's end is written: Skip turns it into a warning
// (the stream ends well), Abort also stops the streams not yet started,
// Fail (the default) fails this stream alone. Interruptions are not the
// API's answer, so no policy is asked about them.
func (e *engine) settle(run *StreamPlan, logger *slog.Logger, err error, started bool) (_ error, skipped bool) {
	if err == nil || errors.Is(err, ErrInterrupted) {
		return err, false
	}
	action := e.src.decide(run.Stream, err)
	err = explain(run.Stream.Name, err, started)
	switch action {
	case Skip:
		logger.Warn("stream skipped: " + UserMessage(err) + "; the records read before stay written and the sync goes on")
		return nil, true
	case Abort:
		e.aborted.CompareAndSwap(nil, &err)
	}
	return err, false
}

// abortedBy returns the error that aborted the sync, or nil.
func (e *engine) abortedBy() error {
	if p := e.aborted.Load(); p != nil {
		return *p
	}
	return nil
}

// unreachable reports failures that no other stream of the same API can get
// past: the host cannot be reached, or the credentials are refused (401). A
// 403 is not one: it usually concerns one resource or one scope.
func unreachable(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var se *requests.StatusError
	if errors.As(err, &se) {
		return se.Status == http.StatusUnauthorized
	}
	return errors.As(err, &opErr) || errors.As(err, &dnsErr)
}

// withRetryLog sends the retry layer's lines (waits for a rate-limit reset,
// and their end) to the run's logger, unless the caller routed them.
func withRetryLog(o HTTPOptions, l *slog.Logger) HTTPOptions {
	if o.Retry.Logf == nil && l != nil {
		o.Retry.Logf = func(format string, args ...any) { l.Info(fmt.Sprintf(format, args...)) }
	}
	return o
}
