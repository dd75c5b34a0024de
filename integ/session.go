package integ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/integ/integ/requests"
)

// Session is what one process run of a source shares between its steps
// (check, discover, read; Resolve and Sync inside one command): the
// credentials, built once so a token endpoint is called once per process;
// the secrets learned at run time, redacted from every log, error and
// output; values an auth step learns (Salesforce's instance_url); and the
// path that saves a changed config (a rotated refresh token). The
// protocols create it; a Session is safe for concurrent use.
type Session struct {
	mu      sync.Mutex
	cfg     *Config
	secrets []string // learned at run time; config secrets live in cfg
	anchors [][]byte // anchorOf(secrets[i])
	values  map[string]any
	logger  *slog.Logger
	persist ConfigPersister

	buildMu   sync.Mutex // held while the auth is built, so it is built once
	authBuilt bool
	authMWs   []requests.Middleware
	authErr   error
	tokenDoer requests.Doer
}

// ConfigPersister saves config changes: the protocol writes a CONTROL
// message (Airbyte) or rewrites the config file holding each key (Singer).
// patch maps top-level keys to their new JSON values.
type ConfigPersister func(patch map[string]json.RawMessage) error

// NewSession returns an empty session; the protocol gives it the config
// (SetConfig), a logger and a persister once it has them.
func NewSession() *Session {
	return &Session{values: map[string]any{}, logger: slog.New(slog.DiscardHandler)}
}

// SetConfig makes cfg the session's config. It is called once the config
// is validated, before any step uses the session.
func (s *Session) SetConfig(cfg *Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
}

// Config is the current config: the validated one, with any update applied.
func (s *Session) Config() *Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// SetLogger sets the logger of the session's own messages; it is wrapped
// so run-time secrets are redacted.
func (s *Session) SetLogger(l *slog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logger = s.wrapLogger(l)
}

// Logger is the session's logger: run-time secrets are redacted.
func (s *Session) Logger() *slog.Logger {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logger
}

// WrapLogger returns l redacting the session's run-time secrets, including
// those added after the call. Protocols wrap every logger they hand out.
func (s *Session) WrapLogger(l *slog.Logger) *slog.Logger { return s.wrapLogger(l) }

func (s *Session) wrapLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	if _, ok := l.Handler().(*redactHandler); ok {
		return l
	}
	return slog.New(&redactHandler{h: l.Handler(), s: s})
}

// OnConfigUpdate sets how UpdateConfig saves changes.
func (s *Session) OnConfigUpdate(p ConfigPersister) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.persist = p
}

// AddSecret registers a value learned at run time (an access token) so
// that it is redacted from every log line, error and output message.
func (s *Session) AddSecret(v string) {
	if len(v) < 4 { // redacting "a" would wreck every message and hide nothing
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.secrets, v) {
		// New slices, not appends: RedactOutput reads the old ones unlocked.
		s.secrets = append(slices.Clip(s.secrets), v)
		s.anchors = append(slices.Clip(s.anchors), anchorOf(v))
	}
}

// Secrets lists every secret known so far: the config's and the run-time
// ones.
func (s *Session) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.secrets)
	if s.cfg != nil {
		out = append(out, s.cfg.Secrets()...)
	}
	return out
}

// Redact replaces every secret known to the session in text.
func (s *Session) Redact(text string) string { return requests.Redact(text, s.Secrets()...) }

// RedactOutput replaces the run-time secrets in lines of output (records
// whose API echoes a token). Config secrets are left to the schema's
// redaction, as before sessions existed.
func (s *Session) RedactOutput(lines []byte) []byte {
	s.mu.Lock()
	anchors, secrets := s.anchors, s.secrets
	s.mu.Unlock()
	for i, sec := range secrets {
		// Most writes hold no secret: look for a short rare part first.
		if bytes.Contains(lines, anchors[i]) && bytes.Contains(lines, []byte(sec)) {
			lines = bytes.ReplaceAll(lines, []byte(sec), []byte(requests.Redacted))
		}
	}
	return lines
}

