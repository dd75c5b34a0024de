package requests

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// GraphQLOptions configure GraphQLErrors.
type GraphQLOptions struct {
	// Throttled are the error codes that mean a rate limit; default
	// THROTTLED (Shopify) and RATE_LIMITED (GitHub).
	Throttled []string
	// Wait, when set, says from the body how long a throttled query should
	// wait (Shopify's extensions.cost.throttleStatus); 0: Retry's backoff.
	Wait func(body []byte) time.Duration
}

// GraphQLErrors is a success classifier (RetryOptions.SuccessClassifiers)
// for GraphQL APIs, which answer errors with 200 and a body such as
// {"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}.
// By the first error's code (extensions.code, else type): a throttle is a
// 429 retried with backoff (or after Wait); INTERNAL_SERVER_ERROR is a 500,
// retried; ACCESS_DENIED or FORBIDDEN a 403, UNAUTHENTICATED a 401,
// NOT_FOUND a 404; anything else a 400. Those not retried fail with the
// server's message. A body with no errors, or an empty list, is a success.
func GraphQLErrors(o GraphQLOptions) RetryClassifier {
	if o.Throttled == nil {
		o.Throttled = []string{"THROTTLED", "RATE_LIMITED"}
	}
	return func(_ *http.Response, body []byte, _ time.Time) RetryAdvice {
		errs := gjson.GetBytes(body, "errors")
		if !errs.IsArray() {
			return RetryAdvice{}
		}
		status, code := 0, ""
		errs.ForEach(func(_, e gjson.Result) bool {
			c := strings.ToUpper(e.Get("extensions.code").String())
			if c == "" {
				c = strings.ToUpper(e.Get("type").String())
			}
			s := graphQLStatus(c, o.Throttled)
			if status == 0 || s == http.StatusTooManyRequests { // a throttle anywhere: wait and retry the whole query
				status, code = s, c
			}
			return s != http.StatusTooManyRequests
		})
		switch status {
		case 0:
			return RetryAdvice{}
		case http.StatusTooManyRequests:
			a := RetryAdvice{Action: AdviceRetry, Status: status, RateLimited: true, Reason: "GraphQL " + code}
			if o.Wait != nil {
				a.Wait = max(o.Wait(body), 0)
			}
			return a
		}
		return RetryAdvice{Status: status, Reason: "GraphQL " + cmp.Or(code, "error")}
	}
}

func graphQLStatus(code string, throttled []string) int {
	switch {
	case slices.Contains(throttled, code):
		return http.StatusTooManyRequests
	case code == "INTERNAL_SERVER_ERROR" || code == "INTERNAL":
		return http.StatusInternalServerError
	case code == "ACCESS_DENIED" || code == "FORBIDDEN":
		return http.StatusForbidden
	case code == "UNAUTHENTICATED":
		return http.StatusUnauthorized
	case code == "NOT_FOUND":
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}
