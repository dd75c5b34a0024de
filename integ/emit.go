package integ

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Protocol renders a sync on one wire format. The Singer and Airbyte adapters
// implement it; so can any other format, without touching an integration.
type Protocol interface {
	// Stream returns the encoder for one stream's run. It is called once
	// per run, before any record.
	Stream(run *StreamPlan) StreamEncoder
}

// StreamEncoder appends one stream's messages, as whole lines, to dst and
// returns the extended slice (append style, so the record path allocates
// nothing). Calls for one stream come from one goroutine, in order: Start,
// then Page before each page's records, Record, State at checkpoints, End.
type StreamEncoder interface {
	Start(dst []byte) []byte
	// Page announces the extraction time of the records that follow, so
	// timestamps are formatted once a page rather than once a record.
	Page(dst []byte, extractedAt time.Time) []byte
	// Record wraps one record's raw JSON object, unchanged, in the envelope.
	Record(dst []byte, rec []byte) []byte
	// State writes a checkpoint. It is only called once every record it
	// covers has been written.
	State(dst []byte, cp *Checkpoint) []byte
	End(dst []byte, res *StreamResult) []byte
}

// Estimator is an optional StreamEncoder extension for protocols that report
// how many records a stream will have.
type Estimator interface {
	Estimate(dst []byte, rows int64) []byte
}

// Checkpoint is a state checkpoint for one stream.
type Checkpoint struct {
	Stream string
	// Value is the stream's state object; nil when the stream keeps none
	// (a full refresh with no runner state).
	Value json.RawMessage
	// All is the committed state of every stream, this one included. It is
	// only valid during the State call.
	All *State
	// Records counts the records written since the stream's previous
	// checkpoint.
	Records int64
	// Final is set on the checkpoint written when the stream ends.
	Final bool
}

// StreamResult ends a stream's run.
type StreamResult struct {
	Records  int64
	Skipped  int64 // records older than the bookmark, dropped
	Duration time.Duration
	Err      error // nil when the stream completed
}

// Output serialises whole lines from concurrent streams onto one writer, so
// that no line is ever split or interleaved. It keeps the first write error.
type Output struct {
	mu     sync.Mutex
	w      io.Writer
	err    error
	filter func([]byte) []byte
}

// SetFilter passes every later Write's lines through f (a session's
// redaction of run-time secrets) before they are written.
func (o *Output) SetFilter(f func([]byte) []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.filter = f
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

// NewOutput wraps w (usually os.Stdout).
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

// Write writes complete lines in one call.
func (o *Output) Write(lines []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.writeLocked(lines)
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

// discardEncoder is used where records are read but not written (check).
type discardEncoder struct{}

func (discardEncoder) Start(dst []byte) []byte                { return dst }
func (discardEncoder) Page(dst []byte, _ time.Time) []byte    { return dst }
func (discardEncoder) Record(dst []byte, _ []byte) []byte     { return dst }
func (discardEncoder) State(dst []byte, _ *Checkpoint) []byte { return dst }
func (discardEncoder) End(dst []byte, _ *StreamResult) []byte { return dst }
