// Package requests is a stub of the real builder's shape for the analyzer's tests.
package requests

type Request struct{ q []string }

func New(url string) *Request                         { return &Request{} }
func (r *Request) Query(k, v string) *Request         { return r }
func (r *Request) SetQuery(k, v string) *Request      { return r }
func (r *Request) Header(k, v string) *Request        { return r }
func (r *Request) Method(m string) *Request           { return r }
func (r *Request) Clone() *Request                    { return r }
func (r *Request) QueryValue(k string) string         { return "" }
func (r *Request) URL() string                        { return "" }
func Next(prev *Request) (*Request, error)            { return prev, nil }
func (r Request) ValueCopy() *Request                 { return &r }
func Apply(r *Request, f func(*Request) *Request) any { return f(r) }

// Internal calls are checked too: this one is a bug inside the package.
func (r *Request) JSONBody(v any) *Request {
	r.Header("Content-Type", "application/json") // want `the result of \(\*requests.Request\).Header is unused`
	return r
}

// Limiter is another pointer type of the package: not a request.
type Limiter struct{}

func NewLimiter() *Limiter { return &Limiter{} }
