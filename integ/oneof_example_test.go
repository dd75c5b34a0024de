package integ_test

import (
	"encoding/json"
	"fmt"

	"github.com/integ/integ/integ"
)

// A config whose credentials are an OAuth app or a personal token.
func ExampleOneOf() {
	type OAuth struct {
		ClientID     string       `json:"client_id" title:"Client ID"`
		ClientSecret integ.Secret `json:"client_secret" title:"Client secret"`
		RefreshToken integ.Secret `json:"refresh_token" title:"Refresh token"`
	}
	type Token struct {
		AccessToken integ.Secret `json:"access_token" title:"Access token" pattern:"^(sk|rk)_"`
	}
	type Credentials struct {
		integ.OneOf
		OAuth *OAuth `oneof:"oauth2.0" title:"OAuth2.0"`
		Token *Token `oneof:"access_token" title:"Access Token"`
	}
	type Config struct {
		Credentials Credentials `json:"credentials" oneof:"auth_type" title:"Authentication"`
	}
	type Item struct {
		ID int `json:"id"`
	}
	src := integ.NewSource("example", Config{},
		integ.WithStreams(integ.NewStream("items", Item{}, func(*integ.HttpContext) error { return nil })),
		integ.WithOAuthSpec(integ.OAuthSpec{
			Field:        "credentials",
			Method:       "oauth2.0",
			ServerFields: []string{"client_id", "client_secret"},
			OutputFields: []string{"refresh_token"},
		}))

	cfg, err := src.ParseConfig(json.RawMessage(`{"credentials":{"auth_type":"access_token","access_token":"sk_test_123"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	var c Config
	if err := cfg.Decode(&c); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Credentials.Method(), c.Credentials.OAuth == nil, c.Credentials.Token.AccessToken)

	_, err = src.ParseConfig(json.RawMessage(`{"credentials":{"auth_type":"access_token","access_token":"pk_live_123"}}`))
	fmt.Println(err)
	_, err = src.ParseConfig(json.RawMessage(`{"credentials":{"auth_type":"password"}}`))
	fmt.Println(err)
	// Output:
	// access_token true **********
	// config is invalid: field "credentials.access_token": the secret value does not match the expected pattern ^(sk|rk)_
	// config is invalid: field "credentials": "auth_type" must name one of the methods "oauth2.0" (OAuth2.0), "access_token" (Access Token); got "password"
}
