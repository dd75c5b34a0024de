package integ

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

func TestPatchConfig(t *testing.T) {
	cases := []struct {
		name  string
		doc   string
		patch map[string]string
		want  string
		err   string
	}{
		{"replace in place", "{\n  \"a\": 1,\n  \"refresh_token\": \"old\",\n  \"z\": [1, 2]\n}\n",
			map[string]string{"refresh_token": `"new"`}, "{\n  \"a\": 1,\n  \"refresh_token\": \"new\",\n  \"z\": [1, 2]\n}\n", ""},
		{"append new key", `{"a": 1}`, map[string]string{"b": `true`, "c": `"x"`}, `{"a": 1,"b":true,"c":"x"}`, ""},
		{"empty object", "{ }", map[string]string{"k": `"v"`}, `{ "k":"v"}`, ""},
		{"replace object value", `{"o": {"x": {"y": 1}}, "p": 2}`, map[string]string{"o": `{}`}, `{"o": {}, "p": 2}`, ""},
		{"duplicate key: the last one", `{"k": 1, "k": 2}`, map[string]string{"k": `3`}, `{"k": 1, "k": 3}`, ""},
		{"escaped key", `{"a\"b": "x"}`, map[string]string{`a"b`: `"y"`}, `{"a\"b": "y"}`, ""},
		{"several edits", `{"a":"1","b":"2","c":"3"}`, map[string]string{"a": `"x"`, "c": `"zz"`, "d": `4`}, `{"a":"x","b":"2","c":"zz","d":4}`, ""},
		{"dotted path into an object", `{"credentials": {"type": "oauth", "refresh_token": "old"}, "x": 1}`,
			map[string]string{"credentials.refresh_token": `"new"`}, `{"credentials": {"type": "oauth", "refresh_token": "new"}, "x": 1}`, ""},
		{"dotted path, two members", `{"c": {"a": 1}}`, map[string]string{"c.a": `2`, "c.b": `3`}, `{"c": {"a": 2,"b":3}}`, ""},
		{"dotted path creates objects", `{"x": 1}`, map[string]string{"c.d.e": `true`}, `{"x": 1,"c":{"d":{"e":true}}}`, ""},
		{"a literal dotted name wins", `{"a.b": 1, "a": {"b": 2}}`, map[string]string{"a.b": `9`}, `{"a.b": 9, "a": {"b": 2}}`, ""},
		{"dotted path into a non-object", `{"c": "s"}`, map[string]string{"c.a": `1`}, "", "not a JSON object"},
		{"an object and its member", `{"c": {}}`, map[string]string{"c": `{}`, "c.a": `1`}, "", "and a member of it"},
		{"not an object", `[1]`, map[string]string{"k": `1`}, "", "not a JSON object"},
		{"trailing data", `{"a":1} {}`, map[string]string{"k": `1`}, "", "data after"},
		{"bad value", `{}`, map[string]string{"k": `nope`}, "", "not JSON"},
		{"truncated", `{"a": `, map[string]string{"k": `1`}, "", "not valid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			patch := map[string]json.RawMessage{}
			for k, v := range c.patch {
				patch[k] = json.RawMessage(v)
			}
			got, err := PatchConfig([]byte(c.doc), patch)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func FuzzPatchConfig(f *testing.F) {
	f.Add([]byte(`{"a": 1, "refresh_token": "x"}`), "refresh_token", `"new"`)
	f.Add([]byte(`{}`), "k", `{"x":[1]}`)
	f.Add([]byte(`{"a\u0022": 1, "a\"": 2}`), `a"`, `null`)
	f.Fuzz(func(t *testing.T, doc []byte, key, value string) {
		got, err := PatchConfig(doc, map[string]json.RawMessage{key: json.RawMessage(value)})
		if err != nil {
			return
		}
		var want, have any
		json.Unmarshal([]byte(value), &want)
		json.Unmarshal(lookupRaw(t, got, key), &have)
		wb, _ := json.Marshal(want)
		hb, _ := json.Marshal(have)
		if !bytes.Equal(wb, hb) {
			t.Fatalf("key %q = %s, want %s\n%s", key, hb, value, got)
		}
	})
}

// lookupRaw finds key in doc as PatchConfig places it: a member by that
// name, or else the dotted path.
func lookupRaw(t *testing.T, doc []byte, key string) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatalf("patched config is not an object: %v\n%s", err, doc)
	}
	if v, ok := m[key]; ok {
		return v
	}
	head, rest, _ := strings.Cut(key, ".")
	return lookupRaw(t, m[head], rest)
}

func TestSessionRedactsRunTimeSecretsFromLogs(t *testing.T) {
	var buf bytes.Buffer
	s := NewSession()
	logger := s.WrapLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	early := logger.With("stream", "users")
	s.AddSecret("at-123456")
	s.AddSecret("ab") // too short to redact safely: ignored
	early.Info("got at-123456 back, ab", "err", errors.New("echo at-123456"), "n", 3, slog.Group("g", "tok", "at-123456"))
	out := buf.String()
	if strings.Contains(out, "at-123456") || !strings.Contains(out, "REDACTED") || !strings.Contains(out, "ab") {
		t.Errorf("log line: %s", out)
	}
	if got := s.RedactOutput([]byte(`{"echo":"at-123456"}`)); string(got) != `{"echo":"REDACTED"}` {
		t.Errorf("output: %s", got)
	}
}

func TestSessionUpdateConfig(t *testing.T) {
	src := NewSource("t", struct {
		Token Secret `json:"refresh_token"`
		Name  string `json:"name"`
	}{}, WithStreams(NewStream("s", struct{}{}, func(*HttpContext) error { return nil })))
	cfg, err := src.ParseConfig(json.RawMessage(`{"refresh_token":"old-token","name":"n"}`))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession()
	s.SetConfig(cfg)
	if err := s.UpdateConfig(map[string]any{"refresh_token": "new-token"}); err != nil {
		t.Fatal(err) // no persister: kept for this run
	}
	// A dotted path: the new value of a nested secret is a secret too.
	nestedCfg, err := NewSource("n", struct {
		Creds struct {
			Token Secret `json:"refresh_token"`
		} `json:"credentials"`
	}{}, WithStreams(NewStream("s", struct{}{}, func(*HttpContext) error { return nil }))).ParseConfig(json.RawMessage(`{"credentials":{"refresh_token":"nested-old"}}`))
	if err != nil {
		t.Fatal(err)
	}
	ns := NewSession()
	ns.SetConfig(nestedCfg)
	if err := ns.UpdateConfig(map[string]any{"credentials.refresh_token": "nested-new"}); err != nil {
		t.Fatal(err)
	}
	if got := ns.Redact("nested-new"); got != "REDACTED" || !strings.Contains(string(ns.Config().Raw()), `"refresh_token":"nested-new"`) {
		t.Errorf("nested update: %q, config %s", got, ns.Config().Raw())
	}
	var saved map[string]json.RawMessage
	s.OnConfigUpdate(func(p map[string]json.RawMessage) error { saved = p; return nil })
	if err := s.UpdateConfig(map[string]any{"refresh_token": "newer-token", "name": "m"}); err != nil {
		t.Fatal(err)
	}
	if string(saved["refresh_token"]) != `"newer-token"` || string(saved["name"]) != `"m"` {
		t.Errorf("persisted %s", saved)
	}
	var got struct {
		Token string `json:"refresh_token"`
	}
	s.Config().Decode(&got)
	if got.Token != "newer-token" {
		t.Errorf("config now has %q", got.Token)
	}
	var logged bytes.Buffer
	s.WrapLogger(slog.New(slog.NewTextHandler(&logged, nil))).Info("saw newer-token")
	if strings.Contains(logged.String(), "newer-token") {
		t.Errorf("log shows the new secret: %s", logged.String())
	}
	red := s.Redact("new-token newer-token old-token m")
	if red != "REDACTED REDACTED REDACTED m" {
		t.Errorf("redacted: %q (a new value of a secret key is a secret; of a plain key is not)", red)
	}
	s.OnConfigUpdate(func(map[string]json.RawMessage) error { return errors.New("disk full") })
	if err := s.UpdateConfig(map[string]any{"refresh_token": "x-token"}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v", err)
	}
}

// A source's auth is built once per session, whatever steps run.
func TestSessionBuildsAuthOnce(t *testing.T) {
	var builds, tokens atomic.Int32
	tokSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens.Add(1)
		w.Write([]byte(`{"access_token":"at-abcdef","expires_in":3600,"instance_url":"https://eu1"}`))
	}))
	defer tokSrv.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-abcdef" {
			w.WriteHeader(401)
			return
		}
		w.Write([]byte(`{"id":1,"echo":"at-abcdef"}`))
	}))
	defer api.Close()
	var sawInstance atomic.Value
	src := NewSource("t", struct{}{},
		WithAuth(func(cfg *Config, s *Session) (requests.Authenticator, error) {
			builds.Add(1)
			return requests.OAuth2ClientCredentials(requests.OAuth2Options{TokenURL: tokSrv.URL, ClientID: "c", Doer: s.TokenDoer(),
				OnToken: func(t *requests.Token) { s.Set("instance_url", t.Extra["instance_url"]) }}), nil
		}),
		WithStreams(NewStream("items", struct {
			ID int `json:"id"`
		}{}, func(c *HttpContext) error {
			err := c.EmitObject(requests.New(api.URL))
			sawInstance.Store(fmt.Sprint(c.Value("instance_url")))
			return err
		})))
	cfg, err := src.ParseConfig(json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	sess := NewSession()
	sess.SetConfig(cfg)
	o := HTTPOptions{Session: sess}
	ctx := context.Background()
	if err := src.Check(ctx, cfg, nil, o); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	output := driver.NewOutput(&out)
	output.SetFilter(sess.RedactOutput)
	for range 2 {
		if err := src.Sync(ctx, SyncOptions{Config: cfg, Protocol: &lineProtocol{}, Output: output, HTTP: o}); err != nil {
			t.Fatal(err)
		}
	}
	if builds.Load() != 1 || tokens.Load() != 1 {
		t.Errorf("%d builds, %d token requests; want 1 and 1", builds.Load(), tokens.Load())
	}
	if sawInstance.Load() != "https://eu1" {
		t.Errorf("runner saw instance_url %v", sawInstance.Load())
	}
	if strings.Contains(out.String(), "at-abcdef") || !strings.Contains(out.String(), "REDACTED") {
		t.Errorf("output leaks the access token: %s", out.String())
	}
}

