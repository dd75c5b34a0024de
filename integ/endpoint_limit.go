package integ

import (
	"fmt"
	"net/http"

	"github.com/integ/integ/requests"
)

// endpointLimitFunc is one WithEndpointLimit, its rate read from the config.
type endpointLimitFunc func(cfg *Config) (requests.EndpointLimit, error)

// WithEndpointLimit gives the requests match selects a rate of their own,
// rps a second with bursts of burst, on top of the run's budget
// (requests_per_second, max_concurrent_requests), through the same client:
// HubSpot's search endpoints allow 4 a second, Shopify's bulk operations
// fewer. rate reads them from the config (as a *Config or the source's
// config type C); rps <= 0 leaves the class unlimited. Such a request waits
// for its class's turn before it takes any of the run's budget, so a slow
// class holds up no other request. Repeat the option for more classes; a
// request takes the first that matches.
//
//	integ.WithEndpointLimit(func(r *http.Request) bool {
//		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/search")
//	}, func(c Config) (float64, int) { return c.SearchRate, 1 })
func WithEndpointLimit[C any](match func(*http.Request) bool, rate func(cfg C) (rps float64, burst int)) SourceOption {
	return func(s *Source) {
		s.endpointLimits = append(s.endpointLimits, func(cfg *Config) (requests.EndpointLimit, error) {
			c, ok := any(cfg).(C)
			if !ok {
				var err error
				if c, err = typedConfig[C](cfg); err != nil {
					return requests.EndpointLimit{}, err
				}
			}
			rps, burst := rate(c)
			return requests.EndpointLimit{Match: match, RPS: rps, Burst: burst}, nil
		})
	}
}

// endpointLimiter is the run's limiter of the source's endpoint classes
// (nil: none).
func (s *Source) endpointLimiter(cfg *Config) (*requests.EndpointLimiter, error) {
	if len(s.endpointLimits) == 0 {
		return nil, nil
	}
	limits := make([]requests.EndpointLimit, 0, len(s.endpointLimits))
	for _, fn := range s.endpointLimits {
		l, err := fn(cfg)
		if err != nil {
			return nil, &Error{Kind: ConfigFailure, Err: ErrConfig, Msg: fmt.Sprintf("cannot read an endpoint's rate limit from the config: %v", err)}
		}
		limits = append(limits, l)
	}
	return requests.NewEndpointLimiter(limits...), nil
}
