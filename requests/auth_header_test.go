package requests_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/integ/integ/requests"
)

// TestOAuth2TokenHeader sends the token where the API reads it, and renews
// it after a 401 from the same header (Invalidate must read it back there).
func TestOAuth2TokenHeader(t *testing.T) {
	cases := []struct {
		name, header, prefix string
		opts                 []requests.OAuth2Option
	}{
		{"default bearer", "Authorization", "Bearer ", nil},
		{"zoho", "Authorization", "Zoho-oauthtoken ", []requests.OAuth2Option{requests.TokenHeader("Authorization", "Zoho-oauthtoken ")}},
		{"custom header, no prefix", "X-Auth-Token", "", []requests.OAuth2Option{requests.TokenHeader("X-Auth-Token", "")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t, "rt-0")
			tokSrv := httptest.NewServer(ts)
			defer tokSrv.Close()
			var seen []string
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ts.mu.Lock()
				want := tc.prefix + ts.access
				ts.mu.Unlock()
				got := r.Header.Get(tc.header)
				seen = append(seen, got)
				if got != want || tc.header != "Authorization" && r.Header.Get("Authorization") != "" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				fmt.Fprint(w, `{}`)
			}))
			defer api.Close()
			a := requests.OAuth2ClientCredentials(requests.OAuth2Options{
				TokenURL: tokSrv.URL, ClientID: "cid", ClientSecret: "cs",
			}, tc.opts...)
			d := requests.Chain(http.DefaultClient, requests.Authorize(a))
			if resp, _ := get(t, d, api.URL); resp.StatusCode != 200 {
				t.Fatalf("first request: %d (sent %q)", resp.StatusCode, seen)
			}
			ts.revokeAccess()
			if resp, _ := get(t, d, api.URL); resp.StatusCode != 200 {
				t.Fatalf("after revocation: %d (sent %q); want one renewal and 200", resp.StatusCode, seen)
			}
			if ts.count() != 2 {
				t.Fatalf("%d token requests, want 2", ts.count())
			}
			want := []string{tc.prefix + "at-1", tc.prefix + "at-1", tc.prefix + "at-2"}
			if fmt.Sprint(seen) != fmt.Sprint(want) {
				t.Fatalf("sent %q, want %q", seen, want)
			}
		})
	}
}
