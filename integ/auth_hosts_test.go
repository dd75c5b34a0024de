package integ

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

// TestCredentialsStayOnTheSourcesHosts: a page whose next URL points at
// another host (a CDN, a signed download) is fetched without the API key;
// the config's base_url and a host the source allows get it.
func TestCredentialsStayOnTheSourcesHosts(t *testing.T) {
	var mu sync.Mutex
	saw := map[string]string{}
	note := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			saw[name] = r.Header.Get("X-Api-Key")
			mu.Unlock()
			w.Write([]byte(`{"items":[{"id":1}]}`))
		}
	}
	cdn := httptest.NewServer(note("cdn"))
	defer cdn.Close()
	instance := httptest.NewServer(note("instance"))
	defer instance.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		saw["api"] = r.Header.Get("X-Api-Key")
		mu.Unlock()
		w.Write([]byte(`{"items":[{"id":0}],"next":"` + cdn.URL + `/page2"}`))
	}))
	defer api.Close()

	cases := []struct {
		name     string
		config   string
		instance bool // the source allows the instance's host
		want     map[string]string
	}{
		{"base_url and an allowed host", `{"base_url":"` + api.URL + `/v1"}`, true, map[string]string{"api": "key-123", "cdn": "", "instance": "key-123"}},
		{"an allowed host only", `{}`, true, map[string]string{"api": "", "cdn": "", "instance": "key-123"}},
		{"first request's host", `{}`, false, map[string]string{"api": "key-123", "cdn": "", "instance": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clear(saw)
			src := NewSource("t", struct {
				BaseURL string `json:"base_url,omitempty"`
			}{},
				WithAuth(func(cfg *Config, s *Session) (requests.Authenticator, error) {
					if tc.instance {
						if err := s.AllowHost(instance.URL); err != nil {
							return nil, err
						}
					}
					return requests.APIKeyHeader("X-Api-Key", "", "key-123"), nil
				}),
				WithStreams(NewStream("items", struct {
					ID int `json:"id"`
				}{}, func(c *HttpContext) error {
					if err := c.EmitPages(requests.New(api.URL+"/v1/items"), requests.NextURL("next"), "items"); err != nil {
						return err
					}
					return c.EmitPages(requests.New(instance.URL+"/items"), requests.NextURL("next"), "items")
				})))
			cfg, err := src.ParseConfig(json.RawMessage(tc.config))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out bytes.Buffer
			if err := src.Sync(ctx, SyncOptions{Config: cfg, Protocol: &lineProtocol{}, Output: driver.NewOutput(&out)}); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for host, want := range tc.want {
				if got, ok := saw[host]; !ok || got != want {
					t.Errorf("%s got key %q (requested: %v), want %q", host, got, ok, want)
				}
			}
		})
	}
}

// TestRedirectElsewhereLosesCredentials: through the run's default client,
// an API that redirects a download to another host (S3) does not pass the
// API key on.
func TestRedirectElsewhereLosesCredentials(t *testing.T) {
	var cdnSaw, apiSaw string
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdnSaw = r.Header.Get("X-Api-Key") + r.URL.Query().Get("api_key")
		w.Write([]byte(`{"id":1}`))
	}))
	defer cdn.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiSaw = r.Header.Get("X-Api-Key")
		http.Redirect(w, r, cdn.URL+"/signed/export.json?X-Amz-Signature=abc", http.StatusFound)
	}))
	defer api.Close()
	src := NewSource("t", struct {
		BaseURL string `json:"base_url"`
	}{},
		WithAuth(func(cfg *Config, s *Session) (requests.Authenticator, error) {
			return requests.APIKeyHeader("X-Api-Key", "", "key-123"), nil
		}),
		WithStreams(NewStream("export", struct {
			ID int `json:"id"`
		}{}, func(c *HttpContext) error { return c.EmitObject(requests.New(api.URL + "/v1/export")) })))
	cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"` + api.URL + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := src.Sync(ctx, SyncOptions{Config: cfg, Protocol: &lineProtocol{}, Output: driver.NewOutput(&out)}); err != nil {
		t.Fatal(err)
	}
	if apiSaw != "key-123" || cdnSaw != "" {
		t.Fatalf("the API saw key %q, the CDN %q; want the key at the API only", apiSaw, cdnSaw)
	}
}
