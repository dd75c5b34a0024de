package requests_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/requests"
)

// echoAuth answers with what authenticated the request.
func echoAuth(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(map[string]string{
		"authorization": r.Header.Get("Authorization"),
		"x-api-key":     r.Header.Get("X-Api-Key"),
		"query":         r.URL.RawQuery,
	})
}

func get(t *testing.T, d requests.Doer, u string) (*http.Response, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := d.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	var got map[string]string
	json.NewDecoder(resp.Body).Decode(&got)
	return resp, got
}

func TestBuiltInAuthenticators(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(echoAuth))
	defer srv.Close()
	cases := []struct {
		name  string
		a     requests.Authenticator
		path  string
		field string
		want  string
	}{
		{"header with scheme prefix", requests.APIKeyHeader("Authorization", "Klaviyo-API-Key ", "pk_123"), "/", "authorization", "Klaviyo-API-Key pk_123"},
		{"header without prefix", requests.APIKeyHeader("X-Api-Key", "", "k-42"), "/", "x-api-key", "k-42"},
		{"query parameter", requests.APIKeyInQuery("api_key", "a b&c"), "/?z=%2f", "query", "z=%2f&api_key=a+b%26c"},
		{"query parameter replaced", requests.APIKeyInQuery("api_key", "new"), "/?api_key=old", "query", "api_key=new"},
		{"bearer", requests.Bearer("tok-1"), "/", "authorization", "Bearer tok-1"},
		{"basic", requests.Basic("user", "p:ss"), "/", "authorization", "Basic dXNlcjpwOnNz"},
		{"basic with key as user", requests.Basic("key", ""), "/", "authorization", "Basic a2V5Og=="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := requests.Chain(http.DefaultClient, requests.Authorize(c.a))
			_, got := get(t, d, srv.URL+c.path)
			if got[c.field] != c.want {
				t.Errorf("%s = %q, want %q", c.field, got[c.field], c.want)
			}
		})
	}
}

func TestEmptyCredentialsAreRefusedBeforeSending(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	for _, a := range []requests.Authenticator{requests.Bearer(""), requests.APIKeyInQuery("k", ""), requests.Basic("", "p")} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		_, err := requests.Chain(http.DefaultClient, requests.Authorize(a)).Do(req)
		if !errors.Is(err, requests.ErrNoCredentials) {
			t.Errorf("err = %v, want ErrNoCredentials", err)
		}
	}
	if calls.Load() != 0 {
		t.Errorf("%d requests sent without credentials", calls.Load())
	}
}

// tokenServer is an OAuth 2.0 token endpoint: each refresh token works once
// and is rotated when rotate is set; access tokens are valid until revoked
// by the test.
type tokenServer struct {
	t      *testing.T
	mu     sync.Mutex
	calls  int
	valid  map[string]bool // refresh tokens still usable
	access string          // the one access token the API accepts
	rotate bool
	expiry int
	forms  []url.Values
	basic  []string
}

func newTokenServer(t *testing.T, refresh string) *tokenServer {
	return &tokenServer{t: t, valid: map[string]bool{refresh: true}, expiry: 3600}
}