// A run with a session of its own closes the token client's connections
// as well as the API's when it ends.
func TestRunClosesItsSessionsTokenClient(t *testing.T) {
	tokSrv, tokOpen := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"access_token":"at-abcdef","expires_in":3600}`))
	}))
	api, apiOpen := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":1}`))
	}))
	src := NewSource("t", struct{}{},
		WithAuth(func(cfg *Config, s *Session) (requests.Authenticator, error) {
			return requests.OAuth2ClientCredentials(requests.OAuth2Options{TokenURL: tokSrv.URL, ClientID: "c", Doer: s.TokenDoer()}), nil
		}),
		WithStreams(NewStream("items", struct {
			ID int `json:"id"`
		}{}, func(c *HttpContext) error { return c.EmitObject(requests.New(api.URL)) })))
	cfg, err := src.ParseConfig(json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := src.Sync(context.Background(), SyncOptions{Config: cfg, Protocol: &lineProtocol{}, Output: driver.NewOutput(io.Discard)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, m := waitClosed(tokOpen), waitClosed(apiOpen); n != 0 || m != 0 {
		t.Errorf("%d token and %d API connections still open after three runs ended", n, m)
	}
}

func TestAuthErrorsHaveKinds(t *testing.T) {
	s := NewSession()
	s.AddSecret("tok-echoed")
	cases := []struct {
		err  error
		kind FailureKind
		msg  string
	}{
		{&requests.TokenError{Status: 400, Code: "invalid_grant", Description: "tok-echoed revoked"}, ConfigFailure, "refused (invalid_grant) the configured credentials: authorise the connector again"},
		{&requests.TokenError{Status: 401}, ConfigFailure, "refused the configured credentials"},
		{&requests.TokenError{Status: 503}, TransientFailure, "could not get an access token"},
		{&requests.TokenError{Status: 429}, TransientFailure, "could not get an access token"},
		{&requests.TokenError{Status: 400, Code: "invalid_scope"}, ConfigFailure, "could not get an access token"},
		{&requests.TokenError{Status: 200, Description: "the answer has no access_token"}, SystemFailure, "could not get an access token"},
		{requests.ErrNoCredentials, ConfigFailure, "no credentials"},
	}
	for _, c := range cases {
		err := s.authError(c.err)
		if KindOf(err) != c.kind || !strings.Contains(UserMessage(err), c.msg) || !errors.Is(err, ErrAuth) {
			t.Errorf("%v: kind %v, message %q", c.err, KindOf(err), UserMessage(err))
		}
		if strings.Contains(err.Error(), "tok-echoed") {
			t.Errorf("secret in %q", err)
		}
	}
}

// BenchmarkRedactOutput is the session's output filter on one 64 KiB write
// of records (the engine's flush size) holding no secret.
func BenchmarkRedactOutput(b *testing.B) {
	line := []byte(`{"type":"RECORD","stream":"pokemon","record":{"name":"bulbasaur","url":"https://pokeapi.co/api/v2/pokemon/1/"}}` + "\n")
	buf := bytes.Repeat(line, (64<<10)/len(line))
	for _, n := range []int{0, 1, 2} {
		b.Run(strings.Repeat("secret", n)+"-"+string(rune('0'+n)), func(b *testing.B) {
			s := NewSession()
			for i := range n {
				s.AddSecret("eyJhbGciOiJSUzI1NiJ9.token-" + string(rune('a'+i)))
			}
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				s.RedactOutput(buf)
			}
		})
	}
}

func TestRedactOutputFindsEverySecretShape(t *testing.T) {
	for _, sec := range []string{"abcd", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "ya29.a0AfH6SMB-x_y", "00000000-0000-0000", `we"ird:,{}`, "eeeeeeeeeeeeeeeeeeee"} {
		s := NewSession()
		s.AddSecret(sec)
		out := string(s.RedactOutput([]byte(`{"a":"` + sec + `","b":"x` + sec + sec + `"}` + "\n")))
		if strings.Contains(out, sec) || strings.Count(out, "REDACTED") != 3 {
			t.Errorf("%q: %s", sec, out)
		}
	}
}

// A server that quotes the Authorization header back (Basic credentials
// as base64) in its error: the header is redacted like the password.
func TestDerivedCredentialsAreRedacted(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"credentials not accepted","received":%q}`, r.Header.Get("Authorization"))
	}))
	defer api.Close()
	type config struct {
		User     string `json:"user"`
		Password Secret `json:"password"`
	}
	src := NewSource("t", config{},
		WithAuth(func(c config, _ *Session) (requests.Authenticator, error) {
			return requests.Basic(c.User, c.Password.Reveal()), nil
		}),
		WithStreams(NewStream("items", struct {
			ID int `json:"id"`
		}{}, func(c *HttpContext) error { return c.EmitObject(requests.New(api.URL)) })))
	cfg, err := src.ParseConfig(json.RawMessage(`{"user":"ada","password":"pa55word"}`))
	if err != nil {
		t.Fatal(err)
	}
	sess := NewSession()
	sess.SetConfig(cfg)
	var logs bytes.Buffer
	err = src.Sync(context.Background(), SyncOptions{Config: cfg, Protocol: &lineProtocol{}, Output: driver.NewOutput(io.Discard),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), HTTP: HTTPOptions{Session: sess}})
	encoded := base64.StdEncoding.EncodeToString([]byte("ada:pa55word"))
	if err == nil || !strings.Contains(err.Error(), "credentials not accepted") {
		t.Fatalf("err = %v", err)
	}
	if msg := sess.Redact(err.Error() + logs.String()); strings.Contains(msg, encoded) || strings.Contains(msg, "pa55word") {
		t.Errorf("the credentials show: %s", msg)
	}
}
