package integ

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// secretShapes place a secret in every kind of wrong config: a pattern, a
// length, a wrong type, a wrong or missing oneOf method, an unknown key, a
// non-secret field next to it.
var secretShapes = []func(secret string) any{
	func(s string) any { return obj("credentials", obj("auth_type", "access_token", "access_token", s)) },
	func(s string) any {
		return obj("credentials", obj("auth_type", "oauth2.0", "client_id", "id", "client_secret", s, "refresh_token", s))
	},
	func(s string) any {
		return obj("credentials", obj("auth_type", "access_token", "access_token", "sk_ok"), "api_key", s)
	},
	func(s string) any { return obj("credentials", obj("auth_type", "basic", "access_token", s)) },
	func(s string) any {
		return obj("credentials", obj("auth_type", "access_token", "access_token", []any{s}))
	},
	func(s string) any { return obj("credentials", obj("client_secret", s, "refresh_token", s)) },
	func(s string) any {
		return obj("credentials", obj("auth_type", "access_token", "access_token", s), s, 1, "region", 7)
	},
	func(s string) any {
		return obj("credentials", obj("auth_type", "access_token", "access_token", s), "region", s)
	},
	func(s string) any {
		return obj("credentials", obj("auth_type", s, "access_token", s))
	},
	func(s string) any {
		return obj("credentials", obj("auth_type", "oauth2.0", "client_id", 5, "client_secret", s, "refresh_token", map[string]any{"x": s}))
	},
	func(s string) any { return obj("credentials", s, "api_key", s) },
}

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// vocabulary is text an error may hold anyway: a secret found in it (the
// secret "field", say) proves nothing.
func vocabulary(t testing.TB, src *Source) string {
	fixed := fixedPhrases(src)
	if strings.Contains(fixed, "_placeholder") {
		t.Fatalf("a placeholder secret shows in an error: %s", fixed)
	}
	schema, err := json.Marshal(src.ConfigSchema())
	if err != nil {
		t.Fatal(err)
	}
	return string(schema) + "0123456789 config is invalid: field (top level) the secret value does not match the expected pattern " +
		"is not one of the allowed values is a string number array object boolean null integer, want is too short: want at least characters " +
		"too long: want at most must name one of the methods; got another value it is missing missing property properties " +
		"value must be one of got want this does not fit a config is not a JSON object REDACTED" + fixed
}

// fixedPhrases are the errors every shape gives with placeholder secrets:
// the wording (quoted enum values, property names) that does not come from
// the secret.
func fixedPhrases(src *Source) string {
	var b strings.Builder
	for _, shape := range secretShapes {
		for _, placeholder := range []string{"P", "pk_placeholder", "sk_placeholder_value_long_enough"} {
			raw, _ := json.Marshal(shape(placeholder))
			if _, err := src.ParseConfig(raw); err != nil {
				b.WriteString(" " + err.Error())
			}
		}
	}
	return b.String()
}

// leaks reports whether text shows secret, raw or escaped.
func leaks(text, secret string) bool {
	if strings.Contains(text, secret) {
		return true
	}
	q := strconv.Quote(secret)
	if q = q[1 : len(q)-1]; q != secret && strings.Contains(text, q) {
		return true
	}
	j, _ := json.Marshal(secret)
	if js := string(j[1 : len(j)-1]); js != secret && strings.Contains(text, js) {
		return true
	}
	return false
}

func FuzzConfigErrorsHideSecrets(f *testing.F) {
	src := authSource(f)
	vocab := vocabulary(f, src)
	for _, s := range []string{"pk_live_9f8e7d", "rt", "x", "sk_ok", `a"b<c>&d`, "é€secret", "oauth2.0", "12345678901", "line\nbreak"} {
		for shape := range secretShapes {
			f.Add(s, uint8(shape))
		}
	}
	f.Fuzz(func(t *testing.T, secret string, shape uint8) {
		if secret == "" || strings.Contains(vocab, secret) || leaks(vocab, secret) {
			t.Skip()
		}
		raw, err := json.Marshal(secretShapes[int(shape)%len(secretShapes)](secret))
		if err != nil {
			t.Skip() // invalid UTF-8 is replaced by encoding/json: not this secret any more
		}
		cfg, err := src.ParseConfig(raw)
		if err != nil {
			if leaks(err.Error(), secret) || leaks(UserMessage(err), secret) {
				t.Fatalf("config %s: error shows the secret %q: %v", raw, secret, err)
			}
			if KindOf(err) != ConfigFailure {
				t.Fatalf("config %s: not a config failure: %v", raw, err)
			}
			return
		}
		if keys := strings.Join(src.UnknownConfigKeys(cfg), " "); leaks(keys, secret) {
			t.Fatalf("config %s: unknown-key warning shows the secret: %s", raw, keys)
		}
		var v authConfig
		if err := cfg.Decode(&v); err != nil {
			t.Fatalf("config %s validates but does not decode: %v", raw, err)
		}
	})
}