func (s *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.ParseForm()
	s.calls++
	s.forms = append(s.forms, r.PostForm)
	u, p, _ := r.BasicAuth()
	s.basic = append(s.basic, u+":"+p)
	w.Header().Set("Content-Type", "application/json")
	ans := map[string]any{"token_type": "bearer", "expires_in": s.expiry, "instance_url": "https://eu1.example"}
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if !s.valid[rt] {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"token %s is expired or revoked"}`, rt)
			return
		}
		if s.rotate {
			delete(s.valid, rt)
			next := fmt.Sprintf("rt-%d", s.calls)
			s.valid[next] = true
			ans["refresh_token"] = next
		}
	case "client_credentials":
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	s.access = fmt.Sprintf("at-%d", s.calls)
	ans["access_token"] = s.access
	json.NewEncoder(w).Encode(ans)
}

func (s *tokenServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// api accepts only the token server's current access token.
func (s *tokenServer) api(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok := r.Header.Get("Authorization") == "Bearer "+s.access
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	echoAuth(w, r)
}

func (s *tokenServer) revokeAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access = "revoked"
}

func TestOAuth2RefreshBeforeExpiry(t *testing.T) {
	ts := newTokenServer(t, "rt-0")
	tokSrv := httptest.NewServer(ts)
	defer tokSrv.Close()
	api := httptest.NewServer(http.HandlerFunc(ts.api))
	defer api.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := requests.OAuth2RefreshToken(requests.OAuth2Options{
		TokenURL: tokSrv.URL, ClientID: "cid", ClientSecret: "csecret", RefreshToken: "rt-0",
		Margin: 5 * time.Minute, Now: func() time.Time { return now },
	})
	d := requests.Chain(http.DefaultClient, requests.Authorize(a))
	steps := []struct {
		advance   time.Duration
		wantCalls int
	}{
		{0, 1},                // first use fetches
		{30 * time.Minute, 1}, // still valid
		{24 * time.Minute, 1}, // 54 min: 6 min left, beyond the margin
		{2 * time.Minute, 2},  // 56 min: inside the 5 min margin: renewed
		{10 * time.Minute, 2}, // the new one runs from 56 min
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		resp, got := get(t, d, api.URL)
		if resp.StatusCode != 200 {
			t.Fatalf("step %d: status %d", i, resp.StatusCode)
		}
		if ts.count() != s.wantCalls {
			t.Fatalf("step %d: %d token requests, want %d", i, ts.count(), s.wantCalls)
		}
		if want := fmt.Sprintf("Bearer at-%d", s.wantCalls); got["authorization"] != want {
			t.Errorf("step %d: sent %q, want %q", i, got["authorization"], want)
		}
	}
	f := ts.forms[0]
	if f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "rt-0" || f.Get("client_id") != "cid" || f.Get("client_secret") != "csecret" {
		t.Errorf("token request form = %v", f)
	}
}

func TestOAuth2RenewsOnceOn401AndRetries(t *testing.T) {
	ts := newTokenServer(t, "rt-0")
	tokSrv := httptest.NewServer(ts)
	defer tokSrv.Close()
	var apiCalls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiCalls.Add(1)
		if r.Method == http.MethodPost {
			if b, _ := io.ReadAll(r.Body); string(b) != "body" {
				t.Errorf("attempt %d sent body %q", apiCalls.Load(), b)
			}
		}
		ts.api(w, r)
	}))
	defer api.Close()
	a := requests.OAuth2RefreshToken(requests.OAuth2Options{TokenURL: tokSrv.URL, ClientID: "cid", RefreshToken: "rt-0"})
	d := requests.Chain(http.DefaultClient, requests.Authorize(a))
	get(t, d, api.URL)
	ts.revokeAccess() // the server dropped the token before its expiry
	req, _ := http.NewRequest(http.MethodPost, api.URL, strings.NewReader("body"))
	resp, err := d.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d after a renewal, want 200", resp.StatusCode)
	}
	if ts.count() != 2 || apiCalls.Load() != 3 {
		t.Errorf("%d token requests and %d API requests, want 2 and 3", ts.count(), apiCalls.Load())
	}

	// A token that is refused even fresh: one renewal, one retry, then the 401.
	always401 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiCalls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer always401.Close()
	apiCalls.Store(0)
	before := ts.count()
	resp, _ = get(t, d, always401.URL)
	if resp.StatusCode != 401 || apiCalls.Load() != 2 || ts.count() != before+1 {
		t.Errorf("status %d after %d API and %d token requests, want 401 after 2 and 1", resp.StatusCode, apiCalls.Load(), ts.count()-before)
	}
}

func TestOAuth2ConcurrentRequestsRefreshOnce(t *testing.T) {
	ts := newTokenServer(t, "rt-0")
	ts.rotate = true // a second refresh with the spent token would fail
	tokSrv := httptest.NewServer(ts)
	defer tokSrv.Close()
	api := httptest.NewServer(http.HandlerFunc(ts.api))
	defer api.Close()
	var rotated []string
	var mu sync.Mutex
	a := requests.OAuth2RefreshToken(requests.OAuth2Options{TokenURL: tokSrv.URL, RefreshToken: "rt-0",
		OnRotate: func(rt string) { mu.Lock(); rotated = append(rotated, rt); mu.Unlock() }})
	d := requests.Chain(http.DefaultClient, requests.Authorize(a))
	for round := range 2 {
		var tasks []func() error
		for range 16 {
			tasks = append(tasks, func() error {
				req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
				resp, err := d.Do(req)
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			})
		}
		if err := conc.Do(16, tasks...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if ts.count() != round+1 {
			t.Fatalf("round %d: %d token requests, want %d", round, ts.count(), round+1)
		}
		ts.revokeAccess() // 16 concurrent 401s next round: still one renewal
	}
	if strings.Join(rotated, ",") != "rt-1,rt-2" {
		t.Errorf("rotations reported: %v, want rt-1,rt-2", rotated)
	}
}

func TestOAuth2RefusedTokenIsPlainAndHidesTheToken(t *testing.T) {
	ts := newTokenServer(t, "other")
	tokSrv := httptest.NewServer(ts)
	defer tokSrv.Close()
	a := requests.OAuth2RefreshToken(requests.OAuth2Options{TokenURL: tokSrv.URL, RefreshToken: "rt-revoked-secret"})
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
	_, err := requests.Chain(http.DefaultClient, requests.Authorize(a)).Do(req)
	if !errors.Is(err, requests.ErrCredentialsRefused) {
		t.Fatalf("err = %v, want ErrCredentialsRefused", err)
	}
	var te *requests.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" || te.Status != 400 {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "400 Bad Request: invalid_grant") {
		t.Errorf("no reason in %q", err)
	}
	// The server echoed the token in its description.
	if strings.Contains(err.Error(), "rt-revoked") {
		t.Errorf("token left in %q", err)
	}
}

func TestOAuth2ClientCredentials(t *testing.T) {
	for _, header := range []bool{false, true} {
		t.Run(fmt.Sprintf("client auth in header=%v", header), func(t *testing.T) {
			ts := newTokenServer(t, "")
			tokSrv := httptest.NewServer(ts)
			defer tokSrv.Close()
			api := httptest.NewServer(http.HandlerFunc(ts.api))
			defer api.Close()
			var seen []string
			a := requests.OAuth2ClientCredentials(requests.OAuth2Options{
				TokenURL: tokSrv.URL, ClientID: "cid", ClientSecret: "s3cret", Scopes: []string{"read", "write"},
				Params: url.Values{"audience": {"https://api"}}, ClientAuthHeader: header,
				OnToken: func(t *requests.Token) { seen = append(seen, t.AccessToken, fmt.Sprint(t.Extra["instance_url"])) },
			})
			d := requests.Chain(http.DefaultClient, requests.Authorize(a))
			for range 3 {
				if resp, _ := get(t, d, api.URL); resp.StatusCode != 200 {
					t.Fatalf("status %d", resp.StatusCode)
				}
			}
			f := ts.forms[0]
			if ts.count() != 1 || f.Get("grant_type") != "client_credentials" || f.Get("scope") != "read write" || f.Get("audience") != "https://api" {
				t.Errorf("%d token requests, form %v", ts.count(), f)
			}
			creds := f.Get("client_id") + ":" + f.Get("client_secret")
			if header {
				creds = ts.basic[0]
			}
			if creds != "cid:s3cret" {
				t.Errorf("client credentials sent as %q", creds)
			}
			if strings.Join(seen, " ") != "at-1 https://eu1.example" {
				t.Errorf("OnToken saw %v", seen)
			}
		})
	}
}

func TestParseTokenResponse(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		status     int
		body       string
		wantToken  string
		wantExpiry time.Duration
		wantErr    string
		refused    bool
	}{
		{"ok", 200, `{"access_token":"a","token_type":"Bearer","expires_in":3600}`, "a", time.Hour, "", false},
		{"quoted expires_in", 200, `{"access_token":"a","expires_in":"60"}`, "a", time.Minute, "", false},
		{"no expiry", 200, `{"access_token":"a"}`, "a", 0, "", false},
		{"no access token", 200, `{"token_type":"Bearer"}`, "", 0, "no access_token", false},
		{"not JSON", 200, `<html>`, "", 0, "not a JSON object", false},
		{"invalid_grant", 400, `{"error":"invalid_grant","error_description":"expired"}`, "", 0, "400 Bad Request: invalid_grant: expired", true},
		{"invalid_client", 401, `{"error":"invalid_client"}`, "", 0, "invalid_client", true},
		{"bare 401", 401, ``, "", 0, "401 Unauthorized", true},
		{"server error", 503, `oops`, "", 0, "503", false},
		{"invalid_scope", 400, `{"error":"invalid_scope"}`, "", 0, "invalid_scope", false},
		{"error in a 200", 200, `{"error":"invalid_grant"}`, "", 0, "invalid_grant", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := requests.ParseTokenResponse(c.status, []byte(c.body), now)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				if err.Refused() != c.refused {
					t.Errorf("Refused() = %v", err.Refused())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != c.wantToken {
				t.Errorf("token %q", tok.AccessToken)
			}
			if c.wantExpiry == 0 && !tok.Expiry.IsZero() || c.wantExpiry != 0 && !tok.Expiry.Equal(now.Add(c.wantExpiry)) {
				t.Errorf("expiry %v", tok.Expiry)
			}
		})
	}
}

func FuzzParseTokenResponse(f *testing.F) {
	f.Add(200, []byte(`{"access_token":"a","expires_in":3600,"refresh_token":"r"}`))
	f.Add(400, []byte(`{"error":"invalid_grant"}`))
	f.Add(200, []byte(`{"access_token":"a","expires_in":1e300}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		tok, err := requests.ParseTokenResponse(status, body, time.Unix(0, 0))
		if (tok == nil) == (err == nil) {
			t.Fatalf("token %v and error %v", tok, err)
		}
		if tok != nil && tok.AccessToken == "" {
			t.Fatal("token without access token")
		}
		if err != nil {
			_ = err.Error()
		}
	})
}

