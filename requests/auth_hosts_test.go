package requests_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/integ/integ/requests"
)

// credentialsSeen is what a server saw of each authenticator's credentials.
func credentialsSeen(r *http.Request) string {
	var parts []string
	for _, h := range []string{"Authorization", "X-Api-Key"} {
		if v := r.Header.Get(h); v != "" {
			parts = append(parts, h+"="+v)
		}
	}
	if v := r.URL.Query().Get("api_key"); v != "" {
		parts = append(parts, "api_key="+v)
	}
	return strings.Join(parts, ",")
}

func authenticators(t *testing.T) map[string]requests.Authenticator {
	ts := newTokenServer(t, "rt-0")
	tokSrv := httptest.NewServer(ts)
	t.Cleanup(tokSrv.Close)
	return map[string]requests.Authenticator{
		"api key header": requests.APIKeyHeader("X-Api-Key", "", "key-1"),
		"query key":      requests.APIKeyInQuery("api_key", "key-2"),
		"bearer":         requests.Bearer("tok-3"),
		"basic":          requests.Basic("user", "pw"),
		"oauth2":         requests.OAuth2ClientCredentials(requests.OAuth2Options{TokenURL: tokSrv.URL, ClientID: "c", ClientSecret: "s"}),
	}
}

// TestCredentialsOnlyToScopedHosts: a next-page URL on another host (a
// signed download link) gets no credentials; the API's own host does.
func TestCredentialsOnlyToScopedHosts(t *testing.T) {
	var apiSaw, otherSaw string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { apiSaw = credentialsSeen(r) }))
	defer api.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherSaw = credentialsSeen(r) }))
	defer other.Close()
	for name, a := range authenticators(t) {
		t.Run(name, func(t *testing.T) {
			d := requests.Chain(requests.DefaultClient(), requests.Authorize(requests.ScopeTo(a, requests.NewHosts(api.URL+"/v2"))))
			apiSaw, otherSaw = "", ""
			get(t, d, api.URL+"/v2/items")
			get(t, d, other.URL+"/bucket/file.jsonl?sig=abc")
			if apiSaw == "" {
				t.Errorf("the API got no credentials")
			}
			if otherSaw != "" {
				t.Errorf("another host got %s", otherSaw)
			}
		})
	}
}

// TestRedirectDropsCredentials: a redirect to another origin loses every
// credential Authorize added, including headers net/http would forward and
// a query key the server echoes into Location; a same-origin redirect
// keeps them.
func TestRedirectDropsCredentials(t *testing.T) {
	var saw []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		saw = append(saw, "other:"+credentialsSeen(r))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		saw = append(saw, "api:"+credentialsSeen(r))
		switch r.URL.Path {
		case "/away": // echoes the query (and so a query key) into Location
			http.Redirect(w, r, other.URL+"/file?"+r.URL.RawQuery, http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/landed", http.StatusFound)
		}
	}))
	defer api.Close()
	for name, a := range authenticators(t) {
		for _, scope := range []string{"unscoped", "scoped"} {
			t.Run(name+"/"+scope, func(t *testing.T) {
				if scope == "scoped" {
					a = requests.ScopeTo(a, requests.NewHosts(api.URL))
				}
				d := requests.Chain(requests.DefaultClient(), requests.Authorize(a))
				saw = nil
				get(t, d, api.URL+"/away?x=1")
				if len(saw) != 2 || saw[0] == "api:" || saw[1] != "other:" {
					t.Errorf("cross-origin redirect: saw %q, want credentials at the API only", saw)
				}
				saw = nil
				get(t, d, api.URL+"/here")
				if len(saw) != 2 || saw[0] == "api:" || saw[1] != saw[0] {
					t.Errorf("same-origin redirect: saw %q, want the credentials twice", saw)
				}
			})
		}
	}
}

