package singer

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
)

type oauthCreds struct {
	ClientID     string       `json:"client_id" title:"Client ID" description:"The OAuth app's client id."`
	ClientSecret integ.Secret `json:"client_secret" description:"The OAuth app's client secret."`
	RefreshToken integ.Secret `json:"refresh_token" description:"A refresh token."`
	Scope        string       `json:"scope" default:"read" description:"Scopes to ask for."`
}

type tokenCreds struct {
	APIToken integ.Secret `json:"api_token" description:"A personal API token." pattern:"^(sk|rk)_"`
}

type creds struct {
	integ.OneOf
	OAuth *oauthCreds `oneof:"oauth2.0" title:"OAuth2.0"`
	Token *tokenCreds `oneof:"api_token" title:"API Token"`
}

type authConfig struct {
	Subdomain   string `json:"subdomain" description:"Your account's subdomain."`
	Credentials creds  `json:"credentials" oneof:"auth_type" description:"How to sign in."`
}

func authSource(t *testing.T) *integ.Source {
	t.Helper()
	type rec struct {
		ID int `json:"id"`
	}
	src := integ.NewSource("auth", authConfig{}, integ.WithStreams(integ.NewStream("items", rec{}, func(*integ.HttpContext) error { return nil })))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestAboutMarkdownOneOf(t *testing.T) {
	md := AboutOf(authSource(t)).Markdown()
	golden(t, "about_oneof.md", []byte(md))
	for _, want := range []string{
		"Set `credentials.auth_type` to one of `\"oauth2.0\"` (OAuth2.0), `\"api_token\"` (API Token).",
		"| credentials.client_secret | True |  | (OAuth2.0) The OAuth app's client secret. (secret) |",
		"| credentials.scope | False | `\"read\"` | (OAuth2.0) Scopes to ask for. |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	var about bytes.Buffer
	if err := Run(context.Background(), authSource(t), Options{About: true, Stdout: &about, Stderr: new(bytes.Buffer)}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Settings *integ.Schema `json:"settings"`
	}
	if err := json.Unmarshal(about.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if c := doc.Settings.Property("credentials"); c == nil || len(c.OneOf) != 2 {
		t.Errorf("--about settings lack the credentials oneOf: %s", about.Bytes())
	}
}

// TestCriticalNeverEchoesSecrets: the CRITICAL line of a bad config names
// the field and not the secret's value.
func TestCriticalNeverEchoesSecrets(t *testing.T) {
	cases := []struct{ name, config, secret, want string }{
		{"pattern", `{"subdomain":"acme","credentials":{"auth_type":"api_token","api_token":"pk_live_51HxYz"}}`, "pk_live_51HxYz", "does not match the expected pattern ^(sk|rk)_"},
		{"wrong method", `{"subdomain":"acme","credentials":{"auth_type":"basic","api_token":"pk_live_51HxYz"}}`, "pk_live_51HxYz", `"auth_type" must name one of the methods`},
		{"wrong type", `{"subdomain":"acme","credentials":{"auth_type":"oauth2.0","client_id":"c","client_secret":["cs_live_1234"],"refresh_token":"r"}}`, "cs_live_1234", `field "credentials.client_secret"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(c.config), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), authSource(t), Options{ConfigPaths: []string{path}, Discover: true, Stdout: &stdout, Stderr: &stderr})
			if err == nil {
				t.Fatal("want an error")
			}
			all := stdout.String() + stderr.String() + err.Error()
			if strings.Contains(all, c.secret) {
				t.Errorf("output shows the secret %q:\n%s", c.secret, all)
			}
			if !strings.Contains(stderr.String(), "CRITICAL") || !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr lacks a CRITICAL line with %q:\n%s", c.want, stderr.String())
			}
		})
	}
}
