package integ

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
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

// String names the kind in integ's own words; protocols map kinds to their
// vocabulary themselves (Airbyte's failure_type in protocol/airbyte).
func (k FailureKind) String() string {
	switch k {
	case ConfigFailure:
		return "config"
	case TransientFailure:
		return "transient"
	}
	return "system"
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
	var rl *requests.RateLimitError
	if errors.As(err, &rl) {
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
			// Most often a base URL or an ID from the config; once a stream
			// has read records, explain tells a deletion mid-sync apart.
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

// explain gives an error the API answered a message for people: who
// refused what, the server's own words, and what to do. Errors that already
// carry a message are left alone. started says the stream read records
// before: a 400 or 404 is then not the config's fault (a repository
// deleted mid-sync) but the server's answer to a later request.
func explain(stream string, err error, started bool) error {
	var ie *Error
	if err == nil || errors.As(err, &ie) {
		return err
	}
	var rl *requests.RateLimitError
	if errors.As(err, &rl) {
		return &Error{Kind: TransientFailure, Msg: fmt.Sprintf("stream %q: %s", stream, rl.Error()), Err: err}
	}
	var se *requests.StatusError
	if !errors.As(err, &se) {
		return err
	}
	answer := fmt.Sprintf("%s %s answered %d %s", se.Method, se.URL, se.Status, http.StatusText(se.Status))
	if m := cmp.Or(APIMessage(string(se.Body)), APIMessage(se.BodyExcerpt)); m != "" {
		answer += ": " + m
	}
	if se.Attempts > 1 {
		answer += fmt.Sprintf(" (after %d attempts)", se.Attempts)
	}
	var msg string
	kind := KindOf(err)
	switch {
	case se.Status == http.StatusUnauthorized:
		msg = "the API refused the credentials: " + answer + "; check the token or key in the config"
	case se.Status == http.StatusForbidden:
		msg = "the API refused access: " + answer + "; the credentials may lack a permission or scope this stream needs: grant it, or deselect the stream"
	case (se.Status == http.StatusNotFound || se.Status == http.StatusBadRequest) && !started:
		msg = "the server refused the stream's first request: " + answer + "; check the config's base URL, IDs and parameters"
	case se.Status == http.StatusNotFound || se.Status == http.StatusGone:
		msg = "the server refused: " + answer + "; the resource may have been deleted or moved during the sync"
		kind = SystemFailure
	case se.Status == http.StatusTooManyRequests || se.Status >= 500:
		msg = "the server kept failing: " + answer + "; try again later"
	default:
		msg = "the server refused: " + answer
		if started {
			kind = SystemFailure
		}
	}
	return &Error{Kind: kind, Msg: fmt.Sprintf("stream %q: %s", stream, msg), Err: err}
}

// messagePaths are where APIs put a refusal's explanation: GitHub and
// HubSpot ("message"), Salesforce (an array of {message, errorCode}),
// OAuth ("error_description"), Stripe and Google ("error.message"), JSON:API
// ("errors.0.detail"), RFC 9457 ("detail", "title"), Sitoo ("errortext").
var messagePaths = []string{"message", "error.message", "error_description", "0.message", "errors.0.message", "errors.0.detail", "detail", "title", "error", "errortext"}

// APIMessage finds the explanation in an error body (JSON, possibly cut
// short), or returns "" when there is none worth showing.
func APIMessage(body string) string {
	body = strings.TrimSpace(body)
	if body == "" || body[0] != '{' && body[0] != '[' {
		return ""
	}
	for _, p := range messagePaths {
		if v := gjson.Get(body, p); v.Type == gjson.String && strings.TrimSpace(v.String()) != "" {
			m := strings.TrimSpace(v.String())
			if code := gjson.Get(body, "0.errorCode"); code.Type == gjson.String && p == "0.message" {
				m += " (" + code.String() + ")"
			} else if cat := gjson.Get(body, "category"); cat.Type == gjson.String && p == "message" {
				m += " (" + cat.String() + ")"
			}
			return m
		}
	}
	return ""
}
