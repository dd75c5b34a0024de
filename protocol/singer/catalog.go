package singer

import (
	"encoding/json"
	"fmt"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/protocol/internal/wire"
)

// Catalog is a Singer catalog (the output of --discover, the input of
// --catalog).
type Catalog struct {
	Streams []CatalogEntry `json:"streams"`
}

// CatalogEntry is one stream of a catalog.
type CatalogEntry struct {
	TapStreamID       string        `json:"tap_stream_id"`
	Stream            string        `json:"stream"`
	Schema            *integ.Schema `json:"schema"`
	KeyProperties     []string      `json:"key_properties"`
	ReplicationKey    string        `json:"replication_key,omitempty"`
	ReplicationMethod string        `json:"replication_method,omitempty"`
	Metadata          []Metadata    `json:"metadata"`
	// Selected is the legacy stream-level selection flag.
	Selected *bool `json:"selected,omitempty"`
}

// Metadata is one breadcrumb entry.
type Metadata struct {
	Breadcrumb []string       `json:"breadcrumb"`
	Metadata   map[string]any `json:"metadata"`
}

// Replication methods.
const (
	methodFullTable   = "FULL_TABLE"
	methodIncremental = "INCREMENTAL"
)

// Discover builds the catalog of a source with the standard metadata. Every
// stream selected by default is marked selected, as are all its fields.
func Discover(src *integ.Source) *Catalog {
	c := &Catalog{Streams: []CatalogEntry{}}
	for _, st := range src.Streams {
		method := methodFullTable
		if st.SyncModes()[0] == integ.ModeIncremental { // the preferred mode
			method = methodIncremental
		}
		stream := map[string]any{
			"inclusion":            "available",
			"selected":             !st.NotSelectedByDefault,
			"selected-by-default":  !st.NotSelectedByDefault,
			"table-key-properties": nonNil(st.PrimaryKey),
			"replication-method":   method,
		}
		if st.ReplicationKey != "" {
			stream["replication-key"] = st.ReplicationKey
			stream["valid-replication-keys"] = []string{st.ReplicationKey}
		} else {
			stream["forced-replication-method"] = methodFullTable
		}
		md := []Metadata{{Breadcrumb: []string{}, Metadata: stream}}
		auto := map[string]bool{}
		for _, f := range st.AutomaticFields() {
			auto[f] = true
		}
		for _, p := range st.Schema.Properties {
			inclusion := "available"
			if auto[p.Name] {
				inclusion = "automatic"
			}
			md = append(md, Metadata{
				Breadcrumb: []string{"properties", p.Name},
				Metadata:   map[string]any{"inclusion": inclusion, "selected": true, "selected-by-default": true},
			})
		}
		c.Streams = append(c.Streams, CatalogEntry{
			TapStreamID:       st.Name,
			Stream:            st.Name,
			Schema:            st.Schema,
			KeyProperties:     nonNil(st.PrimaryKey),
			ReplicationKey:    st.ReplicationKey,
			ReplicationMethod: method,
			Metadata:          md,
		})
	}
	return c
}

// ErrCatalog wraps every catalog parsing error.
var ErrCatalog = integ.ErrCatalog

// ParseCatalog reads a Singer catalog into the neutral selection. Streams are
// selected by their metadata's "selected", falling back to the legacy
// stream-level "selected" and then to "selected-by-default". A field is left
// out when its metadata says selected: false or inclusion: unsupported;
// automatic fields are always kept.
func ParseCatalog(data []byte) (*integ.Catalog, error) {
	var c struct {
		Streams *[]json.RawMessage `json:"streams"`
	}
	if err := wire.StrictObject(data, &c); err != nil {
		return nil, catalogError("%s", wire.Explain(err))
	}
	if c.Streams == nil {
		return nil, catalogError(`the catalog has no "streams" array; write one with --discover`)
	}
	out := &integ.Catalog{}
	for i, raw := range *c.Streams {
		var e CatalogEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, catalogError("streams[%d]: %s", i, wire.Explain(err))
		}
		name := e.TapStreamID
		if name == "" {
			name = e.Stream
		}
		if name == "" {
			return nil, catalogError("streams[%d] has neither tap_stream_id nor stream", i)
		}
		cs, selected, err := parseEntry(name, &e)
		if err != nil {
			return nil, err
		}
		if selected {
			out.Streams = append(out.Streams, cs)
		}
	}
	return out, nil
}

