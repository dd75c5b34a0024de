package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/internal/airbyteschema"
	"github.com/integ/integ/requests"
)

// oauthAPI is an API behind an OAuth 2.0 token endpoint that rotates its
// refresh tokens: each one works once. Its records echo the access token
// they were fetched with, as some APIs echo request headers.
type oauthAPI struct {
	mu       sync.Mutex
	calls    int             // token requests
	refresh  map[string]bool // usable refresh tokens
	access   map[string]bool
	failWith int // answer /items with this status, echoing the token
	expires  int // expires_in of access tokens
	streams  []string
	srv      *httptest.Server
}

func newOAuthAPI(t *testing.T, refreshToken string) *oauthAPI {
	a := &oauthAPI{refresh: map[string]bool{refreshToken: true}, access: map[string]bool{}, expires: 3600, streams: []string{"items"}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", a.token)
	mux.HandleFunc("GET /streams", a.guard(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"streams": a.streams})
	}))
	mux.HandleFunc("GET /items", a.guard(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		fail := a.failWith
		a.mu.Unlock()
		if fail != 0 {
			w.WriteHeader(fail)
		}
		fmt.Fprintf(w, `{"id":1,"seen_auth":%q}`, r.Header.Get("Authorization"))
	}))
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *oauthAPI) token(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	rt := r.FormValue("refresh_token")
	if r.FormValue("grant_type") != "refresh_token" || r.FormValue("client_secret") != "client-secret-1" || !a.refresh[rt] {
		w.WriteHeader(http.StatusBadRequest)
		// Some servers echo what they refused.
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"refresh token %s was revoked"}`, rt)
		return
	}
	delete(a.refresh, rt)
	next := fmt.Sprintf("refresh-rotated-%d", a.calls)
	access := fmt.Sprintf("access-token-%d", a.calls)
	a.refresh[next], a.access[access] = true, true
	fmt.Fprintf(w, `{"access_token":%q,"refresh_token":%q,"expires_in":%d,"token_type":"Bearer","instance_url":%q}`, access, next, a.expires, a.srv.URL)
}

func (a *oauthAPI) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		ok := a.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		a.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

func (a *oauthAPI) tokenCalls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

type oauthConfig struct {
	TokenURL     string       `json:"token_url"`
	ClientID     string       `json:"client_id"`
	ClientSecret integ.Secret `json:"client_secret"`
	RefreshToken integ.Secret `json:"refresh_token"`
}

// oauthSource authenticates with a rotating refresh token, learns its API's
// address from the token answer (like Salesforce's instance_url) and asks
// the API for its streams, so Resolve and Sync both need the token.
func oauthSource() *integ.Source {
	return integ.NewSource("oauthtest", oauthConfig{},
		integ.WithAuth(func(c oauthConfig, s *integ.Session) (requests.Authenticator, error) {
			return requests.OAuth2RefreshToken(requests.OAuth2Options{
				TokenURL: c.TokenURL, ClientID: c.ClientID, ClientSecret: c.ClientSecret.Reveal(),
				RefreshToken: c.RefreshToken.Reveal(), Doer: s.TokenDoer(),
				OnToken: func(t *requests.Token) { s.Set("instance_url", t.Extra["instance_url"]) },
				OnRotate: func(rt string) {
					if err := s.UpdateConfig(map[string]any{"refresh_token": rt}); err != nil {
						s.Logger().Error(err.Error())
					}
				},
			}), nil
		}),
		integ.WithStreamsFromConfig(func(c *integ.HttpContext) ([]*integ.Stream, error) {
			var cfg oauthConfig
			if err := c.Load(&cfg, nil); err != nil {
				return nil, err
			}
			// The API's address is only known once a token is fetched.
			base := strings.TrimSuffix(cfg.TokenURL, "/token")
			resp, err := c.Do(requests.New(base + "/streams"))
			if err != nil {
				return nil, err
			}
			var streams []*integ.Stream
			for _, name := range resp.Get("streams").Array() {
				streams = append(streams, integ.NewStream(name.String(), struct {
					ID       int    `json:"id"`
					SeenAuth string `json:"seen_auth"`
				}{}, func(c *integ.HttpContext) error {
					return c.EmitObject(requests.New(fmt.Sprint(c.Value("instance_url")) + "/items"))
				}, integ.PrimaryKey("id")))
			}
			return streams, nil
		}),
	)
}

func execOAuth(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := Execute(ctx, oauthSource(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeJSONFile(t *testing.T, dir, name string, mode os.FileMode, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, mode) // past the umask
	return p
}

// noRunTimeTokens fails if an access token or a rotated refresh token
// appears in out.
func noRunTimeTokens(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range []string{"access-token-", "refresh-rotated-", "client-secret-1", "refresh-initial"} {
		if strings.Contains(out, s) {
			t.Errorf("%s shows a secret (%s...):\n%s", what, s, out)
		}
	}
}

func TestSingerRotatedRefreshTokenIsSavedAndUsedNextRun(t *testing.T) {
	api := newOAuthAPI(t, "refresh-initial")
	dir := t.TempDir()
	// Two config files: the token lives in the second; the first is untouched.
	public := writeJSONFile(t, dir, "public.json", 0o644, map[string]any{"token_url": api.srv.URL + "/token", "client_id": "cid"})
	secrets := writeJSONFile(t, dir, "secrets.json", 0o600, map[string]any{"client_secret": "client-secret-1", "refresh_token": "refresh-initial", "note": "kept"})
	publicBefore, _ := os.ReadFile(public)

	for run := 1; run <= 3; run++ {
		args := []string{"--config", public, "--config", secrets}
		if run == 2 {
			args = append(args, "--discover")
		}
		code, stdout, stderr := execOAuth(t, args...)
		if code != 0 {
			t.Fatalf("run %d: exit %d\nstderr: %s", run, code, stderr)
		}
		if api.tokenCalls() != run {
			t.Fatalf("run %d: %d token requests in all, want one per run", run, api.tokenCalls())
		}
		noRunTimeTokens(t, fmt.Sprintf("run %d stdout", run), stdout)
		noRunTimeTokens(t, fmt.Sprintf("run %d stderr", run), stderr)
		if !strings.Contains(stderr, fmt.Sprintf(`config file %q updated`, secrets)) {
			t.Errorf("run %d: stderr does not say the config file changed:\n%s", run, stderr)
		}
		if run != 2 && !strings.Contains(stdout, `"seen_auth":"Bearer REDACTED"`) {
			t.Errorf("run %d: the echoed token is not redacted in the record:\n%s", run, stdout)
		}
		var saved map[string]any
		b, _ := os.ReadFile(secrets)
		if err := json.Unmarshal(b, &saved); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("refresh-rotated-%d", run)
		if saved["refresh_token"] != want || saved["note"] != "kept" || saved["client_secret"] != "client-secret-1" {
			t.Errorf("run %d: secrets.json = %s, want refresh_token %s and the other keys kept", run, b, want)
		}
		if fi, _ := os.Stat(secrets); fi.Mode().Perm() != 0o600 {
			t.Errorf("run %d: secrets.json mode %v, want 0600", run, fi.Mode().Perm())
		}
		if after, _ := os.ReadFile(public); !bytes.Equal(after, publicBefore) {
			t.Errorf("run %d: public.json changed:\n%s", run, after)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestAirbyteRotatedRefreshTokenGoesOutAsControl(t *testing.T) {
	api := newOAuthAPI(t, "refresh-initial")
	dir := t.TempDir()
	cfgPath := writeJSONFile(t, dir, "config.json", 0o600, map[string]any{
		"token_url": api.srv.URL + "/token", "client_id": "cid", "client_secret": "client-secret-1", "refresh_token": "refresh-initial"})
	var catalogPath string
	for run, cmd := range []string{"check", "discover", "read", "read"} {
		args := []string{cmd, "--config", cfgPath}
		if cmd == "read" {
			args = append(args, "--catalog", catalogPath)
		}
		code, stdout, stderr := execOAuth(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", cmd, code, stdout, stderr)
		}
		if api.tokenCalls() != run+1 {
			t.Fatalf("%s: %d token requests in all, want one per run", cmd, api.tokenCalls())
		}
		var control []byte
		var kinds []string
		sc := bufio.NewScanner(strings.NewReader(stdout))
		for sc.Scan() {
			line := sc.Bytes()
			validateAirbyteMessage(t, line)
			var m struct {
				Type    string `json:"type"`
				Control *struct {
					Type            string `json:"type"`
					ConnectorConfig struct {
						Config json.RawMessage `json:"config"`
					} `json:"connectorConfig"`
				} `json:"control"`
				Catalog          json.RawMessage         `json:"catalog"`
				ConnectionStatus struct{ Status string } `json:"connectionStatus"`
			}
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("%s: stdout line is not a message: %q", cmd, line)
			}
			kinds = append(kinds, m.Type)
			switch m.Type {
			case "CONTROL":
				if control != nil {
					t.Errorf("%s: two CONTROL messages", cmd)
				}
				control = m.Control.ConnectorConfig.Config
				if m.Control.Type != "CONNECTOR_CONFIG" {
					t.Errorf("control type %q", m.Control.Type)
				}
			case "CATALOG":
				var c struct{ Streams []json.RawMessage }
				json.Unmarshal(m.Catalog, &c)
				var cat bytes.Buffer
				cat.WriteString(`{"streams":[`)
				for i, s := range c.Streams {
					if i > 0 {
						cat.WriteByte(',')
					}
					fmt.Fprintf(&cat, `{"stream":%s,"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}`, s)
				}
				cat.WriteString(`]}`)
				catalogPath = filepath.Join(dir, "catalog.json")
				os.WriteFile(catalogPath, cat.Bytes(), 0o600)
			case "CONNECTION_STATUS":
				if m.ConnectionStatus.Status != "SUCCEEDED" {
					t.Errorf("check: %s", line)
				}
			}
		}
		if control == nil {
			t.Fatalf("%s: no CONTROL message in %v", cmd, kinds)
		}
		var cfg map[string]any
		json.Unmarshal(control, &cfg)
		if want := fmt.Sprintf("refresh-rotated-%d", run+1); cfg["refresh_token"] != want || cfg["client_secret"] != "client-secret-1" || cfg["client_id"] != "cid" {
			t.Errorf("%s: CONTROL config %s, want the whole config with refresh_token %s", cmd, control, want)
		}
		// Apart from the CONTROL message, no run-time token is shown.
		rest := strings.Replace(stdout, string(control), "{}", 1)
		noRunTimeTokens(t, cmd+" stdout", rest)
		noRunTimeTokens(t, cmd+" stderr", stderr)
		if cmd == "read" && !strings.Contains(stdout, `"seen_auth":"Bearer REDACTED"`) {
			t.Errorf("read: the echoed token is not redacted:\n%s", stdout)
		}
		// The platform stores the new config; the next run starts from it.
		if err := os.WriteFile(cfgPath, control, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRevokedRefreshTokenIsAPlainConfigError(t *testing.T) {
	api := newOAuthAPI(t, "refresh-other")
	cfgPath := writeJSONFile(t, t.TempDir(), "config.json", 0o600, map[string]any{
		"token_url": api.srv.URL + "/token", "client_id": "cid", "client_secret": "client-secret-1", "refresh_token": "refresh-initial"})
	t.Run("singer", func(t *testing.T) {
		code, stdout, stderr := execOAuth(t, "--config", cfgPath)
		if code != 1 || stdout != "" {
			t.Fatalf("exit %d, stdout %q", code, stdout)
		}
		if !strings.HasPrefix(stderr, "CRITICAL ") || !strings.Contains(stderr, "the API's token endpoint refused (invalid_grant) the configured credentials: authorise the connector again") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("stderr: %s", stderr)
		}
		noRunTimeTokens(t, "stderr", stderr)
	})
	for _, cmd := range []string{"check", "discover"} {
		t.Run("airbyte "+cmd, func(t *testing.T) {
			_, stdout, stderr := execOAuth(t, cmd, "--config", cfgPath)
			noRunTimeTokens(t, "stdout", stdout)
			noRunTimeTokens(t, "stderr", stderr)
			want := `"failure_type":"config_error"`
			if cmd == "check" {
				want = `"status":"FAILED"`
			}
			if !strings.Contains(stdout, want) || !strings.Contains(stdout, "the API's token endpoint refused (invalid_grant) the configured credentials") {
				t.Errorf("stdout: %s", stdout)
			}
			for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
				validateAirbyteMessage(t, []byte(line))
			}
		})
	}
}

