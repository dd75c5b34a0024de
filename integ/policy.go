package integ

import (
	"errors"
	"slices"

	"github.com/integ/integ/requests"
)

// ErrorAction says what the engine does with an error a runner (or a request
// it made) returned. Policies return Default when they have no opinion, so
// the next policy, and then the engine, decides.
type ErrorAction int

const (
	// Default: no opinion; ask the next policy, then the engine's default
	// (Abort for refused credentials and unreachable hosts, Fail otherwise).
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
	if unreachable(err) {
		return Abort
	}
	return Fail
}
