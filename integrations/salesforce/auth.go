package salesforce

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// Session keys: the OAuth authenticator and the instance URL its token
// response named.
const (
	authKey     = "salesforce.oauth"
	instanceKey = "salesforce.instance_url"
)

// authenticate is the refresh-token grant against {login_url}. Every token
// response carries the org's instance_url: it is kept in the session,
// where apiRoot finds it.
func authenticate(cfg Config, s *integ.Session) (requests.Authenticator, error) {
	// The token goes to the org's instance (or the proxy the config names)
	// and nowhere else.
	if cfg.InstanceURL != "" {
		if err := s.AllowHost(cfg.InstanceURL); err != nil {
			return nil, fmt.Errorf("instance_url: %w", err)
		}
	}
	a := requests.OAuth2RefreshToken(requests.OAuth2Options{
		TokenURL:     strings.TrimRight(cfg.LoginURL, "/") + "/services/oauth2/token",
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret.Reveal(),
		RefreshToken: cfg.RefreshToken.Reveal(),
		Doer:         s.TokenDoer(),
		OnToken: func(t *requests.Token) {
			if u, ok := t.Extra["instance_url"].(string); ok && u != "" {
				s.Set(instanceKey, strings.TrimRight(u, "/"))
				if cfg.InstanceURL == "" {
					if err := s.AllowHost(u); err != nil {
						s.Logger().Warn("the token response's instance_url is not a URL: " + err.Error())
					}
				}
			}
		},
		// Orgs with refresh token rotation spend the old token.
		OnRotate: func(rt string) {
			if err := s.UpdateConfig(map[string]any{"refresh_token": rt}); err != nil {
				s.Logger().Error("could not save the rotated refresh token: the next sync must be authorised again: " + err.Error())
			}
		},
	})
	s.Set(authKey, a)
	return a, nil
}

// apiRoot is {instance_url}/services/data/vXX.X: the config's override, or
// the token response's, which is only known once a token was asked for.
func apiRoot(c *integ.HttpContext) (string, error) {
	cfg, err := integ.ConfigOf[Config](c)
	if err != nil {
		return "", err
	}
	if cfg.InstanceURL != "" {
		return strings.TrimRight(cfg.InstanceURL, "/") + apiPath, nil
	}
	if u, _ := c.Value(instanceKey).(string); u != "" {
		return u + apiPath, nil
	}
	a, _ := c.Value(authKey).(*requests.OAuth2)
	if a == nil {
		return "", errors.New("salesforce: the OAuth session was not set up")
	}
	if _, err := a.Token(c.Context()); err != nil {
		return "", tokenError(err)
	}
	u, _ := c.Value(instanceKey).(string)
	if u == "" {
		return "", &integ.Error{Kind: integ.ConfigFailure, Err: integ.ErrConfig,
			Msg: "the token response from login_url has no instance_url: check that login_url is a Salesforce login server (https://login.salesforce.com, https://test.salesforce.com or the org's My Domain)"}
	}
	return u + apiPath, nil
}

// tokenError words a failed token request for the user. Token errors never
// hold the refresh token or client secret.
func tokenError(err error) error {
	var te *requests.TokenError
	switch {
	case errors.Is(err, requests.ErrCredentialsRefused):
		return &integ.Error{Kind: integ.ConfigFailure, Err: fmt.Errorf("%w: %w", integ.ErrAuth, err),
			Msg: "Salesforce refused the configured credentials (" + err.Error() + "): check client_id and client_secret, or authorise the connected app again for a new refresh_token"}
	case errors.Is(err, requests.ErrNoCredentials):
		return &integ.Error{Kind: integ.ConfigFailure, Err: fmt.Errorf("%w: %w", integ.ErrAuth, err),
			Msg: "client_id, client_secret and refresh_token must all be set"}
	case errors.As(err, &te):
		kind := integ.SystemFailure
		switch {
		case te.Status == http.StatusTooManyRequests || te.Status >= 500:
			kind = integ.TransientFailure
		case te.Status >= 400:
			kind = integ.ConfigFailure
		}
		return &integ.Error{Kind: kind, Err: fmt.Errorf("%w: %w", integ.ErrAuth, err),
			Msg: "could not get an access token from login_url (" + err.Error() + ")"}
	}
	return err
}
