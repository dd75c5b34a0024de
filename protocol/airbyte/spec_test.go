package airbyte_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/protocol/airbyte"
)

type oauthCreds struct {
	ClientID     string       `json:"client_id" title:"Client ID"`
	ClientSecret integ.Secret `json:"client_secret" title:"Client secret"`
	AccessToken  string       `json:"access_token,omitempty" secret:"true"`
	RefreshToken integ.Secret `json:"refresh_token" title:"Refresh token"`
}

type tokenCreds struct {
	APIToken integ.Secret `json:"api_token" title:"API token" pattern:"^(sk|rk)_"`
}

type creds struct {
	integ.OneOf
	OAuth *oauthCreds `oneof:"oauth2.0" title:"OAuth2.0"`
	Token *tokenCreds `oneof:"api_token" title:"API Token"`
}

type authConfig struct {
	Subdomain   string `json:"subdomain" title:"Subdomain" description:"Your account's subdomain."`
	Credentials creds  `json:"credentials" oneof:"auth_type" title:"Authentication" description:"How to sign in."`
}

func authSource(t testing.TB, opts ...integ.SourceOption) *integ.Source {
	t.Helper()
	type rec struct {
		ID int `json:"id"`
	}
	opts = append(opts, integ.WithStreams(integ.NewStream("items", rec{}, func(*integ.HttpContext) error { return nil })))
	src := integ.NewSource("auth", authConfig{}, opts...)
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return src
}

var oauthSpec = integ.WithOAuthSpec(integ.OAuthSpec{
	Field:           "credentials",
	Method:          "oauth2.0",
	ServerFields:    []string{"client_id", "client_secret"},
	OutputFields:    []string{"access_token", "refresh_token"},
	UserInputFields: []string{"subdomain"},
})

func runAirbyte(t testing.TB, src *integ.Source, cmd airbyte.Command, config string) []byte {
	t.Helper()
	o := airbyte.Options{Command: cmd, Stdout: new(bytes.Buffer)}
	if config != "" {
		o.ConfigPath = filepath.Join(t.TempDir(), "config.json")
		if err := os.WriteFile(o.ConfigPath, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_ = airbyte.Run(context.Background(), src, o)
	return o.Stdout.(*bytes.Buffer).Bytes()
}

func TestSpecOneOfAndAdvancedAuth(t *testing.T) {
	out := runAirbyte(t, authSource(t, oauthSpec), airbyte.CommandSpec, "")
	validate(t, "AirbyteMessage", bytes.TrimSpace(out))
	var m struct {
		Spec json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	validate(t, "ConnectorSpecification", m.Spec)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, m.Spec, "", "  "); err != nil {
		t.Fatal(err)
	}
	golden(t, "spec_oneof_oauth", pretty.Bytes())

	// Without the option, no advanced_auth.
	if out := runAirbyte(t, authSource(t), airbyte.CommandSpec, ""); bytes.Contains(out, []byte("advanced_auth")) {
		t.Errorf("advanced_auth without WithOAuthSpec: %s", out)
	}
}

func TestOAuthSpecDeclarationErrors(t *testing.T) {
	cases := []struct {
		name string
		spec integ.OAuthSpec
		want string
	}{
		{"unknown field", integ.OAuthSpec{Field: "creds", Method: "oauth2.0", OutputFields: []string{"access_token"}}, `"creds" is not a oneof field`},
		{"unknown method", integ.OAuthSpec{Field: "credentials", Method: "oauth", OutputFields: []string{"access_token"}}, `has no method "oauth"; it has "oauth2.0" (OAuth2.0), "api_token" (API Token)`},
		{"unknown output", integ.OAuthSpec{Field: "credentials", Method: "oauth2.0", OutputFields: []string{"token"}}, `output field "token"`},
		{"nothing filled", integ.OAuthSpec{Field: "credentials", Method: "oauth2.0"}, "fill nothing"},
		{"bad flow", integ.OAuthSpec{Field: "credentials", Method: "oauth2.0", Flow: "saml", OutputFields: []string{"access_token"}}, `"saml"`},
		{"unknown user input", integ.OAuthSpec{Field: "credentials", Method: "oauth2.0", OutputFields: []string{"access_token"}, UserInputFields: []string{"region"}}, `"region"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := integ.NewSource("auth", authConfig{}, integ.WithOAuthSpec(c.spec),
				integ.WithStreams(integ.NewStream("items", struct{}{}, func(*integ.HttpContext) error { return nil })))
			if err := src.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Err() = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestCheckNeverEchoesSecrets: a config whose secret is wrong fails check
// with a message naming the field and not the value, in the status and in
// any log or trace.
func TestCheckNeverEchoesSecrets(t *testing.T) {
	cases := []struct{ name, config, secret, want string }{
		{"pattern", `{"subdomain":"acme","credentials":{"auth_type":"api_token","api_token":"pk_live_51HxYz"}}`, "pk_live_51HxYz", "does not match the expected pattern ^(sk|rk)_"},
		{"wrong method", `{"subdomain":"acme","credentials":{"auth_type":"basic","api_token":"pk_live_51HxYz"}}`, "pk_live_51HxYz", `"auth_type" must name one of the methods`},
		{"wrong type", `{"subdomain":"acme","credentials":{"auth_type":"oauth2.0","client_id":"c","client_secret":987654321,"refresh_token":"rt_abcdefgh"}}`, "987654321", `field "credentials.client_secret"`},
		{"secret as unknown key", `{"subdomain":"acme","credentials":{"auth_type":"api_token","api_token":"sk_live_51HxYz"},"sk_live_51HxYz":true}`, "sk_live_51HxYz", `"status":"SUCCEEDED"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runAirbyte(t, authSource(t, oauthSpec), airbyte.CommandCheck, c.config)
			if bytes.Contains(out, []byte(c.secret)) {
				t.Errorf("output shows the secret %q:\n%s", c.secret, out)
			}
			if !bytes.Contains(out, []byte(c.want)) && !strings.Contains(string(out), strings.ReplaceAll(c.want, `"`, `\"`)) {
				t.Errorf("output lacks %q:\n%s", c.want, out)
			}
			for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
				validate(t, "AirbyteMessage", line)
			}
		})
	}
}

