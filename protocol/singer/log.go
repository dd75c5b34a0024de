package singer

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/integ/integ/protocol/internal/wire"
	"github.com/integ/integ/requests"
)

// LockedWriter makes line writes from several goroutines whole: logs and
// metrics share stderr.
type LockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewLockedWriter wraps w.
func NewLockedWriter(w io.Writer) *LockedWriter { return &LockedWriter{w: w} }

func (l *LockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// logHandler writes singer-python style lines, "LEVEL message key=value",
// with every config secret redacted.
type logHandler struct {
	w       io.Writer
	level   slog.Leveler
	secrets []string
	attrs   string
}

// NewLogger returns a logger writing Singer log lines to w.
func NewLogger(w io.Writer, level slog.Leveler, secrets []string) *slog.Logger {
	return slog.New(&logHandler{w: w, level: level, secrets: secrets})
}

func (h *logHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(levelName(r.Level))
	b.WriteByte(' ')
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		wire.AppendAttr(&b, a)
		return true
	})
	line := strings.ReplaceAll(requests.Redact(b.String(), h.secrets...), "\n", " ")
	_, err := io.WriteString(h.w, line+"\n")
	return err
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

func (h *logHandler) WithGroup(string) slog.Handler { return h }

// levelName uses Python logging's names, which Singer tooling expects.
func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError+4:
		return "CRITICAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}
