package integ

import (
	"context"
	"log/slog"
	"strings"

	"github.com/integ/integ/requests"
)

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
