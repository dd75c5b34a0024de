package integ

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/integ/integ/requests"
)

// Session is what one process run of a source shares between its steps
// (check, discover, read; Resolve and Sync inside one command): the
// credentials, built once so a token endpoint is called once per process;
// the secrets learned at run time, redacted from every log, error and
// output; values an auth step learns (Salesforce's instance_url); and the
// path that saves a changed config (a rotated refresh token). The
// protocols create it, one per process and source (it keeps the first
// source's authenticator); a Session is safe for concurrent use.
type Session struct {
	mu      sync.Mutex
	cfg     *Config
	secrets []string // learned at run time; config secrets live in cfg
	anchors [][]byte // anchorOf(secrets[i])
	values  map[string]any
	logger  *slog.Logger
	persist ConfigPersister

	buildMu     sync.Mutex // held while the auth is built, so it is built once
	authBuilt   bool
	authMWs     []requests.Middleware
	authErr     error
	tokenDoer   requests.Doer
	tokenClient *http.Client    // tokenDoer's own client, when no Doer was given
	hosts       *requests.Hosts // where credentials may go (auth_hosts.go)
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
	s.addSecretLocked(v)
}

func (s *Session) addSecretLocked(v string) {
	if len(v) < 4 || slices.Contains(s.secrets, v) {
		return
	}
	// New slices, not appends: RedactOutput reads the old ones unlocked.
	s.secrets = append(slices.Clip(s.secrets), v)
	s.anchors = append(slices.Clip(s.anchors), anchorOf(v))
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

// UpdateConfig changes config keys for this run and the next (a key is a
// top-level name or a dotted path, "credentials.refresh_token"): the
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
			s.addSecretLocked(str) // for the loggers, which only know the config's first secrets
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

// gjsonString reads a string member of an object: a top-level member by
// that name, or else the member at the dotted path.
func gjsonString(doc json.RawMessage, key string) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil {
		return "", false
	}
	if raw, ok := m[key]; ok {
		var s string
		return s, json.Unmarshal(raw, &s) == nil
	}
	if head, rest, ok := strings.Cut(key, "."); ok && m[head] != nil {
		return gjsonString(m[head], rest)
	}
	return "", false
}

// Value returns a value the source's auth step stored with Session.Set
// (Salesforce's instance_url), or nil.
func (c *HttpContext) Value(key string) any {
	if c.http == nil || c.http.session == nil {
		return nil
	}
	return c.http.session.Value(key)
}
