package hubspot

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// RateLimits classifies HubSpot's 429 answers, whose body names the limit
// reached ({"errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING",...}):
// the daily limit stops (the account's requests for the day are spent);
// the others are waited out, for Retry-After when HubSpot sends it, else a
// second for the search's per-second limit and the window
// (X-HubSpot-RateLimit-Interval-Milliseconds, default ten seconds) for the
// rolling limits.
func RateLimits() requests.RetryClassifier {
	return func(resp *http.Response, body []byte, _ time.Time) requests.RetryAdvice {
		if resp.StatusCode != http.StatusTooManyRequests {
			return requests.RetryAdvice{}
		}
		policy := gjson.GetBytes(body, "policyName").String()
		if policy == "DAILY" {
			return requests.RetryAdvice{Action: requests.AdviceStop, RateLimited: true,
				Reason: "HubSpot's daily request limit for the account is spent; it resets at midnight in the account's time zone"}
		}
		wait := 10 * time.Second
		if ms, err := strconv.Atoi(resp.Header.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
			wait = time.Duration(ms) * time.Millisecond
		}
		if policy == "SECONDLY" || strings.HasSuffix(resp.Request.URL.Path, "/search") {
			wait = time.Second
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			wait = time.Duration(s) * time.Second
		}
		reason := "HubSpot rate limit"
		if policy != "" {
			reason += " " + policy
		}
		return requests.RetryAdvice{Action: requests.AdviceRetry, Wait: wait, RateLimited: true, Reason: reason}
	}
}
