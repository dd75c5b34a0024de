package requests

import "net/http"

// RoundTripper makes a Doer (a stack of middleware, say) usable as an
// http.RoundTripper, so integ's retries, rate limits and auth drop into any
// other client:
//
//	client := &http.Client{Transport: requests.RoundTripper(requests.Chain(http.DefaultClient, requests.Retry(opts)))}
func RoundTripper(d Doer) http.RoundTripper { return roundTripper{d} }

type roundTripper struct{ d Doer }

// RoundTrip sends req through the Doer.
func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return rt.d.Do(req) }

// Transport makes an http.RoundTripper a Doer, so middleware can stack on
// any transport (a recording or signing one, say).
func Transport(rt http.RoundTripper) Doer {
	return DoerFunc(rt.RoundTrip)
}
