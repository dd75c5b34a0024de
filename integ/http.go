package integ

import (
	"math"
	"net/http"
	"time"

	"github.com/integ/integ/requests"
)

// HTTPOptions tunes the HTTP stack of a run.
type HTTPOptions struct {
	// Doer is the innermost transport; default requests.DefaultClient().
	Doer    requests.Doer
	Retry   requests.RetryOptions
	Timeout time.Duration // per request; default 5 minutes
	// HeaderTimeout bounds, within Timeout, the wait for a response's
	// headers; default: with the run's own client, one minute (what
	// requests.DefaultClient's transport bounds), with a Doer of the
	// caller's, none beyond what that Doer bounds.
	HeaderTimeout    time.Duration
	MaxResponseBytes int64 // default requests.DefaultMaxResponseBytes
	// RequestsPerSecond and Burst override the source's rate limit when
	// RequestsPerSecond is not zero.
	RequestsPerSecond float64
	Burst             int
	// Session is the process's session, shared by every step so that
	// credentials are built once; nil: a session for this call alone.
	Session *Session

	streams int // how many streams the run syncs at once (Sync sets it)
}

type httpEnv struct {
	doer      requests.Doer
	quota     *requests.Quota // the run's requests in flight and their rate
	maxBytes  int64
	session   *Session
	userAgent string // what the doer's UserAgent middleware sets
	owned     []*http.Client
}

// close lets go of the idle connections of the clients the run made for
// itself (none of a Doer the caller passed). Without it a program that
// syncs again and again keeps each run's keep-alive connections, and their
// goroutines, open until the transport's idle timeout (90 seconds).
func (e *httpEnv) close() {
	for _, c := range e.owned {
		c.CloseIdleConnections()
	}
}

// buildHTTP stacks the run's transports: retries outermost (each attempt is
// rate limited and timed out on its own), then the source's middleware.
func (s *Source) buildHTTP(cfg *Config, o HTTPOptions) (*httpEnv, error) {
	var owned []*http.Client
	base := o.Doer
	headerTimeout := o.HeaderTimeout
	if base == nil {
		c := requests.DefaultClient()
		if tr, ok := c.Transport.(*http.Transport); ok {
			// The bound on the wait for response headers moves into the
			// Timeout middleware, whose one timer serves every request:
			// the transport's arms a timer for each.
			if headerTimeout == 0 {
				headerTimeout = tr.ResponseHeaderTimeout
			}
			tr.ResponseHeaderTimeout = 0
		}
		base, owned = c, append(owned, c)
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
	rps, burst := s.rate(set, o)
	// A class with a rate of its own waits for its turn outside the run's
	// budget and spends it inside, as it goes (WithEndpointLimit).
	endpoints, err := s.endpointLimiter(cfg)
	if err != nil {
		return nil, err
	}
	mws = append(mws, endpoints.Gate())
	// One budget for every stream and partition: a request waits for a
	// slot and its turn under the rate, turns going round the streams.
	var limiter *requests.Limiter
	if rps > 0 {
		limiter = requests.NewLimiter(rps, max(burst, 1))
	}
	quota := requests.NewQuota(concurrencyLimit(set.concurrent, rps, max(o.streams, set.parallel)), limiter)
	mws = append(mws, requests.Share(quota))
	if s.adaptive != nil {
		mws = append(mws, requests.AdaptiveLimit(s.adaptive()))
	}
	mws = append(mws, endpoints.Commit())
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	mws = append(mws, requests.Timeout(timeout, requests.HeaderTimeout(headerTimeout)))
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
	if o.Session == nil && sess.tokenClient != nil {
		owned = append(owned, sess.tokenClient) // the session ends with this run
	}
	mws = append(mws, auth...)
	return &httpEnv{doer: requests.Chain(base, mws...), quota: quota, maxBytes: maxBytes, session: sess, userAgent: ua, owned: owned}, nil
}

// rate is the run's rate limit: the user's requests_per_second, else
// HTTPOptions', else the source's own.
func (s *Source) rate(set runSettings, o HTTPOptions) (rps float64, burst int) {
	rps, burst = s.rps, s.burst
	if o.RequestsPerSecond != 0 {
		rps, burst = o.RequestsPerSecond, o.Burst
	}
	if set.rps > 0 {
		// The user's rate is a promise to the API: no second sees more
		// than rps requests, so no burst on top of it.
		rps, burst = set.rps, 1
	}
	return rps, max(burst, 1)
}

// defaultRatedStreams is how many streams sync at once when the user sets
// requests_per_second and neither the config (max_parallel_streams) nor
// the caller says: the rate then bounds the load on the API, and one
// stream at a time could not reach it (a list's pages come one after
// another). A source's own rate does not change the default: its streams
// keep the order its users know.
const defaultRatedStreams = 8

// streamParallelism is how many streams a sync runs at once: the caller's
// word, else the config's max_parallel_streams, else defaultRatedStreams
// under the user's rate and 1 without.
func streamParallelism(opt int, set runSettings) int {
	switch {
	case opt > 0:
		return opt
	case set.parallel > 0:
		return set.parallel
	case set.rps > 0:
		return defaultRatedStreams
	}
	return 1
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