// An API that echoes the token in an error body: the CRITICAL line and the
// TRACE ERROR show it redacted.
func TestTokenEchoedInAnErrorIsRedacted(t *testing.T) {
	api := newOAuthAPI(t, "refresh-initial")
	api.failWith = http.StatusBadRequest
	dir := t.TempDir()
	cfgPath := writeJSONFile(t, dir, "config.json", 0o600, map[string]any{
		"token_url": api.srv.URL + "/token", "client_id": "cid", "client_secret": "client-secret-1", "refresh_token": "refresh-initial"})
	code, stdout, stderr := execOAuth(t, "--config", cfgPath)
	if code != 1 || !strings.Contains(stderr, "400 Bad Request") || !strings.Contains(stderr, "Bearer REDACTED") {
		t.Errorf("exit %d, stderr: %s", code, stderr)
	}
	noRunTimeTokens(t, "stdout", stdout)
	noRunTimeTokens(t, "stderr", stderr)
}

// validateAirbyteMessage checks a stdout line against AirbyteMessage in the
// official protocol schema.
func validateAirbyteMessage(t *testing.T, line []byte) {
	t.Helper()
	if err := airbyteschema.ValidateMessage(line); err != nil {
		t.Errorf("not an AirbyteMessage: %v", err)
	}
}

