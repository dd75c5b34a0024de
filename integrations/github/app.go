package github

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// AppAuth authenticates as a GitHub App installation: a JWT signed with
// the app's private key buys an installation access token (valid for an
// hour), renewed before it expires.
type AppAuth struct {
	AppID          string       `json:"app_id" title:"App ID or client ID" description:"The GitHub App's ID (or its client ID), from the app's settings page." examples:"123456"`
	InstallationID int64        `json:"installation_id" title:"Installation ID" description:"The ID of the app's installation on the organization or account." minimum:"1"`
	PrivateKey     integ.Secret `json:"private_key" title:"Private key" description:"The app's private key, PEM encoded (-----BEGIN RSA PRIVATE KEY----- ...)." minLength:"64"`
}

// authenticator builds the config's authenticator.
func authenticator(cfg Config, s *integ.Session) (requests.Authenticator, error) {
	switch {
	case cfg.Credentials.Token != nil:
		return requests.Bearer(cfg.Credentials.Token.Token.Reveal()), nil
	case cfg.Credentials.App != nil:
		return newAppAuth(cfg, s)
	}
	return nil, errors.New("credentials: choose a personal access token or a GitHub App")
}

// appAuth is the authenticator of a GitHub App installation.
type appAuth struct {
	app   AppAuth
	key   *rsa.PrivateKey
	url   string // the installation's access_tokens endpoint
	s     *integ.Session
	now   func() time.Time
	mu    sync.Mutex
	token string
	until time.Time // renew from then on
}

func newAppAuth(cfg Config, s *integ.Session) (*appAuth, error) {
	app := *cfg.Credentials.App
	key, err := parseKey([]byte(app.PrivateKey.Reveal()))
	if err != nil {
		return nil, err
	}
	return &appAuth{
		app: app, key: key, s: s, now: time.Now,
		url: cfg.get("/app/installations/" + strconv.FormatInt(app.InstallationID, 10) + "/access_tokens").URL(),
	}, nil
}

// The private key's problems; their text never quotes the key.
var (
	errKeyNotPEM = errors.New("credentials.private_key is not PEM: paste the whole .pem file GitHub gave, -----BEGIN ... KEY----- lines included")
	errKeyNotRSA = errors.New("credentials.private_key is not an RSA private key: use the .pem file generated in the GitHub App's settings")
)

// parseKey reads a PEM RSA private key, PKCS #1 (what GitHub hands out) or
// PKCS #8.
func parseKey(b []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errKeyNotPEM
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if rk, ok := k.(*rsa.PrivateKey); ok && err == nil {
		return rk, nil
	}
	return nil, errKeyNotRSA
}

// Authorize sends the installation token, fetched or renewed first when
// needed.
func (a *appAuth) Authorize(req *http.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == "" || !a.now().Before(a.until) {
		if err := a.renew(req); err != nil {
			return err
		}
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	return nil
}

// Invalidate drops a token the API refused, so the next request gets a
// new one (an installation token can be revoked before it expires).
func (a *appAuth) Invalidate(req *http.Request) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == "" || req.Header.Get("Authorization") != "Bearer "+a.token {
		return true // already replaced
	}
	a.token = ""
	return true
}

// renew buys an installation access token with a fresh JWT.
func (a *appAuth) renew(orig *http.Request) error {
	jwt, err := a.jwt()
	if err != nil {
		return err
	}
	a.s.AddSecret(jwt)
	req, err := http.NewRequestWithContext(orig.Context(), http.MethodPost, a.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", APIVersion)
	req.Header.Set("Authorization", "Bearer "+jwt)
	req.Header.Set("User-Agent", orig.Header.Get("User-Agent"))
	resp, err := a.s.TokenDoer().Do(req)
	if err != nil {
		return fmt.Errorf("GitHub App installation token: %w", err)
	}
	r, err := requests.ReadJSON(resp, 1<<20)
	if err != nil {
		var se *requests.StatusError
		if errors.As(err, &se) && se.Status >= 400 && se.Status < 500 && se.Status != http.StatusTooManyRequests {
			return &integ.Error{Kind: integ.ConfigFailure, Err: err, Msg: fmt.Sprintf(
				"GitHub refused a token for app %s, installation %d (%d %s): check credentials.app_id, credentials.installation_id and credentials.private_key, and that the app is installed",
				a.app.AppID, a.app.InstallationID, se.Status, http.StatusText(se.Status))}
		}
		return fmt.Errorf("GitHub App installation token: %w", err)
	}
	tok, exp := r.Get("token").String(), r.Get("expires_at").Time()
	if tok == "" {
		return &integ.Error{Kind: integ.SystemFailure, Msg: "GitHub's access_tokens answer has no token"}
	}
	a.s.AddSecret(tok)
	a.token = tok
	if exp.IsZero() {
		exp = a.now().Add(time.Hour)
	}
	a.until = exp.Add(-5 * time.Minute) // renew before requests start failing
	return nil
}

// jwt is the app's JSON Web Token: RS256, issued a minute ago (clock
// drift, as GitHub advises), valid for 9 minutes (GitHub allows 10).
func (a *appAuth) jwt() (string, error) {
	now := a.now().Unix()
	head := b64(`{"alg":"RS256","typ":"JWT"}`)
	claims, err := json.Marshal(map[string]any{"iat": now - 60, "exp": now + 9*60, "iss": a.app.AppID})
	if err != nil {
		return "", err
	}
	unsigned := head + "." + b64(string(claims))
	sum := sha256.Sum256([]byte(unsigned))
	sig, err := rsa.SignPKCS1v15(rand.Reader, a.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing the GitHub App JWT: %w", err)
	}
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