func parseEntry(name string, e *CatalogEntry) (integ.CatalogStream, bool, error) {
	cs := integ.CatalogStream{Name: name}
	if e.Schema != nil && len(e.Schema.Properties) > 0 {
		cs.Schema = e.Schema // a listed stream's schema: read need not resolve it
	}
	var streamMD map[string]any
	fieldMD := map[string]map[string]any{}
	for j, m := range e.Metadata {
		switch {
		case len(m.Breadcrumb) == 0:
			streamMD = m.Metadata
		case len(m.Breadcrumb) == 2 && m.Breadcrumb[0] == "properties":
			fieldMD[m.Breadcrumb[1]] = m.Metadata
		case len(m.Breadcrumb) > 2 && m.Breadcrumb[0] == "properties":
			// nested properties: selection is per top-level field
		default:
			return cs, false, catalogError("stream %q: metadata[%d] has an unknown breadcrumb %v", name, j, m.Breadcrumb)
		}
	}
	selected, err := firstBool(name, "selected", streamMD["selected"], e.Selected, schemaSelected(e.Schema), streamMD["selected-by-default"])
	if err != nil {
		return cs, false, err
	}
	method, _ := streamMD["replication-method"].(string)
	if method == "" {
		method = e.ReplicationMethod
	}
	switch method {
	case "":
	case methodFullTable:
		cs.Mode = integ.ModeFullRefresh
	case methodIncremental:
		cs.Mode = integ.ModeIncremental
	case "LOG_BASED":
		return cs, false, catalogError("stream %q: replication-method LOG_BASED is not supported; use INCREMENTAL or FULL_TABLE", name)
	default:
		return cs, false, catalogError("stream %q: unknown replication-method %q (use INCREMENTAL or FULL_TABLE)", name, method)
	}
	if key, _ := streamMD["replication-key"].(string); key != "" {
		cs.Cursor = key
	} else if e.ReplicationKey != "" {
		cs.Cursor = e.ReplicationKey
	}
	if e.Schema != nil && len(e.Schema.Properties) > 0 {
		cs.Fields = []string{}
		for _, p := range e.Schema.Properties {
			md := fieldMD[p.Name]
			if md["inclusion"] == "unsupported" {
				continue
			}
			if md["inclusion"] != "automatic" {
				sel, err := firstBool(name+"."+p.Name, "selected", md["selected"], nil, schemaSelected(p.Schema), md["selected-by-default"])
				if err != nil {
					return cs, false, err
				}
				if !sel && (md["selected"] != nil || md["selected-by-default"] != nil || schemaSelected(p.Schema) != nil) {
					continue
				}
			}
			cs.Fields = append(cs.Fields, p.Name)
		}
	}
	return cs, selected, nil
}

// schemaSelected reads the legacy "selected" keyword inside a schema.
func schemaSelected(s *integ.Schema) any {
	if s == nil || s.Extra == nil {
		return nil
	}
	raw, ok := s.Extra["selected"]
	if !ok {
		return nil
	}
	var b bool
	if json.Unmarshal(raw, &b) != nil {
		return string(raw)
	}
	return b
}

// firstBool returns the first set value; a non-boolean is an error.
func firstBool(where, key string, vals ...any) (bool, error) {
	for _, v := range vals {
		switch b := v.(type) {
		case nil:
			continue
		case *bool:
			if b == nil {
				continue
			}
			return *b, nil
		case bool:
			return b, nil
		default:
			return false, catalogError("%s: %q must be true or false, got %v", where, key, v)
		}
	}
	return false, nil
}

func catalogError(format string, args ...any) error {
	return &integ.Error{Kind: integ.ConfigFailure, Msg: "invalid catalog: " + fmt.Sprintf(format, args...), Err: integ.ErrCatalog}
}
