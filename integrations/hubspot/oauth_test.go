package hubspot

import (
	"net/http"
	"strings"
	"testing"

	"github.com/integ/integ/integtest"
	"github.com/tidwall/gjson"
)

func oauthConfig(srv *integtest.Server) map[string]any {
	cfg := tokenConfig(srv)
	cfg["credentials"] = map[string]any{"auth_type": "oauth2.0", "client_id": testClientID, "client_secret": testClientSecret, "refresh_token": testRefresh}
	return cfg
}

// OAuth: one refresh-token grant per run at {base_url}/oauth/v1/token, its
// access token on every request, never printed.
func TestOAuth(t *testing.T) {
	f := newFixture(3)
	srv := serve(t, f)
	res := integtest.Sync(t, Source(), oauthConfig(srv), integtest.WithProtocol(integtest.Airbyte),
		integtest.WithStreams("contacts", "owners"), integtest.WithSecrets(testAccess))
	if len(res.Records("contacts")) != 3 || len(res.Records("owners")) != 3 {
		t.Fatalf("contacts %d owners %d", len(res.Records("contacts")), len(res.Records("owners")))
	}
	f.mu.Lock()
	tokens := f.tokens
	f.mu.Unlock()
	// one grant for the test kit's discover, one for the read
	if len(tokens) != 2 {
		t.Fatalf("%d token requests, want one per process", len(tokens))
	}
	form := tokens[1]
	if form.Get("grant_type") != "refresh_token" || form.Get("client_id") != testClientID || form.Get("client_secret") != testClientSecret || form.Get("refresh_token") != testRefresh {
		t.Errorf("token request form has the wrong fields: %v", form)
	}
	for _, r := range srv.Requests() {
		if r.Path == "/oauth/v1/token" {
			if r.Method != http.MethodPost || !r.HeaderIs("Content-Type", "application/x-www-form-urlencoded") {
				t.Errorf("token request %s %v", r, r.Header)
			}
			continue
		}
		if !r.HeaderIs("Authorization", "Bearer "+testAccess) {
			t.Errorf("%s: not the OAuth access token", r)
		}
	}
}

// A refresh token HubSpot rotates is saved: Airbyte gets the new config in
// a CONTROL message.
func TestOAuthRotation(t *testing.T) {
	f := newFixture(2)
	f.rotate = "refresh-token-rotated-dddd-0002"
	srv := serve(t, f)
	res := integtest.Sync(t, Source(), oauthConfig(srv), integtest.WithProtocol(integtest.Airbyte), integtest.WithStreams("owners"))
	ctl := res.MessagesOf("CONTROL")
	if len(ctl) != 1 {
		t.Fatalf("%d CONTROL messages", len(ctl))
	}
	cfg := gjson.GetBytes(ctl[0], "control.connectorConfig.config")
	if cfg.Get("credentials.refresh_token").String() != f.rotate || cfg.Get("credentials.client_id").String() != testClientID {
		t.Errorf("the new config: %s", cfg.Get("credentials.auth_type"))
	}
}

// A refused refresh token is a config error asking to authorise again.
func TestOAuthRefused(t *testing.T) {
	srv := serve(t, newFixture(2))
	cfg := oauthConfig(srv)
	cfg["credentials"].(map[string]any)["refresh_token"] = "refresh-token-revoked-eeee"
	res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(integtest.Airbyte), integtest.WithStreams("owners"),
		integtest.WithCatalog([]byte(`{"streams":[{"stream":{"name":"owners","json_schema":{"type":"object"},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`)),
		integtest.WithExpectedFailure())
	if res.FailureType() != "config_error" || !strings.Contains(res.Failure(), "missing or unknown refresh token") {
		t.Errorf("failure %s %q", res.FailureType(), res.Failure())
	}
}
