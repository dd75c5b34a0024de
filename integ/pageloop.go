package integ

import "github.com/integ/integ/requests"

// sentRequests remembers the requests one EmitPages loop sent, by their
// key (a hash of their fingerprint), so that any paginator's loop is
// caught.
type sentRequests map[requests.RequestKey]struct{}

// add reports whether r is new, and remembers it.
func (s sentRequests) add(r *requests.Request) bool {
	k := r.Key()
	if _, ok := s[k]; ok {
		return false
	}
	s[k] = struct{}{}
	return true
}