func TestHostsOrigins(t *testing.T) {
	h := requests.NewHosts("https://API.example.com/v2", "eu.example.com:8443", "http://127.0.0.1:9000")
	cases := []struct {
		url  string
		want bool
	}{
		{"https://api.example.com/v2/x", true},
		{"https://api.example.com:443/other", true},
		{"http://api.example.com/v2/x", false}, // no downgrade to plain HTTP
		{"https://api.example.com:8443/", false},
		{"https://evil.api.example.com/", false},
		{"https://api.example.com.evil.net/", false},
		{"https://eu.example.com:8443/", true},
		{"https://eu.example.com/", false},
		{"http://127.0.0.1:9000/a", true},
		{"http://127.0.0.1:9001/a", false},
	}
	for _, tc := range cases {
		u, _ := url.Parse(tc.url)
		if got := h.Allows(u); got != tc.want {
			t.Errorf("Allows(%s) = %v, want %v", tc.url, got, tc.want)
		}
	}
	if err := h.Add("https:///nohost"); err == nil {
		t.Errorf("Add of a URL without a host: no error")
	}
	late, _ := url.Parse("https://na1.my.salesforce.com/services")
	if h.Allows(late) {
		t.Fatalf("instance host allowed before it was added")
	}
	h.Add("https://na1.my.salesforce.com")
	if !h.Allows(late) {
		t.Fatalf("instance host not allowed once added")
	}
}

func TestHostsAdoptFirst(t *testing.T) {
	h := requests.NewHosts().AdoptFirst()
	a, _ := url.Parse("https://api.example.com/x")
	b, _ := url.Parse("https://cdn.example.net/y")
	if !h.Allows(a) || h.Allows(b) || !h.Allows(a) {
		t.Fatalf("adopt first: want the first origin only, have %s", h)
	}
}

// FuzzHostsAdd: any string is an origin or an error, never a panic, and an
// added URL allows itself.
func FuzzHostsAdd(f *testing.F) {
	for _, s := range []string{"https://api.example.com/v2", "api.example.com:8443", "http://[::1]:80/", "", "://", "https://{shop}.myshopify.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := requests.NewHosts()
		if err := h.Add(s); err != nil {
			return
		}
		if !strings.Contains(s, "://") {
			s = "https://" + strings.TrimSpace(s)
		}
		if u, err := url.Parse(strings.TrimSpace(s)); err == nil && !h.Allows(u) {
			t.Fatalf("%q added but not allowed", s)
		}
	})
}

// TestUnscopedHost401RenewsNothing: a 401 from a host that was sent no
// credentials says nothing about the token: no renewal, no resend.
func TestUnscopedHost401RenewsNothing(t *testing.T) {
	ts := newTokenServer(t, "rt-0")
	tokSrv := httptest.NewServer(ts)
	defer tokSrv.Close()
	api := httptest.NewServer(http.HandlerFunc(ts.api))
	defer api.Close()
	calls := 0
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer other.Close()
	a := requests.OAuth2ClientCredentials(requests.OAuth2Options{TokenURL: tokSrv.URL, ClientID: "c", ClientSecret: "s"})
	d := requests.Chain(http.DefaultClient, requests.Authorize(requests.ScopeTo(a, requests.NewHosts(api.URL))))
	if resp, _ := get(t, d, api.URL); resp.StatusCode != 200 {
		t.Fatalf("API: %d", resp.StatusCode)
	}
	if resp, _ := get(t, d, other.URL); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("other host: %d", resp.StatusCode)
	}
	if calls != 1 || ts.count() != 1 {
		t.Fatalf("other host asked %d times, token endpoint %d times; want 1 and 1", calls, ts.count())
	}
}

// TestRedirectToAnotherAllowedHostKeepsCredentials: between two hosts the
// credentials may go to, a redirect keeps them, though net/http drops
// Authorization between hosts and a Location rarely repeats a query key.
func TestRedirectToAnotherAllowedHostKeepsCredentials(t *testing.T) {
	var saw string
	second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { saw = credentialsSeen(r) }))
	defer second.Close()
	// "localhost" and "127.0.0.1" are two hosts to net/http.
	secondURL := strings.Replace(second.URL, "127.0.0.1", "localhost", 1)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, secondURL+"/moved", http.StatusTemporaryRedirect)
	}))
	defer first.Close()
	for name, a := range authenticators(t) {
		t.Run(name, func(t *testing.T) {
			saw = ""
			d := requests.Chain(requests.DefaultClient(), requests.Authorize(requests.ScopeTo(a, requests.NewHosts(first.URL, secondURL))))
			get(t, d, first.URL+"/old")
			if saw == "" {
				t.Errorf("the second allowed host got no credentials")
			}
		})
	}
}
