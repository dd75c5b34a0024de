package requests

import "hash/maphash"

// RequestKey identifies a request by its Fingerprint (method, URL and
// body) in 16 bytes, for the sets that catch a pagination loop. It is two
// 64-bit keyed hashes of the fingerprint's bytes, with seeds drawn at
// random for each process: equal fingerprints give equal keys, and two
// different ones share a key with probability 2^-128, as nobody outside
// the process knows the seeds to aim at one. A set of keys holds no
// pointers (a run of ten thousand pages would otherwise keep ten thousand
// URLs for every GC cycle to scan), and a key costs about a tenth of the
// SHA-256 the guards used to take, with no fingerprint string built.
type RequestKey [2]uint64

var keySeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// Key returns r's RequestKey.
func (r *Request) Key() RequestKey {
	var k RequestKey
	for i, seed := range keySeeds {
		var h maphash.Hash
		h.SetSeed(seed)
		// The bytes of Fingerprint, written as they would be joined.
		h.WriteString(r.method)
		h.WriteByte(' ')
		h.WriteString(r.url)
		if len(r.body) > 0 {
			h.WriteByte('\n')
			h.Write(r.body)
		}
		k[i] = h.Sum64()
	}
	return k
}

// tokenKey is a RequestKey for a pagination token (a URL, a cursor).
func tokenKey(tok string) RequestKey {
	return RequestKey{maphash.String(keySeeds[0], tok), maphash.String(keySeeds[1], tok)}
}
