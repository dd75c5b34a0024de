package airbyte

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/protocol/internal/wire"
)

// Catalog is an AirbyteCatalog: the payload of discover's CATALOG message.
type Catalog struct {
	Streams []Stream `json:"streams"`
}

// Stream is an AirbyteStream.
type Stream struct {
	Name                    string           `json:"name"`
	Namespace               string           `json:"namespace,omitempty"`
	JSONSchema              *integ.Schema    `json:"json_schema"`
	SupportedSyncModes      []integ.SyncMode `json:"supported_sync_modes"`
	SourceDefinedCursor     bool             `json:"source_defined_cursor"`
	DefaultCursorField      []string         `json:"default_cursor_field,omitempty"`
	SourceDefinedPrimaryKey [][]string       `json:"source_defined_primary_key,omitempty"`
	// IsResumable is true for incremental streams: a failed sync resumes
	// from their last state.
	IsResumable bool `json:"is_resumable"`
}

// Discover builds the catalog of a source. integ's cursors and primary keys
// are source-defined; a nested cursor is its path segments.
func Discover(src *integ.Source) *Catalog {
	c := &Catalog{Streams: []Stream{}}
	for _, st := range src.Streams {
		s := Stream{
			Name:               st.Name,
			JSONSchema:         st.Schema,
			SupportedSyncModes: st.SyncModes(),
		}
		if st.ReplicationKey != "" {
			s.SourceDefinedCursor = true
			s.DefaultCursorField = integ.SplitKey(st.ReplicationKey) // a nested key as its path segments
			s.IsResumable = true
		}
		for _, k := range st.PrimaryKey {
			s.SourceDefinedPrimaryKey = append(s.SourceDefinedPrimaryKey, []string{k})
		}
		c.Streams = append(c.Streams, s)
	}
	return c
}

// Namespaces maps a configured stream's name to its namespace.
type Namespaces map[string]string

// configuredCatalog is the input of read: a ConfiguredAirbyteCatalog.
type configuredCatalog struct {
	Streams *[]json.RawMessage `json:"streams"`
}

type configuredStream struct {
	Stream *struct {
		Name       *string         `json:"name"`
		Namespace  string          `json:"namespace"`
		JSONSchema json.RawMessage `json:"json_schema"`
	} `json:"stream"`
	SyncMode            *string  `json:"sync_mode"`
	DestinationSyncMode string   `json:"destination_sync_mode"`
	CursorField         []string `json:"cursor_field"`
}

// ParseCatalog reads a configured catalog into the neutral selection (every
// stream in it is selected, in its sync mode and cursor; its fields are the
// properties of the stream's json_schema) and the namespaces it gives
// streams. Errors are config_errors saying what to fix. Whether the streams
// and modes exist is checked against the source when the read starts.
func ParseCatalog(data []byte) (*integ.Catalog, Namespaces, error) {
	var c configuredCatalog
	if err := wire.StrictObject(data, &c); err != nil {
		return nil, nil, catalogError("%s", wire.Explain(err))
	}
	if c.Streams == nil {
		return nil, nil, catalogError(`the catalog has no "streams" array; build it from the discover command's catalog`)
	}
	out := &integ.Catalog{Streams: []integ.CatalogStream{}}
	ns := Namespaces{}
	for i, raw := range *c.Streams {
		cs, namespace, err := parseConfiguredStream(i, raw)
		if err != nil {
			return nil, nil, err
		}
		if namespace != "" {
			ns[cs.Name] = namespace
		}
		out.Streams = append(out.Streams, cs)
	}
	return out, ns, nil
}

func parseConfiguredStream(i int, raw json.RawMessage) (integ.CatalogStream, string, error) {
	var cs integ.CatalogStream
	var s configuredStream
	if err := wire.StrictObject(raw, &s); err != nil {
		return cs, "", catalogError("streams[%d] is not a configured stream: %s", i, wire.Explain(err))
	}
	if s.Stream == nil || s.Stream.Name == nil || *s.Stream.Name == "" {
		return cs, "", catalogError(`streams[%d] has no "stream" with a "name"`, i)
	}
	cs.Name = *s.Stream.Name
	switch {
	case s.SyncMode == nil:
		cs.Mode = integ.ModeFullRefresh // the protocol's default
	case *s.SyncMode == string(integ.ModeFullRefresh), *s.SyncMode == string(integ.ModeIncremental):
		cs.Mode = integ.SyncMode(*s.SyncMode)
	default:
		return cs, "", catalogError("stream %q: unknown sync_mode %q (use full_refresh or incremental)", cs.Name, *s.SyncMode)
	}
	if cs.Mode == integ.ModeIncremental {
		if len(s.CursorField) > 0 {
			cs.Cursor = integ.JoinKey(s.CursorField...) // path segments, as discover wrote them
		}
	}
	if t := bytes.TrimSpace(s.Stream.JSONSchema); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		var schema integ.Schema
		if err := schema.UnmarshalJSON(t); err != nil {
			return cs, "", catalogError("stream %q: json_schema: %s", cs.Name, wire.Explain(err))
		}
		if len(schema.Properties) > 0 {
			cs.Fields = schema.PropertyNames()
			cs.Schema = &schema // a listed stream's schema: read need not resolve it
		}
	}
	return cs, s.Stream.Namespace, nil
}

func catalogError(format string, args ...any) error {
	return &integ.Error{Kind: integ.ConfigFailure, Msg: "invalid catalog: " + fmt.Sprintf(format, args...), Err: integ.ErrCatalog}
}
