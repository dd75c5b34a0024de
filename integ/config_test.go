package integ

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testSource(t testing.TB) *Source {
	t.Helper()
	type rec struct {
		ID int `json:"id"`
	}
	src := NewSource("sample", sampleConfig{}, WithStreams(NewStream("items", rec{}, func(*HttpContext) error { return nil })))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestParseConfig(t *testing.T) {
	src := testSource(t)
	cases := []struct {
		name    string
		in      string
		wantErr []string // substrings of the error
	}{
		{"minimal with defaults", `{"api_key":"k"}`, nil},
		{"all set", `{"api_key":"k","base_url":"http://x.test/api","page_size":5,"order":"desc","start_date":"2024-01-01T00:00:00Z","ratio":1}`, nil},
		{"missing required", `{}`, []string{`"(top level)"`, "api_key"}},
		{"wrong type", `{"api_key":"k","page_size":"ten"}`, []string{`field "page_size"`, "want integer"}},
		{"below minimum", `{"api_key":"k","page_size":0}`, []string{`field "page_size"`, "minimum"}},
		{"enum", `{"api_key":"k","order":"up"}`, []string{`field "order"`}},
		{"bad uri", `{"api_key":"k","base_url":"not a url"}`, []string{`field "base_url"`}},
		{"bad date-time", `{"api_key":"k","start_date":"yesterday"}`, []string{`field "start_date"`}},
		{"not an object", `[1]`, []string{"not a JSON object"}},
		{"invalid json", `{"api_key":`, []string{"not a JSON object"}},
		{"null", `null`, []string{"not a JSON object"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := src.ParseConfig(json.RawMessage(c.in))
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				var v sampleConfig
				if err := cfg.Decode(&v); err != nil {
					t.Fatal(err)
				}
				if v.PageSize == 0 || v.BaseURL == "" || v.Order == "" {
					t.Errorf("defaults not applied: %+v", v)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrConfig) || KindOf(err) != ConfigFailure {
				t.Errorf("error %v is not a config failure", err)
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDefaultsKeepUserValues(t *testing.T) {
	cfg, err := testSource(t).ParseConfig(json.RawMessage(`{"api_key":"k","page_size":7}`))
	if err != nil {
		t.Fatal(err)
	}
	var v sampleConfig
	cfg.Decode(&v)
	if v.PageSize != 7 || v.BaseURL != "https://example.com" || v.Ratio != 0.5 {
		t.Errorf("got %+v", v)
	}
}

func TestConfigSecretsAreCollectedAndRedacted(t *testing.T) {
	cfg, err := testSource(t).ParseConfig(json.RawMessage(`{"api_key":"s3cr3t-value","extra_token":"tok-123"}`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cfg.Secrets(), ",")
	if !strings.Contains(got, "s3cr3t-value") || !strings.Contains(got, "tok-123") {
		t.Errorf("secrets = %q", got)
	}
	var v sampleConfig
	cfg.Decode(&v)
	for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%+v %#v %s %q %x", v, v, v.APIKey, v.APIKey, v.APIKey)} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("secret leaked through fmt: %s", s)
		}
	}
	b, _ := json.Marshal(v)
	if strings.Contains(string(b), "s3cr3t") {
		t.Errorf("secret leaked through JSON: %s", b)
	}
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("cfg", "key", v.APIKey, "cfg", v)
	if strings.Contains(sb.String(), "s3cr3t") {
		t.Errorf("secret leaked through slog: %s", sb.String())
	}
	if v.APIKey.Reveal() != "s3cr3t-value" {
		t.Error("Reveal must return the value")
	}
}

func TestUnknownConfigKeys(t *testing.T) {
	src := testSource(t)
	cfg, _ := src.ParseConfig(json.RawMessage(`{"api_key":"k","page_sise":3}`))
	if got := src.UnknownConfigKeys(cfg); len(got) != 1 || got[0] != "page_sise" {
		t.Errorf("unknown keys = %v", got)
	}
}

func TestReadConfigFilesMergesInOrder(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.json")
	b := filepath.Join(dir, "b.json")
	os.WriteFile(a, []byte(`{"api_key":"one","page_size":1}`), 0o600)
	os.WriteFile(b, []byte(`{"api_key":"two"}`), 0o600)
	raw, err := ReadConfigFiles(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	if m["api_key"] != "two" || m["page_size"] != float64(1) {
		t.Errorf("merged = %s", raw)
	}

	_, err = ReadConfigFiles(filepath.Join(dir, "missing.json"))
	if err == nil || !strings.Contains(err.Error(), "missing.json") || KindOf(err) != ConfigFailure {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n  \"a\": 1,\n  oops\n}"), 0o600)
	_, err = ReadConfigFiles(bad)
	if err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("invalid JSON should name the file and line: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	src := testSource(f)
	for _, seed := range []string{`{"api_key":"k"}`, `{"api_key":"k","page_size":"x"}`, `{}`, `[]`, `{"api_key":"k","start_date":"2024-01-01T00:00:00Z"}`, "{\"a\":\x00}"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := src.ParseConfig(data)
		if err != nil {
			if KindOf(err) != ConfigFailure {
				t.Fatalf("rejection of %q is not a config failure: %v", data, err)
			}
			return
		}
		var v sampleConfig
		if err := cfg.Decode(&v); err != nil {
			t.Fatalf("validated config %s does not decode: %v", cfg.Raw(), err)
		}
	})
}

func FuzzMergeConfigs(f *testing.F) {
	f.Add([]byte(`{"a":1}`), []byte(`{"a":2,"b":[1]}`))
	f.Add([]byte(`{`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		out, err := MergeConfigs(nil, a, b)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("merged output is not JSON: %s", out)
		}
	})
}
