package integ

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tidwall/gjson"
)

// Runner fetches one stream's records.
type Runner interface {
	Run(c *HttpContext) error
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(c *HttpContext) error

// Run calls f(c).
func (f RunnerFunc) Run(c *HttpContext) error { return f(c) }

// Stream declares one stream of records. Build it with NewStream.
type Stream struct {
	Name           string
	Description    string
	Schema         *Schema
	PrimaryKey     []string
	ReplicationKey string // empty: full refresh only
	// Sorted says the API returns records in ascending ReplicationKey order,
	// so the bookmark may advance at every checkpoint. Unsorted streams only
	// move their bookmark when the stream completes.
	Sorted bool
	// NotSelectedByDefault leaves the stream out of a sync with no catalog.
	NotSelectedByDefault bool
	// EstimatePath is a gjson path to the total record count in the first
	// page's response, reported to protocols that show progress.
	EstimatePath string
	// Parent names the stream whose records this one's runner is called
	// for (see ChildOf).
	Parent string
	Runner Runner

	fullRefreshFirst bool          // see FullRefreshByDefault
	lookback         time.Duration // see Lookback

	onError     ErrorPolicy
	transforms  []transform
	schemaErr   error
	partitionBy func(parent gjson.Result) string // see PartitionBy
	slices      *sliceSpec                       // see Slices
}

// StreamOption configures a Stream.
type StreamOption func(*Stream)

// NewStream declares a stream whose schema is generated from record's Go
// type (a struct value or pointer). Declaration errors (an unsupported field
// type, a key that is not a property) surface from NewSource's validation.
func NewStream(name string, record any, run RunnerFunc, opts ...StreamOption) *Stream {
	s := &Stream{Name: name, Runner: run}
	if record != nil {
		s.Schema, s.schemaErr = SchemaOf(record)
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// PrimaryKey sets the fields that identify a record.
func PrimaryKey(fields ...string) StreamOption {
	return func(s *Stream) { s.PrimaryKey = fields }
}

// Incremental makes the stream incremental on a replication key: a
// top-level field ("updated_at") or a path into nested objects
// ("attributes.updated"; see SplitKey for names that contain dots).
func Incremental(replicationKey string) StreamOption {
	return func(s *Stream) { s.ReplicationKey = replicationKey }
}

// FullRefreshByDefault makes an incremental stream prefer a full refresh:
// a sync with no catalog, or a catalog that names no mode, reads it whole,
// and a user opts into incremental reads (for an API whose updated-at field
// misses some changes, say, where a periodic full read is the safe default).
func FullRefreshByDefault() StreamOption { return func(s *Stream) { s.fullRefreshFirst = true } }

// Lookback makes an incremental stream start d before its bookmark when
// the bookmark is a time: records changed late, with a replication value
// older than the last sync's greatest, are read again rather than missed.
// The records re-read are not dropped as old; targets deduplicate them by
// primary key. The stored bookmark never moves back.
func Lookback(d time.Duration) StreamOption { return func(s *Stream) { s.lookback = d } }

// Sorted declares that records arrive in ascending replication key order.
func Sorted() StreamOption { return func(s *Stream) { s.Sorted = true } }

// Description documents the stream.
func Description(text string) StreamOption { return func(s *Stream) { s.Description = text } }

// NotSelectedByDefault excludes the stream from a sync run with no catalog.
func NotSelectedByDefault() StreamOption { return func(s *Stream) { s.NotSelectedByDefault = true } }

// EstimateFrom reads the stream's total record count from the first page's
// response at a gjson path (PokeAPI's "count", for one).
func EstimateFrom(path string) StreamOption { return func(s *Stream) { s.EstimatePath = path } }

// JSONSchema gives the stream an explicit JSON Schema instead of one
// generated from a Go type.
func JSONSchema(raw json.RawMessage) StreamOption {
	return func(s *Stream) {
		s.Schema, s.schemaErr = new(Schema), nil
		if err := s.Schema.UnmarshalJSON(raw); err != nil {
			s.schemaErr = err
		}
	}
}

// validate checks a declaration; errors are the integration author's bugs.
func (s *Stream) validate() error {
	if s.Name == "" {
		return fmt.Errorf("stream with no name")
	}
	if s.schemaErr != nil {
		return fmt.Errorf("stream %q: schema: %w", s.Name, s.schemaErr)
	}
	if s.Schema == nil {
		return fmt.Errorf("stream %q: no record type or schema", s.Name)
	}
	if s.Runner == nil {
		return fmt.Errorf("stream %q: no runner", s.Name)
	}
	if s.ReplicationKey == "" && (s.lookback != 0 || s.fullRefreshFirst) {
		return fmt.Errorf("stream %q: Lookback and FullRefreshByDefault need a replication key (Incremental)", s.Name)
	}
	if s.lookback < 0 {
		return fmt.Errorf("stream %q: Lookback(%v) is negative", s.Name, s.lookback)
	}
	if len(s.Schema.Properties) > 0 {
		for _, k := range s.PrimaryKey {
			if s.Schema.Property(k) == nil {
				return fmt.Errorf("stream %q: primary key %q is not a property of its schema", s.Name, k)
			}
		}
		if s.ReplicationKey != "" {
			segs := SplitKey(s.ReplicationKey)
			if _, missing := s.Schema.PropertyPath(segs); missing >= 0 {
				if missing == 0 {
					return fmt.Errorf("stream %q: replication key %q is not a property of its schema", s.Name, s.ReplicationKey)
				}
				return fmt.Errorf("stream %q: replication key %q: %q has no property %q in the stream's schema (escape a dot that is part of a field name as \\.)",
					s.Name, s.ReplicationKey, JoinKey(segs[:missing]...), segs[missing])
			}
		}
	}
	return nil
}

// SyncModes lists the modes the stream supports, the preferred one first.
func (s *Stream) SyncModes() []SyncMode {
	if s.ReplicationKey != "" && s.fullRefreshFirst {
		return []SyncMode{ModeFullRefresh, ModeIncremental}
	}
	if s.ReplicationKey != "" {
		return []SyncMode{ModeIncremental, ModeFullRefresh}
	}
	return []SyncMode{ModeFullRefresh}
}

// AutomaticFields are the top-level fields always synced, whatever the
// selection: the primary key and the field holding the replication key.
func (s *Stream) AutomaticFields() []string {
	out := append([]string(nil), s.PrimaryKey...)
	if s.ReplicationKey != "" {
		if top := SplitKey(s.ReplicationKey)[0]; !slices.Contains(out, top) {
			out = append(out, top)
		}
	}
	return out
}
