package requests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// AttemptsHeader is set by Retry on the response it returns, holding the
// number of requests sent. ReadJSON moves it into StatusError.Attempts.
// A response header survives any body-wrapping middleware, which a
// context value or body wrapper would not.
const AttemptsHeader = "X-Integ-Attempts"

// Clock tells the time. Tests inject a fake one.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// RetryOptions configures Retry. Zero fields take the defaults shown.
type RetryOptions struct {
	MaxAttempts     int           // total requests, default 5; 1 disables retries
	MaxElapsed      time.Duration // total budget, default 5m; < 0 means none
	InitialInterval time.Duration // default 1s
	MaxInterval     time.Duration // backoff cap, default 60s
	MaxRetryAfter   time.Duration // cap on server-requested waits, default 5m
	// MaxBodyBytes bounds the 2xx body read inside an attempt (so that a
	// connection dropped mid-body is retried too); default
	// DefaultMaxResponseBytes. A larger body is passed on with the rest
	// unread, for ReadJSON's own limit to judge.
	MaxBodyBytes int64

	Clock Clock                                            // default: time.Now
	Sleep func(ctx context.Context, d time.Duration) error // default: timer, interrupted by ctx
	Rand  func() float64                                   // in [0,1), default math/rand/v2
	Logf  func(format string, args ...any)                 // default: silent

	// Classifiers are asked, in order, about every non-2xx response
	// before the default rules: an API's 403 can be a rate limit.
	Classifiers []RetryClassifier
	// SuccessClassifiers are asked, in order, about every 2xx response
	// whose whole body Retry read ahead (never a streamed or oversized
	// one), with that body: GraphQL APIs answer errors, throttling
	// included, with 200 (see GraphQLErrors). A RetryAdvice.Status makes
	// the response stand for that status from then on. None: a 2xx body
	// is never looked at.
	SuccessClassifiers []RetryClassifier
	// LongWait is the wait from which Retry logs when it will resume and
	// when it does; default 30s.
	LongWait time.Duration
}

// Merge returns o with the non-zero fields of over replacing its own;
// over's classifiers go first. A source's options merge over a run's.
func (o RetryOptions) Merge(over RetryOptions) RetryOptions {
	set := func(dst *time.Duration, v time.Duration) {
		if v != 0 {
			*dst = v
		}
	}
	if over.MaxAttempts != 0 {
		o.MaxAttempts = over.MaxAttempts
	}
	set(&o.MaxElapsed, over.MaxElapsed)
	set(&o.InitialInterval, over.InitialInterval)
	set(&o.MaxInterval, over.MaxInterval)
	set(&o.MaxRetryAfter, over.MaxRetryAfter)
	set(&o.LongWait, over.LongWait)
	if over.MaxBodyBytes != 0 {
		o.MaxBodyBytes = over.MaxBodyBytes
	}
	if over.Clock != nil {
		o.Clock = over.Clock
	}
	if over.Sleep != nil {
		o.Sleep = over.Sleep
	}
	if over.Rand != nil {
		o.Rand = over.Rand
	}
	if over.Logf != nil {
		o.Logf = over.Logf
	}
	o.Classifiers = append(slices.Clone(over.Classifiers), o.Classifiers...)
	o.SuccessClassifiers = append(slices.Clone(over.SuccessClassifiers), o.SuccessClassifiers...)
	return o
}

