package integ

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/integ/integ/requests"
)

// TokenDoer is the HTTP client for token endpoints: the run's transport
// with up to 3 attempts for transient failures and 30s per attempt; no
// rate limit and no auth.
func (s *Session) TokenDoer() requests.Doer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokenDoer == nil {
		s.tokenDoer, s.tokenClient = tokenDoer(HTTPOptions{})
	}
	return s.tokenDoer
}

// tokenDoer builds the token endpoints' client on o.Doer, or on a client
// of its own, which it returns as well so that its owner can close it.
func tokenDoer(o HTTPOptions) (requests.Doer, *http.Client) {
	var own *http.Client
	base := o.Doer
	if base == nil {
		own = requests.DefaultClient()
		base = own
	}
	retry := o.Retry
	if retry.MaxAttempts <= 0 || retry.MaxAttempts > 3 {
		retry.MaxAttempts = 3
	}
	return requests.Chain(base, requests.Retry(retry), requests.Timeout(30*time.Second)), own
}

// authFunc builds a source's authenticator from the validated config.
type authFunc func(cfg *Config, s *Session) (requests.Authenticator, error)

// WithAuth sets how the source authenticates. fn gets the config as a
// *Config or decoded into the source's config type C, and the session: it
// may register secrets and values there, and hand s.UpdateConfig to a
// refresh-token grant's OnRotate. The authenticator is built once per
// process (by the first step that needs HTTP) and shared by every later
// step; an OAuth2 one has its tokens registered as secrets.
//
//	integ.WithAuth(func(c Config, s *integ.Session) (requests.Authenticator, error) {
//		return requests.APIKeyHeader("Authorization", "Klaviyo-API-Key ", c.Key.Reveal()), nil
//	})
func WithAuth[C any](fn func(cfg C, s *Session) (requests.Authenticator, error)) SourceOption {
	return func(src *Source) {
		src.auth = func(cfg *Config, s *Session) (requests.Authenticator, error) {
			if c, ok := any(cfg).(C); ok {
				return fn(c, s)
			}
			c, err := typedConfig[C](cfg)
			if err != nil {
				return nil, err
			}
			return fn(c, s)
		}
	}
}

// authMiddleware returns the auth middleware of src, built on first use
// and reused after: the legacy WithMiddleware builders, then WithAuth.
func (s *Session) authMiddleware(src *Source, cfg *Config, o HTTPOptions) ([]requests.Middleware, error) {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	s.mu.Lock()
	if s.authBuilt {
		defer s.mu.Unlock()
		return s.authMWs, s.authErr
	}
	if s.cfg == nil {
		s.cfg = cfg
	}
	if s.tokenDoer == nil {
		s.tokenDoer, s.tokenClient = tokenDoer(o)
	}
	s.mu.Unlock()
	// Built unlocked: an AuthFunc may call AddSecret or Set.
	var mws []requests.Middleware
	var err error
	for _, build := range src.middleware {
		mw, berr := build(cfg)
		if berr != nil {
			err = &Error{Kind: ConfigFailure, Msg: "cannot set up HTTP access from the config: " + berr.Error(), Err: ErrConfig}
			break
		}
		if mw != nil {
			mws = append(mws, mw)
		}
	}
	if err == nil && src.auth != nil {
		a, aerr := src.auth(cfg, s)
		switch {
		case aerr != nil:
			err = &Error{Kind: ConfigFailure, Msg: "cannot set up authentication from the config: " + s.Redact(aerr.Error()), Err: ErrConfig}
		case a != nil:
			if h, ok := a.(interface{ AddTokenHook(func(*requests.Token)) }); ok {
				h.AddTokenHook(func(t *requests.Token) {
					s.AddSecret(t.AccessToken)
					s.AddSecret(t.RefreshToken)
				})
			}
			mws = append(mws, requests.Authorize(s.scopeAuth(&sessionAuth{a: a, s: s}, cfg)))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authBuilt, s.authMWs, s.authErr = true, mws, err
	return mws, err
}

// sessionAuth turns an authenticator's failures into plain-worded *Error
// values with a Kind; the session's secrets never reach their text.
type sessionAuth struct {
	a    requests.Authenticator
	s    *Session
	seen atomic.Pointer[string] // the Authorization value last registered
}

func (a *sessionAuth) Authorize(req *http.Request) error {
	if err := a.a.Authorize(req); err != nil {
		return a.s.authError(err)
	}
	// A credential the authenticator derives from the config (Basic's
	// base64 of user:password) is a secret too: a server may quote the
	// header back in an error body.
	if v := req.Header.Get("Authorization"); v != "" {
		if last := a.seen.Load(); last == nil || *last != v {
			cred := v
			if _, c, ok := strings.Cut(v, " "); ok {
				cred = c // after the scheme: "Basic <base64>", "Bearer <token>"
			}
			a.s.AddSecret(cred)
			a.seen.Store(&v)
		}
	}
	return nil
}

func (a *sessionAuth) Invalidate(req *http.Request) bool {
	if ra, ok := a.a.(requests.Reauthenticator); ok {
		return ra.Invalidate(req)
	}
	return false
}

// ErrAuth marks authentication failures: the credentials are missing or
// were refused by the API's token endpoint.
var ErrAuth = errors.New("authentication failed")

func (s *Session) authError(err error) error {
	var te *requests.TokenError
	switch {
	case errors.Is(err, requests.ErrCredentialsRefused):
		why := "refused"
		if errors.As(err, &te) && te.Code != "" {
			why += " (" + te.Code + ")"
		}
		return &Error{Kind: ConfigFailure, Err: tagged{ErrAuth, redactedError{err, s}},
			Msg: "the API's token endpoint " + why + " the configured credentials: authorise the connector again to get a new refresh token, or check the client id and secret"}
	case errors.Is(err, requests.ErrNoCredentials):
		return &Error{Kind: ConfigFailure, Err: tagged{ErrAuth, err},
			Msg: "no credentials: the config's key or token is empty; fill it in"}
	case errors.As(err, &te):
		kind := SystemFailure
		switch {
		case te.Status == http.StatusTooManyRequests || te.Status >= 500:
			kind = TransientFailure
		case te.Status >= 400:
			kind = ConfigFailure
		}
		return &Error{Kind: kind, Err: tagged{ErrAuth, redactedError{err, s}}, Msg: "could not get an access token"}
	}
	return err // network errors: KindOf and the retries know them
}

// redactedError shows err's text without the session's secrets (a token
// endpoint may echo the token it refused), keeping the chain for errors.Is.
type redactedError struct {
	err error
	s   *Session
}

func (e redactedError) Error() string { return e.s.Redact(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }
