package integ

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/integ/integ/requests"
)

// FailureKind says who can fix a failure. Protocols map it to their own
// vocabulary (Airbyte's failure_type, for one).
type FailureKind int

const (
	// SystemFailure is a bug or an unexpected condition: report it.
	SystemFailure FailureKind = iota
	// ConfigFailure is something the user must fix: config, catalog, state,
	// credentials or permissions.
	ConfigFailure
	// TransientFailure may go away if the sync is tried again later.
	TransientFailure
)

func (k FailureKind) String() string {
	switch k {
	case ConfigFailure:
		return "config_error"
	case TransientFailure:
		return "transient_error"
	}
	return "system_error"
}

// Sentinel errors callers branch on.
var (
	// ErrConfig is wrapped by every error about the user's config.
	ErrConfig = errors.New("invalid config")
	// ErrCatalog is wrapped by every error about the user's catalog.
	ErrCatalog = errors.New("invalid catalog")
	// ErrState is wrapped by every error about the input state.
	ErrState = errors.New("invalid state")
	// ErrInterrupted ends a sync stopped by a signal or a cancelled context.
	ErrInterrupted = errors.New("sync interrupted")
)

// Error carries a failure's kind and a message for people next to the error
// chain with the technical detail.
type Error struct {
	Kind FailureKind
	Msg  string // what happened and what to do, for a person
	Err  error  // the cause, for logs and internal messages
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	if e.Msg == "" {
		return e.Err.Error()
	}
	if isSentinel(e.Err) {
		return e.Msg // the sentinel is for errors.Is, not for people
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// tagged is err marked with a sentinel for errors.Is, without the
// sentinel's words in its text (errors.Join would print both, on two lines).
type tagged struct{ sentinel, err error }

func (t tagged) Error() string   { return t.err.Error() }
func (t tagged) Unwrap() []error { return []error{t.sentinel, t.err} }

func isSentinel(err error) bool {
	switch err {
	case ErrConfig, ErrCatalog, ErrState, ErrInterrupted:
		return true
	}
	return false
}

// ConfigErrorf returns a ConfigFailure error, for the user to fix.
func ConfigErrorf(format string, args ...any) error {
	return &Error{Kind: ConfigFailure, Err: fmt.Errorf(format, args...)}
}

// TransientErrorf returns a TransientFailure error, worth a retry later.
func TransientErrorf(format string, args ...any) error {
	return &Error{Kind: TransientFailure, Err: fmt.Errorf(format, args...)}
}

// KindOf classifies an error: an explicit *Error wins; otherwise HTTP
// statuses, network errors and sentinels decide.
func KindOf(err error) FailureKind {
	if err == nil {
		return SystemFailure
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, ErrConfig) || errors.Is(err, ErrCatalog) || errors.Is(err, ErrState) {
		return ConfigFailure
	}
	if errors.Is(err, ErrInterrupted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return TransientFailure
	}
	var se *requests.StatusError
	if errors.As(err, &se) {
		switch {
		case se.Status == http.StatusUnauthorized, se.Status == http.StatusForbidden:
			return ConfigFailure
		case se.Status == http.StatusTooManyRequests, se.Status == http.StatusRequestTimeout, se.Status >= 500:
			return TransientFailure
		case se.Status == http.StatusNotFound, se.Status == http.StatusBadRequest:
			return ConfigFailure
		}
		return SystemFailure
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return ConfigFailure
		}
		return TransientFailure
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return TransientFailure
	}
	if errors.Is(err, requests.ErrNotJSON) || errors.Is(err, requests.ErrTooLarge) {
		return TransientFailure
	}
	return SystemFailure
}

// UserMessage is a one-line message for a person: the *Error's Msg if set,
// otherwise the error text.
func UserMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return err.Error()
}