// anchorOf picks the 8 bytes of sec that start with its rarest byte in
// JSON output: bytes.Index skips ahead on a first byte it seldom meets, so
// a search for them runs about 20 times faster than for a token starting
// with "eyJ" (a JWT; 'e' is everywhere).
func anchorOf(sec string) []byte {
	const n = 8
	if len(sec) <= n {
		return []byte(sec)
	}
	best, bestScore := 0, -1
	for i := 0; i+n <= len(sec); i++ {
		if sc := rarity(sec[i]); sc > bestScore {
			best, bestScore = i, sc
		}
	}
	return []byte(sec[best : best+n])
}

// rarity ranks a byte by how seldom it appears in JSON records: lower-case
// letters by English frequency, then digits, then capitals and punctuation
// that JSON text rarely uses.
func rarity(b byte) int {
	const common = "etaoinshrdlcumwfgypbvkjxqz"
	switch {
	case b >= 'a' && b <= 'z':
		return strings.IndexByte(common, b)
	case b >= '0' && b <= '9':
		return 26
	case b >= 'A' && b <= 'Z', b == '-', b == '_', b == '+', b == '=', b == '~':
		return 30
	case b == '"' || b == ':' || b == ',' || b == '{' || b == '}' || b == ' ' || b == '/' || b == '.':
		return -1
	}
	return 28
}

// Set stores a value an auth step learned (instance_url), for runners to
// read with HttpContext.Value.
func (s *Session) Set(key string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[key] = v
}

// Value returns what Set stored under key, or nil.
func (s *Session) Value(key string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[key]
}

// UpdateConfig changes top-level config keys for this run and the next: the
// session's config is patched, a new value replacing a secret becomes a
// secret, and the protocol saves the change (a CONTROL message for
// Airbyte, the config file for Singer). Values never reach a log.
func (s *Session) UpdateConfig(patch map[string]any) error {
	if len(patch) == 0 {
		return nil
	}
	raws := make(map[string]json.RawMessage, len(patch))
	for k, v := range patch {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("config update: key %q: %w", k, err)
		}
		raws[k] = b
	}
	s.mu.Lock()
	cfg := s.cfg
	if cfg == nil {
		cfg = &Config{raw: json.RawMessage(`{}`)}
	}
	newRaw, err := PatchConfig(cfg.raw, raws)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("config update: %w", err)
	}
	next := &Config{raw: newRaw, secrets: slices.Clone(cfg.secrets)}
	for k, v := range patch {
		str, ok := v.(string)
		if !ok {
			continue
		}
		if old, ok := gjsonString(cfg.raw, k); ok && slices.Contains(cfg.secrets, old) {
			next.secrets = append(next.secrets, str)
		}
	}
	s.cfg = next
	persist, logger := s.persist, s.logger
	s.mu.Unlock()
	if persist == nil {
		logger.Warn("the config changed (" + keyList(raws) + ") but this run cannot save it")
		return nil
	}
	if err := persist(raws); err != nil {
		err = fmt.Errorf("saving the config change (%s): %w", keyList(raws), err)
		// Logged here too: a rotated token that is not saved fails the next run.
		logger.Error(err.Error() + "; the next run may need the connector authorised again")
		return err
	}
	return nil
}

func keyList(m map[string]json.RawMessage) string {
	keys := slices.Sorted(maps.Keys(m))
	b, _ := json.Marshal(keys)
	return string(b)
}

// gjsonString reads a top-level string member of an object.
func gjsonString(doc json.RawMessage, key string) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil {
		return "", false
	}
	var s string
	if json.Unmarshal(m[key], &s) != nil {
		return "", false
	}
	return s, true
}

// TokenDoer is the HTTP client for token endpoints: the run's transport
// with up to 3 attempts for transient failures and 30s per attempt; no
// rate limit and no auth.
func (s *Session) TokenDoer() requests.Doer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokenDoer == nil {
		s.tokenDoer = tokenDoer(HTTPOptions{})
	}
	return s.tokenDoer
}

