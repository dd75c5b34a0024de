package integ

import (
	"net/http"

	"github.com/integ/integ/requests"
)

// WithEndpointLimit gives the requests match selects a rate of their own,
// rps a second with bursts of burst, on top of the run's budget
// (requests_per_second, max_concurrent_requests), through the same client:
// HubSpot's search endpoints allow 4 a second, Shopify's bulk operations
// fewer. Such a request waits for its class's turn before it takes any of
// the run's budget, so a slow class holds up no other request. Repeat the
// option for more classes; a request takes the first that matches.
//
//	integ.WithEndpointLimit(func(r *http.Request) bool {
//		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/search")
//	}, 4, 1)
func WithEndpointLimit(match func(*http.Request) bool, rps float64, burst int) SourceOption {
	return func(s *Source) {
		s.endpointLimits = append(s.endpointLimits, requests.EndpointLimit{Match: match, RPS: rps, Burst: burst})
	}
}
