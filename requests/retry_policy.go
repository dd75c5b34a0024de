package requests

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// RetryAction is a RetryClassifier's verdict.
type RetryAction int

const (
	// AdviceDefault: no opinion; the next classifier, then Retry's own
	// rules (RetryableStatus, Retry-After) decide.
	AdviceDefault RetryAction = iota
	// AdviceRetry: resend, after Wait when it is set.
	AdviceRetry
	// AdviceStop: do not resend.
	AdviceStop
)

// RetryAdvice is what a RetryClassifier says about a response.
type RetryAdvice struct {
	Action RetryAction
	// Wait is how long the server asked to wait (AdviceRetry). A Wait
	// longer than MaxRetryAfter is not waited for: Retry returns a
	// *RateLimitError saying when the limit resets.
	Wait time.Duration
	// RateLimited marks a rate-limit refusal: with AdviceStop, Retry
	// returns a *RateLimitError instead of the response.
	RateLimited bool
	// Reason says why, for logs and errors ("GitHub rate limit").
	Reason string
	// Status, when set, is the status the response stands for: a GraphQL
	// error carried in a 200 becomes a 429, 403 or 400. Retry's own rules
	// then apply to it (with AdviceDefault, a 5xx is retried), and a
	// response handed on with it makes ReadJSON fail with a *StatusError
	// holding the body, so the server's message reaches the user.
	Status int
}

// RetryClassifier looks at a non-2xx response (and up to 64 KiB of its
// body) to say whether it is worth resending: an API's 403 can be a rate
// limit. As one of RetryOptions.SuccessClassifiers it looks at a 2xx
// response and its whole body instead. It must not keep body. now is
// Retry's clock.
type RetryClassifier func(resp *http.Response, body []byte, now time.Time) RetryAdvice

// RateLimitError is returned by Retry when the server's rate limit is
// exhausted and cannot be waited for: the reset is further away than
// MaxRetryAfter, or the limit is a quota (a daily one) a source must not
// hammer. Err is the server's *StatusError.
type RateLimitError struct {
	Reason  string
	ResetAt time.Time     // zero when the server did not say
	MaxWait time.Duration // MaxRetryAfter, when the reset is beyond it
	Err     error
}

func (e *RateLimitError) Error() string {
	var sb strings.Builder
	sb.WriteString("rate limit exhausted")
	if e.Reason != "" {
		sb.WriteString(" (" + e.Reason + ")")
	}
	if !e.ResetAt.IsZero() {
		fmt.Fprintf(&sb, "; it resets at %s", e.ResetAt.UTC().Format(time.RFC3339))
		if e.MaxWait > 0 {
			fmt.Fprintf(&sb, ", later than this source waits (%s)", e.MaxWait)
		}
	}
	if e.ResetAt.IsZero() {
		sb.WriteString("; try again later")
	} else {
		sb.WriteString("; try again then")
	}
	if e.Err != nil {
		sb.WriteString(": ")
		sb.WriteString(e.Err.Error())
	}
	return sb.String()
}

func (e *RateLimitError) Unwrap() error { return e.Err }

// classify asks the classifiers in order; the first opinion wins. It reads
// up to errorBodyLimit of a non-2xx body and puts it back in front of the
// rest; a 2xx body is the one Retry read ahead, whole. An advice's Status
// is applied to resp.
func (o *RetryOptions) classify(resp *http.Response) RetryAdvice {
	var body []byte
	classifiers := o.Classifiers
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		bb, ok := resp.Body.(*bufferedBody)
		if len(o.SuccessClassifiers) == 0 || !ok || bb.rest != nil || bb.bp == nil {
			return RetryAdvice{}
		}
		body, classifiers = *bb.bp, o.SuccessClassifiers
	} else {
		if len(classifiers) == 0 {
			return RetryAdvice{}
		}
		body, _ = io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	}
	now := o.Clock.Now()
	for _, c := range classifiers {
		if a := c(resp, body, now); a.Action != AdviceDefault || a.Status != 0 {
			if a.Status != 0 {
				resp.StatusCode, resp.Status = a.Status, fmt.Sprintf("%d %s", a.Status, http.StatusText(a.Status))
			}
			return a
		}
	}
	return RetryAdvice{}
}

