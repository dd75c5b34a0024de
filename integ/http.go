package integ

import (
	"math"
	"time"

	"github.com/integ/integ/requests"
)

// HTTPOptions tunes the HTTP stack of a run.
type HTTPOptions struct {
	// Doer is the innermost transport; default requests.DefaultClient().
	Doer             requests.Doer
	Retry            requests.RetryOptions
	Timeout          time.Duration // per request; default 5 minutes
	MaxResponseBytes int64         // default requests.DefaultMaxResponseBytes
	// RequestsPerSecond and Burst override the source's rate limit when
	// RequestsPerSecond is not zero.
	RequestsPerSecond float64
	Burst             int
	// Session is the process's session, shared by every step so that
	// credentials are built once; nil: a session for this call alone.
	Session *Session
}

type httpEnv struct {
	doer     requests.Doer
	slots    *requests.Slots // the run's in-flight requests
	maxBytes int64
	session  *Session
}

// buildHTTP stacks the run's transports: retries outermost (each attempt is
// rate limited and timed out on its own), then the source's middleware.
func (s *Source) buildHTTP(cfg *Config, o HTTPOptions) (*httpEnv, error) {
	base := o.Doer
	if base == nil {
		base = requests.DefaultClient()
	}
	set := cfg.settings()
	retry := o.Retry.Merge(s.retry) // the source knows its API's limits
	if set.maxAttempts > 0 {
		retry.MaxAttempts = set.maxAttempts
	}
	maxBytes := o.MaxResponseBytes
	if maxBytes == 0 {
		maxBytes = requests.DefaultMaxResponseBytes
	}
	if retry.MaxBodyBytes == 0 {
		retry.MaxBodyBytes = maxBytes // Retry reads bodies ahead: hold no more than ReadJSON will take
	}
	var mws []requests.Middleware
	mws = append(mws, requests.Retry(retry))
	rps, burst := s.rps, s.burst
	if o.RequestsPerSecond != 0 {
		rps, burst = o.RequestsPerSecond, o.Burst
	}
	if set.rps > 0 {
		// The user's rate is a promise to the API: no second sees more
		// than rps requests, so no burst on top of it.
		rps, burst = set.rps, 1
	}
	// A class with a rate of its own waits for its turn outside the run's
	// budget and spends it inside, as it goes (WithEndpointLimit).
	endpoints, err := s.endpointLimiter(cfg)
	if err != nil {
		return nil, err
	}
	mws = append(mws, endpoints.Gate())
	// Slots outside the rate limit: a request waits for a slot, then for
	// its turn, so requests freed together by slots still keep the rate.
	slots := requests.NewSlots(concurrencyLimit(set.concurrent, rps, set.parallel))
	mws = append(mws, requests.LimitConcurrency(slots))
	if rps > 0 {
		if burst < 1 {
			burst = 1
		}
		mws = append(mws, requests.RateLimit(requests.NewLimiter(rps, burst)))
	}
	if s.adaptive != nil {
		mws = append(mws, requests.AdaptiveLimit(s.adaptive()))
	}
	mws = append(mws, endpoints.Commit())
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	mws = append(mws, requests.Timeout(timeout))
	ua := s.userAgent
	if ua == "" {
		ua = "integ-" + s.Name + "/" + s.Version
	}
	mws = append(mws, requests.UserAgent(ua))
	sess := o.Session
	if sess == nil {
		sess = NewSession()
		sess.SetConfig(cfg)
	}
	auth, err := sess.authMiddleware(s, cfg, o)
	if err != nil {
		return nil, err
	}
	mws = append(mws, auth...)
	return &httpEnv{doer: requests.Chain(base, mws...), slots: slots, maxBytes: maxBytes, session: sess}, nil
}

// The default bound on requests in flight (max_concurrent_requests).
const (
	defaultConcurrency    = 8  // at least
	maxDefaultConcurrency = 64 // from a rate: rps at 1 s a request, at most this
)

// concurrencyLimit is how many requests may be in flight: the user's
// max_concurrent_requests, or else 8, raised to two for each parallel
// stream (a page and the next one's prefetch) and to enough to reach the
// rate limit when each request takes a second (slower APIs need the
// setting).
func concurrencyLimit(set int, rps float64, streams int) int {
	if set > 0 {
		return set
	}
	n := max(defaultConcurrency, 2*streams)
	if rps > 0 {
		n = max(n, min(maxDefaultConcurrency, int(math.Ceil(rps))))
	}
	return n
}
