package requests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Token is an OAuth 2.0 token endpoint's answer.
type Token struct {
	AccessToken  string
	TokenType    string
	RefreshToken string    // "" when the server did not send one
	Expiry       time.Time // zero: the server did not say
	// Extra holds the answer's other fields (Salesforce's instance_url).
	Extra map[string]any
}

// OAuth2Options configure an OAuth 2.0 grant. Written by hand rather than
// with golang.org/x/oauth2: the grants are a form POST each, and rotation,
// one refresh for concurrent callers and plain errors are easier to own.
type OAuth2Options struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	RefreshToken string // refresh-token grant only
	Scopes       []string
	// Params are extra form fields (audience, resource).
	Params url.Values
	// ClientAuthHeader sends the client id and secret as HTTP basic
	// credentials instead of form fields.
	ClientAuthHeader bool
	// Doer calls the token endpoint; default DefaultClient(). It must not
	// itself carry this authenticator.
	Doer Doer
	// Margin renews a token this long before it expires; default 1 minute.
	Margin time.Duration
	// OnToken sees every new token (register it as a secret, read Extra).
	OnToken func(*Token)
	// OnRotate is called when the server answers with a new refresh token:
	// the old one may be spent, so persist the new one.
	OnRotate func(refreshToken string)
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// OAuth2 is an Authenticator holding an OAuth 2.0 access token: fetched on
// first use, renewed Margin before it expires and after a 401. Concurrent
// requests needing a token trigger one call to the token endpoint.
type OAuth2 struct {
	o      OAuth2Options
	grant  string
	hooks  []func(*Token)
	header string // where the token goes: "Authorization" unless TokenHeader says
	prefix string // before the token: "Bearer " unless TokenHeader says

	mu      sync.Mutex // held while fetching: waiters reuse the result
	tok     *Token
	refresh string
	refused *TokenError // the credentials were refused: asking again cannot help
}

// OAuth2RefreshToken is the refresh-token grant (a user authorised the
// connector once; its refresh token buys access tokens).
func OAuth2RefreshToken(o OAuth2Options, opts ...OAuth2Option) *OAuth2 {
	return newOAuth2("refresh_token", o, opts)
}

// OAuth2ClientCredentials is the client-credentials grant (machine to
// machine: the client id and secret buy access tokens).
func OAuth2ClientCredentials(o OAuth2Options, opts ...OAuth2Option) *OAuth2 {
	return newOAuth2("client_credentials", o, opts)
}

// OAuth2Option tunes how an OAuth2 authenticator sends its token.
type OAuth2Option func(*OAuth2)

// TokenHeader sends the access token in header after prefix instead of
// "Authorization: Bearer <token>": TokenHeader("Authorization",
// "Zoho-oauthtoken ") for Zoho, TokenHeader("X-Shopify-Access-Token", "")
// for Shopify. The 401 renewal reads the token back from the same header.
func TokenHeader(header, prefix string) OAuth2Option {
	return func(a *OAuth2) { a.header, a.prefix = header, prefix }
}

