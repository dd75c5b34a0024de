package airbyte

import (
	"log/slog"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/protocol/internal/wire"
)

// NewLogger returns a logger writing each log record as one LOG message
// through the sync's Output, so log lines never split or interleave with
// other messages. Config secrets are redacted.
func NewLogger(out *driver.Output, level slog.Leveler, secrets []string) *slog.Logger {
	return slog.New(&wire.LogHandler{Level: level, Secrets: secrets, Emit: func(l slog.Level, line string) error {
		return writeMessage(out, &Message{Type: "LOG", Log: &LogMessage{Level: levelName(l), Message: line}})
	}})
}

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
