package integ

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	"github.com/integ/integ/integ/driver"
)

// SyncMode is how a stream is read.
type SyncMode string

// The sync modes. Protocols translate them (Singer's FULL_TABLE and
// INCREMENTAL replication methods, Airbyte's full_refresh and incremental).
const (
	ModeFullRefresh SyncMode = "full_refresh"
	ModeIncremental SyncMode = "incremental"
)

// Catalog is the protocol-neutral selection of what to sync: the streams,
// each with its mode and selected fields. A nil *Catalog means "every stream
// selected by default, in its preferred mode, with all fields".
type Catalog struct {
	Streams []CatalogStream
}

// CatalogStream selects one stream.
type CatalogStream struct {
	Name string
	Mode SyncMode // empty: the stream's preferred mode
	// Cursor is the replication key the catalog asks for; empty means the
	// stream's own. integ's cursors are source-defined, so any other value is
	// an error.
	Cursor string
	// Fields are the selected top-level properties; nil selects them all.
	// The primary key and replication key are always included.
	Fields []string
	// Schema is the stream's schema as the catalog gives it (Airbyte's
	// json_schema, Singer's schema), or nil. A listed stream with no
	// schema of its own takes it, so read need not resolve it again.
	Schema *Schema
}

// StreamPlan is one stream as planned for a sync: the declaration, the mode
// and the schema of the selected fields.
type StreamPlan struct {
	Stream *Stream
	Mode   SyncMode
	// Schema has only the selected properties.
	Schema *Schema
	// Fields lists the selected properties, or nil when all are selected.
	Fields []string
}

// Incremental reports whether the run reads incrementally.
func (r *StreamPlan) Incremental() bool { return r.Mode == ModeIncremental }

// describe is the plan as a protocol sees it.
func (r *StreamPlan) describe(logger *slog.Logger) *driver.Stream {
	schema, err := json.Marshal(r.Schema)
	if err != nil { // only a broken explicit schema gets here: say so, stay valid
		logger.Warn("the stream's schema cannot be encoded; protocols get an empty schema", "stream", r.Stream.Name, "error", err)
		schema = []byte("{}")
	}
	return &driver.Stream{Name: r.Stream.Name, PrimaryKey: r.Stream.PrimaryKey, ReplicationKey: r.Stream.ReplicationKey,
		Incremental: r.Incremental(), Schema: schema}
}

// DefaultCatalog selects every stream that is selected by default.
func (s *Source) DefaultCatalog() *Catalog {
	c := &Catalog{}
	for _, st := range s.Streams {
		if !st.NotSelectedByDefault {
			c.Streams = append(c.Streams, CatalogStream{Name: st.Name})
		}
	}
	return c
}

// Plan checks a catalog against the source's streams and returns the runs in
// catalog order. Errors wrap ErrCatalog and say what to fix.
func (s *Source) Plan(c *Catalog) ([]*StreamPlan, error) {
	if c == nil {
		c = s.DefaultCatalog()
	}
	seen := map[string]bool{}
	var runs []*StreamPlan
	for _, cs := range c.Streams {
		st := s.Stream(cs.Name)
		if st == nil {
			return nil, &Error{Kind: ConfigFailure,
				Msg: fmt.Sprintf("catalog selects stream %q, which this source does not have (streams: %v); run discovery again", cs.Name, s.StreamNames()),
				Err: ErrCatalog}
		}
		if seen[cs.Name] {
			return nil, &Error{Kind: ConfigFailure, Msg: fmt.Sprintf("catalog selects stream %q twice", cs.Name), Err: ErrCatalog}
		}
		seen[cs.Name] = true
		mode := cs.Mode
		if mode == "" {
			mode = st.SyncModes()[0]
		}
		if !slices.Contains(st.SyncModes(), mode) {
			return nil, &Error{Kind: ConfigFailure,
				Msg: fmt.Sprintf("stream %q does not support sync mode %q (supported: %v)", cs.Name, mode, st.SyncModes()),
				Err: ErrCatalog}
		}
		if mode == ModeIncremental && cs.Cursor != "" && cs.Cursor != st.ReplicationKey {
			return nil, &Error{Kind: ConfigFailure,
				Msg: fmt.Sprintf("stream %q: cursor field %q is not supported; its cursor is source-defined: %q", cs.Name, cs.Cursor, st.ReplicationKey),
				Err: ErrCatalog}
		}
		run := &StreamPlan{Stream: st, Mode: mode, Schema: st.Schema}
		if cs.Fields != nil && len(st.Schema.Properties) > 0 {
			run.Fields = selectedFields(st, cs.Fields)
			if len(run.Fields) == len(st.Schema.Properties) {
				run.Fields = nil // everything selected: no filtering on the record path
			} else {
				run.Schema = st.Schema.Select(run.Fields)
			}
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// selectedFields keeps the schema's order, adds automatic fields and drops
// names the schema does not have (an older catalog may name them).
func selectedFields(st *Stream, fields []string) []string {
	want := map[string]bool{}
	for _, f := range fields {
		want[f] = true
	}
	for _, f := range st.AutomaticFields() {
		want[f] = true
	}
	var out []string
	for _, p := range st.Schema.Properties {
		if want[p.Name] {
			out = append(out, p.Name)
		}
	}
	return out
}