// rateLimited turns a refused response into a *RateLimitError carrying
// the server's *StatusError.
func rateLimited(resp *http.Response, attempts int, reason string, resetAt time.Time, maxWait time.Duration) error {
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	resp.Header.Set(AttemptsHeader, fmt.Sprint(attempts))
	_, err := ReadJSON(resp, errorBodyLimit)
	return &RateLimitError{Reason: reason, ResetAt: resetAt, MaxWait: maxWait, Err: err}
}

// RateLimitHeaders classifies a 403 or 429 with x-ratelimit-remaining: 0
// as a rate limit to wait out until x-ratelimit-reset (epoch seconds, or
// seconds from now), as GitHub, GitLab and many others send it. GitHub
// answers an exhausted primary limit with a 403.
func RateLimitHeaders() RetryClassifier {
	return func(resp *http.Response, _ []byte, now time.Time) RetryAdvice {
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
			return RetryAdvice{}
		}
		if strings.TrimSpace(resp.Header.Get("X-RateLimit-Remaining")) != "0" {
			return RetryAdvice{}
		}
		d, ok := parseReset(resp.Header.Get("X-RateLimit-Reset"), now)
		if !ok {
			return RetryAdvice{}
		}
		return RetryAdvice{Action: AdviceRetry, Wait: max(d, time.Second), RateLimited: true, Reason: "x-ratelimit-remaining is 0"}
	}
}

// RetryAfterOn classifies the given statuses carrying a Retry-After header
// as a rate limit to wait out: GitHub's secondary rate limit is a 403 with
// Retry-After.
func RetryAfterOn(statuses ...int) RetryClassifier {
	return func(resp *http.Response, _ []byte, now time.Time) RetryAdvice {
		if !slices.Contains(statuses, resp.StatusCode) {
			return RetryAdvice{}
		}
		d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now)
		if !ok {
			return RetryAdvice{}
		}
		return RetryAdvice{Action: AdviceRetry, Wait: max(d, 0), RateLimited: true, Reason: "the server asked to retry after " + d.String()}
	}
}

// GitHubRateLimits classifies GitHub's rate-limit refusals: the primary
// limit (403 or 429, x-ratelimit-remaining 0, wait until
// x-ratelimit-reset), the secondary limit with retry-after, and the
// secondary limit without it (wait a minute, as GitHub's docs advise).
func GitHubRateLimits() RetryClassifier {
	primary, after := RateLimitHeaders(), RetryAfterOn(http.StatusForbidden, http.StatusTooManyRequests)
	return func(resp *http.Response, body []byte, now time.Time) RetryAdvice {
		if a := primary(resp, body, now); a.Action != AdviceDefault {
			a.Reason = "GitHub primary rate limit"
			return a
		}
		if a := after(resp, body, now); a.Action != AdviceDefault {
			a.Reason = "GitHub secondary rate limit"
			return a
		}
		if (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests) &&
			strings.Contains(strings.ToLower(gjson.GetBytes(body, "message").String()), "secondary rate limit") {
			return RetryAdvice{Action: AdviceRetry, Wait: time.Minute, RateLimited: true, Reason: "GitHub secondary rate limit"}
		}
		return RetryAdvice{}
	}
}

// SalesforceRequestLimit stops at Salesforce's REQUEST_LIMIT_EXCEEDED
// (a 403 whose body is [{"errorCode":"REQUEST_LIMIT_EXCEEDED",...}]): the
// org's 24-hour API allowance is spent, and retrying only spends more of
// what frees up.
func SalesforceRequestLimit() RetryClassifier {
	return func(resp *http.Response, body []byte, _ time.Time) RetryAdvice {
		if resp.StatusCode != http.StatusForbidden {
			return RetryAdvice{}
		}
		for _, code := range gjson.GetBytes(body, "#.errorCode").Array() {
			if code.String() == "REQUEST_LIMIT_EXCEEDED" {
				return RetryAdvice{Action: AdviceStop, RateLimited: true,
					Reason: "Salesforce REQUEST_LIMIT_EXCEEDED: the org's 24-hour API request allowance is used up; it frees up as the requests of the last 24 hours age out"}
			}
		}
		return RetryAdvice{}
	}
}
