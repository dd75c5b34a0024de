package integ

import (
	"crypto/sha256"

	"github.com/integ/integ/requests"
)

// sentRequests remembers the requests one EmitPages loop sent, by a hash
// of their fingerprint, so that any paginator's loop is caught.
type sentRequests map[[sha256.Size]byte]struct{}

// add reports whether r is new, and remembers it.
func (s sentRequests) add(r *requests.Request) bool {
	k := sha256.Sum256([]byte(r.Fingerprint()))
	if _, ok := s[k]; ok {
		return false
	}
	s[k] = struct{}{}
	return true
}
