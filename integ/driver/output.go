package driver

import (
	"io"
	"sync"
)

// Output serialises whole lines from concurrent streams onto one writer, so
// that no line is ever split or interleaved. It keeps the first write error.
type Output struct {
	mu     sync.Mutex
	w      io.Writer
	err    error
	filter func([]byte) []byte
}

// NewOutput wraps w (usually os.Stdout).
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

// SetFilter passes every later Write's lines through f (a session's
// redaction of run-time secrets) before they are written.
func (o *Output) SetFilter(f func([]byte) []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.filter = f
}

// Write writes complete lines in one call.
func (o *Output) Write(lines []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.writeLocked(lines)
}

// WriteUnfiltered writes complete lines as they are, bypassing the filter:
// for the one message that must carry a secret (Airbyte's CONTROL with
// the new config).
func (o *Output) WriteUnfiltered(lines []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	f := o.filter
	o.filter = nil
	defer func() { o.filter = f }()
	return o.writeLocked(lines)
}

// Locked runs fn while no other line can be written, for work that must be
// atomic with its lines (committing state with the message that carries
// it). fn writes through w, which must not be kept.
func (o *Output) Locked(fn func(w func(lines []byte) error) error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return fn(o.writeLocked)
}

func (o *Output) writeLocked(lines []byte) error {
	if o.err != nil {
		return o.err
	}
	if len(lines) == 0 {
		return nil
	}
	if o.filter != nil {
		lines = o.filter(lines)
	}
	_, o.err = o.w.Write(lines)
	return o.err
}

// Err returns the first write error.
func (o *Output) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}