func tokenDoer(o HTTPOptions) requests.Doer {
	base := o.Doer
	if base == nil {
		base = requests.DefaultClient()
	}
	retry := o.Retry
	if retry.MaxAttempts <= 0 || retry.MaxAttempts > 3 {
		retry.MaxAttempts = 3
	}
	return requests.Chain(base, requests.Retry(retry), requests.Timeout(30*time.Second))
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
			var c C
			if err := cfg.Decode(&c); err != nil {
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
		s.tokenDoer = tokenDoer(o)
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
			mws = append(mws, requests.Authorize(&sessionAuth{a: a, s: s}))
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
	a requests.Authenticator
	s *Session
}

func (a *sessionAuth) Authorize(req *http.Request) error {
	err := a.a.Authorize(req)
	if err == nil {
		return nil
	}
	return a.s.authError(err)
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

// redactHandler redacts the session's run-time secrets from a record's
// message and attributes before the protocol's handler formats it.
type redactHandler struct {
	h slog.Handler
	s *Session
}

func (r *redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

func (r *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	r.s.mu.Lock()
	secrets := r.s.secrets
	r.s.mu.Unlock()
	if len(secrets) == 0 {
		return r.h.Handle(ctx, rec)
	}
	out := slog.NewRecord(rec.Time, rec.Level, requests.Redact(rec.Message, secrets...), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a, secrets))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	r.s.mu.Lock()
	secrets := r.s.secrets
	r.s.mu.Unlock()
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a, secrets)
	}
	return &redactHandler{h: r.h.WithAttrs(red), s: r.s}
}

func (r *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{h: r.h.WithGroup(name), s: r.s}
}

func redactAttr(a slog.Attr, secrets []string) slog.Attr {
	if len(secrets) == 0 {
		return a
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, m := range g {
			out[i] = redactAttr(m, secrets)
		}
		return slog.Group(a.Key, out...)
	case slog.KindString, slog.KindAny:
		str := v.String()
		if red := requests.Redact(str, secrets...); red != str {
			return slog.String(a.Key, red)
		}
	}
	return a
}

// Value returns a value the source's auth step stored with Session.Set
// (Salesforce's instance_url), or nil.
func (c *HttpContext) Value(key string) any {
	if c.http == nil || c.http.session == nil {
		return nil
	}
	return c.http.session.Value(key)
}

// PatchConfig sets top-level members of the JSON object doc to the values
// in patch, keeping every other byte: members keep their order and
// formatting, a changed member is replaced where it stands (its last
// occurrence, the one decoders keep) and a new one is appended.
func PatchConfig(doc []byte, patch map[string]json.RawMessage) ([]byte, error) {
	for k, v := range patch {
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("the key %q is not valid UTF-8", k)
		}
		if !json.Valid(v) {
			return nil, fmt.Errorf("the new value of %q is not JSON", k)
		}
	}
	type span struct{ start, end int }
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("the config is not a JSON object")
	}
	found := map[string]span{}
	lastEnd := -1
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("the config is not valid JSON: %w", err)
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("the config is not valid JSON: %w", err)
		}
		end := int(dec.InputOffset())
		found[key] = span{end - len(v), end}
		lastEnd = end
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, errors.New("the config is not a JSON object")
	}
	closeAt := int(dec.InputOffset()) - 1
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("the config has data after its object")
	}
	type edit struct {
		at, end int
		text    []byte
	}
	var edits []edit
	var added []string
	for k, v := range patch {
		if sp, ok := found[k]; ok {
			edits = append(edits, edit{sp.start, sp.end, v})
		} else {
			added = append(added, k)
		}
	}
	sort.Strings(added)
	if len(added) > 0 {
		var b bytes.Buffer
		at := closeAt
		if lastEnd >= 0 {
			at = lastEnd
		}
		for i, k := range added {
			if i > 0 || lastEnd >= 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			b.Write(patch[k])
		}
		edits = append(edits, edit{at, at, b.Bytes()})
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].at > edits[j].at })
	out := slices.Clone(doc)
	for _, e := range edits {
		out = slices.Concat(out[:e.at], e.text, out[e.end:])
	}
	return out, nil
}
