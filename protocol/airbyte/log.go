package airbyte

import (
	"context"
	"log/slog"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/protocol/internal/wire"
	"github.com/integ/integ/requests"
)

// logHandler writes every log record as one LOG message through the sync's
// Output, so log lines never split or interleave with other messages. Config
// secrets are redacted from the message and its attributes.
type logHandler struct {
	out     *integ.Output
	level   slog.Leveler
	secrets []string
	attrs   string
}

// NewLogger returns a logger writing LOG messages to out.
func NewLogger(out *integ.Output, level slog.Leveler, secrets []string) *slog.Logger {
	return slog.New(&logHandler{out: out, level: level, secrets: secrets})
}

func (h *logHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		wire.AppendAttr(&b, a)
		return true
	})
	msg := requests.Redact(b.String(), h.secrets...)
	return writeMessage(h.out, &Message{Type: "LOG", Log: &LogMessage{Level: levelName(r.Level), Message: msg}})
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		wire.AppendAttr(&b, a)
	}
	c := *h
	c.attrs = b.String()
	return &c
}

// WithGroup keeps attributes flat: LOG messages are one line of text.
func (h *logHandler) WithGroup(string) slog.Handler { return h }

// levelName maps slog levels to the protocol's log levels.
func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError+4:
		return "FATAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARN"
	case l >= slog.LevelInfo:
		return "INFO"
	case l >= slog.LevelDebug:
		return "DEBUG"
	}
	return "TRACE"
}
