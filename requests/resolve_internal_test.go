package requests

import (
	"context"
	"testing"
)

// TestResolveShortcut: an absolute next link taken as it is goes out
// exactly as one resolved by RFC 3986 would.
func TestResolveShortcut(t *testing.T) {
	base := New("https://api.test/v1/items?page=1").Header("X-Key", "k")
	for _, ref := range []string{
		"https://api.test/v1/items?page=2",
		"http://other.test/v1/items?cursor=a%2Fb%3D&limit=100",
		"https://api.test/v1/items?page=2#frag",
		"https://api.test/v1/it%2Fems?sig=abc%3D%3D",
		"https://api.test/v1/a b?q=x y",
		"https://api.test/v1/ünï?x=ü",
		"https://api.test:8443/v1/items",
		"https://api.test",
		"https://api.test/v1/./items",  // dot segments: resolved
		"https://api.test/v1/../items", // dot segments: resolved
		"HTTPS://api.test/v1/items",
		"/v1/items?page=3",                      // relative: resolved
		"https://api.test/v1/items?q=a\x01b",    // a control byte: refused by both
		"https://api.test/v1/items?q=a\x7fb",    // DEL too
		"https://api.test/v1/items#%zz",         // a fragment url.Parse refuses
		"https://api.test/v1/items?page=2#x%zz", // in a query's fragment too
		"https://api.test:port/v1/items",        // a port that is no number
		"https://api.test/v1/it%zzems?page=2",   // an escape that is none, in the path
		"https://api.test/v1/items?page=%zz",    // and in the query, which url.Parse leaves
		"https://[::1/v1/items",                 // an unclosed IPv6 host
	} {
		fast, slow := base.Resolve(ref), base.resolve(ref)
		a, errA := fast.Build(context.Background())
		b, errB := slow.Build(context.Background())
		if (errA != nil) != (errB != nil) {
			t.Fatalf("%q: errors %v and %v", ref, errA, errB)
		}
		if errA != nil {
			continue
		}
		if a.URL.String() != b.URL.String() || a.Method != b.Method || a.Header.Get("X-Key") != "k" {
			t.Errorf("%q: sent %s %s, resolved %s %s", ref, a.Method, a.URL, b.Method, b.URL)
		}
	}
}
