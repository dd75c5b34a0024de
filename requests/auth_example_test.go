package requests_test

import (
	"net/http"

	"github.com/integ/integ/requests"
)

// An API key in a header with the vendor's scheme, on every request.
func ExampleAPIKeyHeader() {
	client := requests.Chain(http.DefaultClient,
		requests.Authorize(requests.APIKeyHeader("Authorization", "Klaviyo-API-Key ", "pk_live_123")))
	_ = client
}

// A refresh-token grant whose server rotates refresh tokens: save each new
// one, or the next run's token is already spent. In an integration, use
// integ.WithAuth and the session's UpdateConfig.
func ExampleOAuth2RefreshToken() {
	auth := requests.OAuth2RefreshToken(requests.OAuth2Options{
		TokenURL:     "https://login.example.com/oauth2/token",
		ClientID:     "client-id",
		ClientSecret: "client-secret",
		RefreshToken: "refresh-token",
		OnRotate:     func(newRefreshToken string) { /* persist it */ },
	})
	client := requests.Chain(http.DefaultClient, requests.Authorize(auth))
	_ = client
}
