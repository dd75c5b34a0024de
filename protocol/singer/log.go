package singer

import (
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/integ/integ/protocol/internal/wire"
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

// NewLogger returns a logger writing singer-python style lines to w,
// "LEVEL message key=value", with every config secret redacted.
func NewLogger(w io.Writer, level slog.Leveler, secrets []string) *slog.Logger {
	return slog.New(&wire.LogHandler{Level: level, Secrets: secrets, Emit: func(l slog.Level, line string) error {
		_, err := io.WriteString(w, levelName(l)+" "+strings.ReplaceAll(line, "\n", " ")+"\n")
		return err
	}})
}

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
