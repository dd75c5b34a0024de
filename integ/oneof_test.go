package integ

import (
	"encoding/json"
	"testing"
)

type oauthCreds struct {
	ClientID     string `json:"client_id" title:"Client ID"`
	ClientSecret Secret `json:"client_secret" title:"Client secret"`
	RefreshToken string `json:"refresh_token" secret:"true" minLength:"8"`
	Scope        string `json:"scope" default:"read"`
}

type tokenCreds struct {
	AccessToken Secret `json:"access_token" pattern:"^(sk|rk)_"`
}

type creds struct {
	OneOf
	OAuth *oauthCreds `oneof:"oauth2.0" title:"OAuth2.0"`
	Token *tokenCreds `oneof:"access_token" title:"Access Token" description:"A personal access token."`
}

type authConfig struct {
	Credentials creds  `json:"credentials" oneof:"auth_type" title:"Authentication"`
	APIKey      Secret `json:"api_key,omitempty" pattern:"^(sk|rk)_"`
	Region      string `json:"region" enum:"eu,us" default:"eu"`
}

func authSource(t testing.TB) *Source {
	t.Helper()
	type rec struct {
		ID int `json:"id"`
	}
	src := NewSource("auth", authConfig{}, WithStreams(NewStream("items", rec{}, func(*HttpContext) error { return nil })))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestOneOfSchema(t *testing.T) {
	got, err := json.MarshalIndent(authSource(t).ConfigSchema().Property("credentials"), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "oneof_credentials.json", got)
}