// FuzzCheckHidesSecrets runs check on configs whose secrets are wrong in
// every way and asserts no line of output shows the secret, raw or escaped.
func FuzzCheckHidesSecrets(f *testing.F) {
	shapes := []string{
		`{"subdomain":"acme","credentials":{"auth_type":"api_token","api_token":%[1]s}}`,
		`{"subdomain":"acme","credentials":{"auth_type":%[1]s,"api_token":%[1]s}}`,
		`{"subdomain":"acme","credentials":{"auth_type":"oauth2.0","client_id":"c","client_secret":%[1]s,"refresh_token":[%[1]s]}}`,
		`{"subdomain":%[1]s,"credentials":{"api_token":%[1]s}}`,
		`{"subdomain":"acme","credentials":{"auth_type":"api_token","api_token":%[1]s},%[1]s:1}`,
	}
	for _, s := range []string{"pk_live_51HxYz", "x", `q"<>&`, "line\nbreak", "oauth2.0", "sk_live_ok"} {
		for i := range shapes {
			f.Add(s, uint8(i))
		}
	}
	src := authSource(f, oauthSpec)
	check := func(t *testing.T, shape, secret string) string {
		quoted, _ := json.Marshal(secret)
		return string(runAirbyte(t, src, airbyte.CommandCheck, fmt.Sprintf(shape, quoted)))
	}
	f.Fuzz(func(t *testing.T, secret string, n uint8) {
		if secret == "" || !utf8.ValidString(secret) {
			t.Skip()
		}
		// A secret of a few characters ("x", " a") stands inside ordinary
		// words ("another"): it is redacted only where it stands as a value
		// (TestCheckNeverEchoesSecrets has those cases), so a substring
		// check cannot tell a leak from prose.
		if len(strings.TrimSpace(secret)) < 4 {
			t.Skip()
		}
		shape := shapes[int(n)%len(shapes)]
		// Text the output holds whatever the secret is proves nothing.
		if fixed := check(t, shape, "pk_placeholder_value"); leaks(fixed, secret) {
			t.Skip()
		}
		if out := check(t, shape, secret); leaks(out, secret) {
			t.Fatalf("check output shows the secret %q:\n%s", secret, out)
		}
	})
}

// leaks reports whether text shows secret, raw or JSON-escaped.
func leaks(text, secret string) bool {
	j, _ := json.Marshal(secret)
	return strings.Contains(text, secret) || strings.Contains(text, string(j[1:len(j)-1]))
}