// Tokens that expire within the renewal margin are renewed before every
// request: with parallel streams, each renewal rotates the refresh token
// and writes a CONTROL message, always a whole line between records, the
// last one holding the token the server will accept next.
func TestAirbyteRotationDuringAParallelRead(t *testing.T) {
	api := newOAuthAPI(t, "refresh-initial")
	api.expires = 30 // under the one-minute margin: renewed on every request
	for i := range 8 {
		api.streams = append(api.streams, fmt.Sprintf("s%d", i))
	}
	dir := t.TempDir()
	cfgPath := writeJSONFile(t, dir, "config.json", 0o600, map[string]any{
		"token_url": api.srv.URL + "/token", "client_id": "cid", "client_secret": "client-secret-1",
		"refresh_token": "refresh-initial", "max_parallel_streams": 4})
	var cat bytes.Buffer
	cat.WriteString(`{"streams":[`)
	for i, name := range api.streams {
		if i > 0 {
			cat.WriteByte(',')
		}
		fmt.Fprintf(&cat, `{"stream":{"name":%q,"json_schema":{"type":"object"},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}`, name)
	}
	cat.WriteString(`]}`)
	catPath := filepath.Join(dir, "catalog.json")
	os.WriteFile(catPath, cat.Bytes(), 0o600)

	code, stdout, stderr := execOAuth(t, "read", "--config", cfgPath, "--catalog", catPath)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var controls []string
	records := 0
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		validateAirbyteMessage(t, []byte(line))
		var m struct {
			Type    string
			Control struct {
				ConnectorConfig struct{ Config map[string]any } `json:"connectorConfig"`
			}
		}
		json.Unmarshal([]byte(line), &m)
		switch m.Type {
		case "CONTROL":
			controls = append(controls, fmt.Sprint(m.Control.ConnectorConfig.Config["refresh_token"]))
		case "RECORD":
			records++
		}
	}
	calls := api.tokenCalls()
	if records != len(api.streams) || len(controls) != calls || calls < len(api.streams)+1 {
		t.Fatalf("%d records, %d CONTROL messages, %d token requests", records, len(controls), calls)
	}
	last := controls[len(controls)-1]
	api.mu.Lock()
	live := api.refresh[last]
	api.mu.Unlock()
	if !live || last != fmt.Sprintf("refresh-rotated-%d", calls) {
		t.Errorf("the last CONTROL holds %s, not the live refresh token (rotations: %v)", last, controls)
	}
}