func (o RetryOptions) withDefaults() RetryOptions {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.MaxElapsed == 0 {
		o.MaxElapsed = 5 * time.Minute
	}
	if o.InitialInterval <= 0 {
		o.InitialInterval = time.Second
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = 60 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 5 * time.Minute
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxResponseBytes
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Sleep == nil {
		o.Sleep = sleepContext
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.LongWait <= 0 {
		o.LongWait = 30 * time.Second
	}
	return o
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// AttemptsError is returned by Retry when a request fails without a
// response (transport error, or the context ended while waiting).
type AttemptsError struct {
	Method   string
	URL      string // redacted
	Attempts int
	Err      error
}

func (e *AttemptsError) Error() string {
	if e.Attempts > 1 {
		return fmt.Sprintf("%s %s: after %d attempts: %v", e.Method, e.URL, e.Attempts, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Err)
}

func (e *AttemptsError) Unwrap() error { return e.Err }

// Retry resends requests that failed transiently: 408, 429 and 5xx other
// than 501 responses; timeouts of a single attempt (but not the end of
// the caller's context); and dropped or refused connections, including a
// connection dropped while a 2xx body arrives: Retry reads that body
// within the attempt (up to MaxBodyBytes) and ReadJSON adopts the buffer,
// unless the request's context is marked with StreamBody (see DoRaw).
//
// Waits follow Retry-After (seconds or HTTP date) and, on 429,
// X-RateLimit-Reset / RateLimit-Reset (seconds, or epoch seconds when
// above 1e9); a server-requested wait longer than MaxRetryAfter is not
// waited for: Retry returns a *RateLimitError saying when the limit
// resets. Otherwise exponential backoff with full jitter. A retry that
// would end past MaxElapsed is not attempted, unless a classifier asked
// for its wait (a rate-limit reset the source chose to wait for).
// Classifiers (see RetryClassifier) decide before these rules.
//
// When attempts run out on a retryable status, the last response is
// returned (with AttemptsHeader set) so ReadJSON reports a StatusError.
// Transport failures come back as *AttemptsError wrapping the last error.
// Bodies are replayed through GetBody; without it, a request with a body
// is sent once.
func Retry(opts RetryOptions) Middleware {
	o := opts.withDefaults()
	return func(next Doer) Doer {
		return DoerFunc(func(req *http.Request) (*http.Response, error) {
			return o.do(next, req)
		})
	}
}

func (o *RetryOptions) do(next Doer, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	start := o.Clock.Now()
	var b *backoff.ExponentialBackOff // made at the first retry: most requests never need it
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	redacted := func() string { return RedactURL(req.URL.String()) } // only for errors and logs
	fail := func(attempts int, err error) error {
		return &AttemptsError{Method: req.Method, URL: redacted(), Attempts: attempts, Err: stripURLError(err)}
	}

	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fail(attempt-1, fmt.Errorf("replay body: %w", err))
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err := next.Do(r)
		if err == nil && replayable && resp.StatusCode >= 200 && resp.StatusCode <= 299 && !streamsBody(ctx) {
			// Read a success's body within the attempt: a reset or an
			// early EOF mid-body is then retried like one before the headers.
			if err = o.readAhead(resp); err != nil {
				resp = nil
				err = fmt.Errorf("read body: %w", err)
			}
		}
		retry := false
		var reason string
		var advice RetryAdvice
		if err != nil {
			retry = retryableError(ctx, err)
			reason = stripURLError(err).Error()
		} else {
			advice = o.classify(resp)
			switch advice.Action {
			case AdviceRetry:
				retry = true
			case AdviceStop:
				if advice.RateLimited {
					return nil, rateLimited(resp, attempt, advice.Reason, time.Time{}, 0)
				}
			default:
				retry = RetryableStatus(resp.StatusCode)
			}
			reason = resp.Status
			if reason == "" {
				reason = strconv.Itoa(resp.StatusCode)
			}
			if advice.Reason != "" {
				reason += " (" + advice.Reason + ")"
			}
		}
		giveUp := func() (*http.Response, error) {
			if err != nil {
				return nil, fail(attempt, err)
			}
			if resp.Header == nil {
				resp.Header = http.Header{}
			}
			resp.Header.Set(AttemptsHeader, strconv.Itoa(attempt))
			return resp, nil
		}
		if !retry || !replayable || attempt >= o.MaxAttempts {
			return giveUp()
		}

		if b == nil {
			b = backoff.NewExponentialBackOff(
				backoff.WithInitialInterval(o.InitialInterval),
				backoff.WithMaxInterval(o.MaxInterval),
				backoff.WithMultiplier(2),
				backoff.WithRandomizationFactor(0), // we apply full jitter ourselves
				backoff.WithMaxElapsedTime(0),      // we track elapsed time, waits included
				backoff.WithClockProvider(o.Clock),
			)
		}
		wait := b.NextBackOff()
		wait = time.Duration(o.Rand() * float64(wait))
		asked := false // the server asked for this wait: MaxRetryAfter bounds it, not MaxElapsed
		if resp != nil {
			d, ok := advice.Wait, advice.Wait > 0
			if !ok {
				d, ok = o.serverWait(resp)
			}
			if ok {
				if d > o.MaxRetryAfter {
					// Waiting less than the server asked only earns another refusal.
					return nil, rateLimited(resp, attempt, advice.Reason, o.Clock.Now().Add(d), o.MaxRetryAfter)
				}
				wait, asked = d, advice.Wait > 0
			}
		}
		if !asked && o.MaxElapsed > 0 && o.Clock.Now().Sub(start)+wait > o.MaxElapsed {
			o.Logf("requests: %s %s: %s; not retrying: waiting %s would exceed %s total", req.Method, redacted(), reason, wait, o.MaxElapsed)
			return giveUp()
		}
		if resp != nil {
			// Drain a little so the connection can be reused.
			_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
			resp.Body.Close()
		}
		long := wait >= o.LongWait
		if long {
			o.Logf("requests: %s %s: attempt %d/%d: %s; waiting %s, until %s, before retrying", req.Method, redacted(), attempt, o.MaxAttempts, reason,
				wait.Round(time.Second), o.Clock.Now().Add(wait).UTC().Format(time.RFC3339))
		} else {
			o.Logf("requests: %s %s: attempt %d/%d: %s; retrying in %s", req.Method, redacted(), attempt, o.MaxAttempts, reason, wait.Round(time.Millisecond))
		}
		if serr := o.Sleep(ctx, wait); serr != nil {
			return nil, fail(attempt, fmt.Errorf("retry interrupted (last: %s): %w", reason, serr))
		}
		if long {
			o.Logf("requests: %s %s: resuming after waiting %s", req.Method, redacted(), wait.Round(time.Second))
		}
	}
}

// readAhead replaces resp.Body, once read, with a bufferedBody that
// ReadJSON adopts without copying. On error the body is closed.
func (o *RetryOptions) readAhead(resp *http.Response) error {
	bp, err := readBody(resp.Body, resp.ContentLength, o.MaxBodyBytes)
	if err != nil {
		resp.Body.Close()
		return err
	}
	if int64(len(*bp)) > o.MaxBodyBytes {
		// Too large to hold here: what was read, then the rest.
		resp.Body = newBufferedBody(bp, resp.Body)
		return nil
	}
	resp.Body.Close()
	resp.Body = newBufferedBody(bp, nil)
	return nil
}

// RetryableStatus reports whether Retry resends on status code.
func RetryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented:
		return false
	}
	return code >= 500 && code <= 599
}

// retryableError reports whether a transport error is transient. Once the
// caller's context is done nothing is retried: a DeadlineExceeded is only
// transient when it came from a per-attempt Timeout.
func retryableError(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && (dns.IsTemporary || dns.IsTimeout) {
		return true
	}
	// HTTP/2 stream resets and GOAWAY have no exported error types.
	msg := err.Error()
	return strings.Contains(msg, "http2: server sent GOAWAY") ||
		strings.Contains(msg, "stream error") && strings.Contains(msg, "INTERNAL_ERROR")
}

// serverWait returns the wait the server asked for. Rate-limit reset headers are only trusted on 429: many
// APIs send them on every response.
func (o *RetryOptions) serverWait(resp *http.Response) (time.Duration, bool) {
	now := o.Clock.Now()
	d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now)
	if !ok && resp.StatusCode == http.StatusTooManyRequests {
		for _, h := range []string{"X-RateLimit-Reset", "RateLimit-Reset", "X-Rate-Limit-Reset"} {
			if d, ok = parseReset(resp.Header.Get(h), now); ok {
				break
			}
		}
	}
	if !ok || d <= 0 {
		return 0, false // absent, or already passed (clock skew): back off instead
	}
	return d, true
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs >= 0 && secs <= 1e9) { // also rejects NaN
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now), true
	}
	return 0, false
}

func parseReset(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || !(n >= 0 && n < 1e12) { // also rejects NaN and Inf
		return 0, false
	}
	if n >= 1e9 { // epoch seconds
		sec := int64(n)
		return time.Unix(sec, int64((n-float64(sec))*1e9)).Sub(now), true
	}
	return time.Duration(n * float64(time.Second)), true
}
