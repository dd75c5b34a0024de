package requests

import "testing"

// TestRequestKey checks that two requests share a key exactly when they
// share a fingerprint: the pagination guards rely on both directions.
func TestRequestKey(t *testing.T) {
	base := New("https://api.test/items?limit=100")
	reqs := []*Request{
		base,
		New("https://api.test/items?limit=100"), // the same request, built again
		base.Query("offset", "100"),
		base.Query("offset", "200"),
		base.SetQuery("limit", "100"), // same URL as base
		base.Method("POST"),
		base.Method("POST").Body([]byte(`{"a":1}`)),
		base.Method("POST").Body([]byte(`{"a":2}`)),
		base.Method("POST").Body([]byte(`{"a":1}`)), // same as two above
		New("https://api.test/items?limit=10"),
		New("https://api.test/items?limit=1000"),
		New("https://api.test/item"),
		New("https://api.test/items?limit=100").Method("POST").Body([]byte("\n")),
	}
	for i, a := range reqs {
		for j, b := range reqs {
			sameFP := a.Fingerprint() == b.Fingerprint()
			if sameKey := a.Key() == b.Key(); sameKey != sameFP {
				t.Errorf("requests %d and %d: same key %v, same fingerprint %v (%q, %q)", i, j, sameKey, sameFP, a.Fingerprint(), b.Fingerprint())
			}
		}
	}
}

func TestTokenKey(t *testing.T) {
	toks := []string{"", "a", "b", "ab", "https://api.test/items?page=2", "https://api.test/items?page=3"}
	for i, a := range toks {
		for j, b := range toks {
			if same := tokenKey(a) == tokenKey(b); same != (i == j) {
				t.Errorf("tokenKey(%q) == tokenKey(%q) is %v", a, b, same)
			}
		}
	}
}

func BenchmarkRequestKey(b *testing.B) {
	r := New("https://pokeapi.co/api/v2/pokemon?offset=1000&limit=1000")
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Key()
	}
}
