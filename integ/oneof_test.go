package integ

import (
	"encoding/json"
	"slices"
	"strings"
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

func TestOneOfDecode(t *testing.T) {
	src := authSource(t)
	cases := []struct {
		name, in   string
		wantMethod string
		check      func(t *testing.T, c authConfig)
	}{
		{"oauth with default scope", `{"credentials":{"auth_type":"oauth2.0","client_id":"id1","client_secret":"cs-secret-1","refresh_token":"rt-secret-1"}}`, "oauth2.0",
			func(t *testing.T, c authConfig) {
				o := c.Credentials.OAuth
				if o == nil || c.Credentials.Token != nil {
					t.Fatalf("want only OAuth filled, got %+v", c.Credentials)
				}
				if o.ClientID != "id1" || o.ClientSecret.Reveal() != "cs-secret-1" || o.RefreshToken != "rt-secret-1" || o.Scope != "read" {
					t.Errorf("OAuth = %+v", *o)
				}
			}},
		{"token", `{"credentials":{"auth_type":"access_token","access_token":"sk_abc"},"region":"us"}`, "access_token",
			func(t *testing.T, c authConfig) {
				if c.Credentials.Token == nil || c.Credentials.OAuth != nil || c.Credentials.Token.AccessToken.Reveal() != "sk_abc" || c.Region != "us" {
					t.Errorf("got %+v", c)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := src.ParseConfig(json.RawMessage(c.in))
			if err != nil {
				t.Fatal(err)
			}
			var v authConfig
			if err := cfg.Decode(&v); err != nil {
				t.Fatal(err)
			}
			if got := v.Credentials.Method(); got != c.wantMethod {
				t.Errorf("Method() = %q, want %q", got, c.wantMethod)
			}
			c.check(t, v)
			// The raw config keeps the flat shape the platform knows.
			if !strings.Contains(string(cfg.Raw()), `"auth_type":"`+c.wantMethod+`"`) {
				t.Errorf("Raw() = %s", cfg.Raw())
			}
		})
	}
}

// TestConfigErrorsNeverShowSecrets: every way a config can be wrong yields
// an error naming the field, and never the secret value.
func TestConfigErrorsNeverShowSecrets(t *testing.T) {
	src := authSource(t)
	cases := []struct {
		name, in, secret string
		want             []string
	}{
		{"pattern on secret", `{"credentials":{"auth_type":"access_token","access_token":"pk_live_9f8e7d"}}`, "pk_live_9f8e7d",
			[]string{`field "credentials.access_token"`, "does not match the expected pattern ^(sk|rk)_"}},
		{"pattern on top-level secret", `{"credentials":{"auth_type":"access_token","access_token":"sk_ok"},"api_key":"pk_live_top"}`, "pk_live_top",
			[]string{`field "api_key"`, "expected pattern"}},
		{"short secret", `{"credentials":{"auth_type":"oauth2.0","client_id":"i","client_secret":"c","refresh_token":"rt-1"}}`, "rt-1",
			[]string{`field "credentials.refresh_token"`, "too short"}},
		{"secret of the wrong type", `{"credentials":{"auth_type":"access_token","access_token":123456789}}`, "123456789",
			[]string{`field "credentials.access_token"`, "want string"}},
		{"wrong method", `{"credentials":{"auth_type":"basic","access_token":"pk_live_9f8e7d"}}`, "pk_live_9f8e7d",
			[]string{`field "credentials": "auth_type" must name one of the methods "oauth2.0" (OAuth2.0), "access_token" (Access Token)`}},
		{"missing method", `{"credentials":{"access_token":"pk_live_9f8e7d"}}`, "pk_live_9f8e7d",
			[]string{`"auth_type" must name one of the methods`}},
		{"missing field of the chosen method", `{"credentials":{"auth_type":"oauth2.0","client_secret":"cs-secret-xyz","refresh_token":"rt-secret-xyz"}}`, "cs-secret-xyz",
			[]string{`field "credentials": missing property 'client_id'`}},
		{"enum beside secret", `{"credentials":{"auth_type":"access_token","access_token":"sk_live_ok"},"region":"mars"}`, "sk_live_ok",
			[]string{`field "region"`}},
		{"secret pasted as unknown key", `{"credentials":{"auth_type":"access_token","access_token":"sk_live_pasted"},"sk_live_pasted":1,"region":1}`, "sk_live_pasted",
			[]string{`field "region"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := src.ParseConfig(json.RawMessage(c.in))
			if err == nil {
				t.Fatal("want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, c.secret) || strings.Contains(UserMessage(err), c.secret) {
				t.Errorf("error shows the secret %q: %s", c.secret, msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if KindOf(err) != ConfigFailure {
				t.Errorf("kind = %v", KindOf(err))
			}
			// Only the chosen method's problems: nothing about the others.
			if strings.Contains(c.in, `"auth_type":"access_token"`) && strings.Contains(msg, "client_id") {
				t.Errorf("error mentions another method's fields: %s", msg)
			}
		})
	}
}

func TestOneOfDeclarationErrors(t *testing.T) {
	type notPtr struct {
		OneOf
		A tokenCreds `oneof:"a"`
	}
	type untagged struct {
		OneOf
		A *tokenCreds
	}
	type twice struct {
		OneOf
		A *tokenCreds `oneof:"a"`
		B *tokenCreds `oneof:"a"`
	}
	type clash struct {
		OneOf
		A *struct {
			Kind string `json:"kind"`
		} `oneof:"a"`
	}
	cases := []struct {
		name string
		cfg  any
		want string
	}{
		{"alternative not a pointer", struct {
			C notPtr `json:"c" oneof:"kind"`
		}{}, "must be a pointer to a struct"},
		{"alternative without value", struct {
			C untagged `json:"c" oneof:"kind"`
		}{}, "needs a oneof"},
		{"value used twice", struct {
			C twice `json:"c" oneof:"kind"`
		}{}, "used twice"},
		{"discriminator clash", struct {
			C clash `json:"c" oneof:"kind"`
		}{}, "discriminator"},
		{"not a struct", struct {
			C string `json:"c" oneof:"kind"`
		}{}, "needs a struct of alternatives"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ConfigSchemaOf(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestOneOfOptionalPointer(t *testing.T) {
	type cfgT struct {
		Creds *creds `json:"creds,omitempty" oneof:"kind"`
		Name  string `json:"name"`
	}
	type rec struct {
		ID int `json:"id"`
	}
	src := NewSource("opt", cfgT{}, WithStreams(NewStream("items", rec{}, func(*HttpContext) error { return nil })))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(src.ConfigSchema().Required, "creds") {
		t.Error("a pointer oneof field must be optional")
	}
	for _, c := range []struct {
		in     string
		method string
	}{
		{`{"name":"n"}`, ""},
		{`{"name":"n","creds":{"kind":"access_token","access_token":"sk_1"}}`, "access_token"},
	} {
		cfg, err := src.ParseConfig(json.RawMessage(c.in))
		if err != nil {
			t.Fatal(err)
		}
		var v cfgT
		if err := cfg.Decode(&v); err != nil {
			t.Fatal(err)
		}
		got := ""
		if v.Creds != nil {
			got = v.Creds.Method()
		}
		if got != c.method {
			t.Errorf("%s: method %q, want %q", c.in, got, c.method)
		}
	}
}