// A grant revoked during a run: the 401's renewal fails, and the error says
// why rather than just "401".
func TestOAuth2RevokedMidRunReportsTheRefusal(t *testing.T) {
	ts := newTokenServer(t, "rt-0")
	tokSrv := httptest.NewServer(ts)
	defer tokSrv.Close()
	api := httptest.NewServer(http.HandlerFunc(ts.api))
	defer api.Close()
	a := requests.OAuth2RefreshToken(requests.OAuth2Options{TokenURL: tokSrv.URL, RefreshToken: "rt-0"})
	d := requests.Chain(http.DefaultClient, requests.Authorize(a))
	get(t, d, api.URL)
	ts.mu.Lock()
	ts.valid = map[string]bool{} // the user revoked the grant
	ts.mu.Unlock()
	ts.revokeAccess()
	req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
	_, err := d.Do(req)
	if !errors.Is(err, requests.ErrCredentialsRefused) {
		t.Errorf("err = %v, want the refusal", err)
	}
	// Other requests (streams) do not ask the token endpoint again.
	before := ts.count()
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
		if _, err := d.Do(req); !errors.Is(err, requests.ErrCredentialsRefused) {
			t.Errorf("err = %v", err)
		}
	}
	if ts.count() != before {
		t.Errorf("%d more token requests after the refusal", ts.count()-before)
	}
}
