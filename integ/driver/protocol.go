package driver

import (
	"encoding/json"
	"time"
)

// Protocol renders a sync on one wire format. The Singer and Airbyte adapters
// implement it; so can any other format, without touching an integration.
type Protocol interface {
	// Stream returns the encoder for one stream of a sync. It is called
	// once per stream, before any record.
	Stream(s *Stream) StreamEncoder
}

// Stream describes one stream of a sync as the protocol writes it: the
// declaration with the catalog's choices applied.
type Stream struct {
	Name string
	// PrimaryKey lists the key properties; nil when the stream has none.
	PrimaryKey []string
	// ReplicationKey is the bookmark property; empty when the stream has none.
	ReplicationKey string
	// Incremental is set when the stream resumes from its bookmark in this
	// sync (rather than a full refresh).
	Incremental bool
	// Schema is the JSON Schema of the selected properties, encoded.
	Schema json.RawMessage
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

// Framer is an optional StreamEncoder extension for envelopes that put the
// same bytes before and after every record of a page. Frame returns them,
// valid until the next Page call; the engine then writes a page's records
// in one loop, with one allocation check, and Record must equal
// append(append(append(dst, prefix...), rec...), suffix...).
type Framer interface {
	Frame() (prefix, suffix []byte)
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
	// All is the committed state of every stream, this one included, by
	// stream name. It is only valid during the State call, and read-only.
	All map[string]json.RawMessage
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