func newOAuth2(grant string, o OAuth2Options, opts []OAuth2Option) *OAuth2 {
	if o.Doer == nil {
		o.Doer = DefaultClient()
	}
	if o.Margin == 0 {
		o.Margin = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &OAuth2{o: o, grant: grant, refresh: o.RefreshToken, header: "Authorization", prefix: "Bearer "}
	for _, opt := range opts {
		opt(a)
	}
	if o.OnToken != nil {
		a.hooks = append(a.hooks, o.OnToken)
	}
	return a
}

// AddTokenHook adds fn to the functions that see every new token; call it
// before the first request.
func (a *OAuth2) AddTokenHook(fn func(*Token)) { a.hooks = append(a.hooks, fn) }

// Authorize sets "Authorization: Bearer <access token>" (or the header and
// prefix TokenHeader chose), fetching a token first if there is none or it
// is about to expire.
func (a *OAuth2) Authorize(req *http.Request) error {
	tok, err := a.Token(req.Context())
	if err != nil {
		return err
	}
	req.Header.Set(a.header, a.prefix+tok.AccessToken)
	return nil
}

// Invalidate drops the access token req carried, unless a newer one has
// replaced it already (another request saw the 401 first).
func (a *OAuth2) Invalidate(req *http.Request) bool {
	sent := strings.TrimPrefix(req.Header.Get(a.header), a.prefix)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != nil && a.tok.AccessToken == sent {
		a.tok = nil
	}
	return true
}

// Token returns a valid access token, fetching one if needed.
func (a *OAuth2) Token(ctx context.Context) (*Token, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != nil && (a.tok.Expiry.IsZero() || a.o.Now().Add(a.o.Margin).Before(a.tok.Expiry)) {
		return a.tok, nil
	}
	if a.refused != nil {
		return nil, a.refused
	}
	tok, err := a.fetch(ctx)
	if err != nil {
		if te, ok := err.(*TokenError); ok && te.Refused() {
			a.refused = te
		}
		return nil, err
	}
	a.tok = tok
	for _, h := range a.hooks {
		h(tok)
	}
	if tok.RefreshToken != "" && tok.RefreshToken != a.refresh {
		a.refresh = tok.RefreshToken
		if a.grant == "refresh_token" && a.o.OnRotate != nil {
			a.o.OnRotate(tok.RefreshToken)
		}
	}
	return tok, nil
}

// maxTokenBody bounds a token endpoint's answer.
const maxTokenBody = 1 << 20

func (a *OAuth2) fetch(ctx context.Context) (*Token, error) {
	form := url.Values{"grant_type": {a.grant}}
	if a.grant == "refresh_token" {
		if a.refresh == "" {
			return nil, &TokenError{Code: "invalid_request", Description: "no refresh token is configured"}
		}
		form.Set("refresh_token", a.refresh)
	}
	if len(a.o.Scopes) > 0 {
		form.Set("scope", strings.Join(a.o.Scopes, " "))
	}
	for k, vs := range a.o.Params {
		form[k] = vs
	}
	if !a.o.ClientAuthHeader {
		form.Set("client_id", a.o.ClientID)
		if a.o.ClientSecret != "" {
			form.Set("client_secret", a.o.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.o.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("token endpoint %s: %w", RedactURL(a.o.TokenURL), err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if a.o.ClientAuthHeader {
		req.SetBasicAuth(url.QueryEscape(a.o.ClientID), url.QueryEscape(a.o.ClientSecret))
	}
	resp, err := a.o.Doer.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token endpoint %s: %w", RedactURL(a.o.TokenURL), stripURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return nil, fmt.Errorf("token endpoint %s: reading the answer: %w", RedactURL(a.o.TokenURL), err)
	}
	tok, terr := ParseTokenResponse(resp.StatusCode, body, a.o.Now())
	if terr != nil {
		terr.URL = RedactURL(a.o.TokenURL)
		// Servers may quote what they refused.
		terr.Description = Redact(terr.Description, a.refresh, a.o.ClientSecret)
		return nil, terr
	}
	return tok, nil
}

// ParseTokenResponse reads a token endpoint's answer (RFC 6749 5.1 and
// 5.2): a JSON object with access_token, token_type, expires_in and maybe
// refresh_token, or an error object. now dates expires_in.
func ParseTokenResponse(status int, body []byte, now time.Time) (*Token, *TokenError) {
	var fields map[string]any
	jerr := json.Unmarshal(body, &fields)
	if status < 200 || status > 299 || jerr != nil || fields["error"] != nil {
		te := &TokenError{Status: status}
		if jerr == nil {
			te.Code, _ = fields["error"].(string)
			te.Description, _ = fields["error_description"].(string)
			if te.Description == "" { // HubSpot: {"status":"BAD_REFRESH_TOKEN","message":...}
				te.Description, _ = fields["message"].(string)
			}
		} else if status >= 200 && status <= 299 {
			te.Description = "the answer is not a JSON object"
		}
		return nil, te
	}
	tok := &Token{Extra: map[string]any{}}
	for k, v := range fields {
		switch k {
		case "access_token":
			tok.AccessToken, _ = v.(string)
		case "token_type":
			tok.TokenType, _ = v.(string)
		case "refresh_token":
			tok.RefreshToken, _ = v.(string)
		case "expires_in":
			var secs float64
			switch v := v.(type) {
			case float64:
				secs = v
			case string: // some servers quote it
				secs, _ = strconv.ParseFloat(v, 64)
			}
			if secs > 0 && secs < 1e9 {
				tok.Expiry = now.Add(time.Duration(secs * float64(time.Second)))
			}
		default:
			tok.Extra[k] = v
		}
	}
	if tok.AccessToken == "" {
		return nil, &TokenError{Status: status, Description: "the answer has no access_token"}
	}
	return tok, nil
}

// ErrCredentialsRefused is matched (errors.Is) by token endpoint errors
// that no retry will fix: the credentials must be authorised again.
var ErrCredentialsRefused = errors.New("credentials refused")

// TokenError is a token endpoint's refusal or malformed answer. It never
// holds a token or secret; Description is the server's text.
type TokenError struct {
	URL         string // redacted
	Status      int    // 0: no HTTP answer
	Code        string // RFC 6749 error code: invalid_grant, invalid_client...
	Description string
}

// Refused reports whether the server refused the credentials themselves
// (invalid_grant: revoked, expired or already-used refresh token;
// invalid_client: wrong client id or secret).
func (e *TokenError) Refused() bool {
	switch e.Code {
	case "invalid_grant", "invalid_client", "unauthorized_client":
		return true
	case "":
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	}
	return false
}

// Is makes a refusal match ErrCredentialsRefused.
func (e *TokenError) Is(target error) bool { return target == ErrCredentialsRefused && e.Refused() }

func (e *TokenError) Error() string {
	var sb strings.Builder
	sb.WriteString("token endpoint")
	if e.URL != "" {
		sb.WriteString(" " + e.URL)
	}
	if e.Status != 0 {
		fmt.Fprintf(&sb, ": %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Code != "" {
		sb.WriteString(": " + e.Code)
	}
	if e.Description != "" {
		sb.WriteString(": " + e.Description)
	}
	return sb.String()
}
