package airbyte_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/protocol/airbyte"
)

func TestParseCatalog(t *testing.T) {
	const schema = `{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}}}`
	tests := []struct {
		name    string
		in      string
		want    []integ.CatalogStream
		ns      airbyte.Namespaces
		wantErr string
	}{
		{"full refresh with fields",
			`{"streams":[{"stream":{"name":"users","json_schema":` + schema + `,"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`,
			[]integ.CatalogStream{{Name: "users", Mode: integ.ModeFullRefresh, Fields: []string{"id", "name"}}}, airbyte.Namespaces{}, ""},
		{"incremental with cursor and namespace",
			`{"streams":[{"stream":{"name":"events","namespace":"app","json_schema":{}},"sync_mode":"incremental","cursor_field":["updated_at"],"destination_sync_mode":"append"}]}`,
			[]integ.CatalogStream{{Name: "events", Mode: integ.ModeIncremental, Cursor: "updated_at"}}, airbyte.Namespaces{"events": "app"}, ""},
		{"no sync_mode is full_refresh", `{"streams":[{"stream":{"name":"a"}}]}`,
			[]integ.CatalogStream{{Name: "a", Mode: integ.ModeFullRefresh}}, airbyte.Namespaces{}, ""},
		{"cursor ignored in full refresh", `{"streams":[{"stream":{"name":"a"},"sync_mode":"full_refresh","cursor_field":["x","y"]}]}`,
			[]integ.CatalogStream{{Name: "a", Mode: integ.ModeFullRefresh}}, airbyte.Namespaces{}, ""},
		{"empty streams", `{"streams":[]}`, []integ.CatalogStream{}, airbyte.Namespaces{}, ""},
		{"unknown sync mode", `{"streams":[{"stream":{"name":"a"},"sync_mode":"cdc"}]}`, nil, nil, `unknown sync_mode "cdc"`},
		{"nested cursor is a path", `{"streams":[{"stream":{"name":"a"},"sync_mode":"incremental","cursor_field":["attributes","updated"]}]}`,
			[]integ.CatalogStream{{Name: "a", Mode: integ.ModeIncremental, Cursor: "attributes.updated"}}, airbyte.Namespaces{}, ""},
		{"dotted segment is escaped", `{"streams":[{"stream":{"name":"a"},"sync_mode":"incremental","cursor_field":["meta.data","at"]}]}`,
			[]integ.CatalogStream{{Name: "a", Mode: integ.ModeIncremental, Cursor: `meta\.data.at`}}, airbyte.Namespaces{}, ""},
		{"no name", `{"streams":[{"stream":{},"sync_mode":"full_refresh"}]}`, nil, nil, "name"},
		{"stream not an object", `{"streams":[1]}`, nil, nil, "streams[0]"},
		{"bad json_schema", `{"streams":[{"stream":{"name":"a","json_schema":{"properties":[]}}}]}`, nil, nil, "json_schema"},
		{"a bare list", `[{"stream":{"name":"a"}}]`, nil, nil, "expected a JSON object, got an array"},
		{"no streams", `{}`, nil, nil, `no "streams"`},
		{"trailing data", `{"streams":[]} {}`, nil, nil, "trailing"},
		{"empty", ``, nil, nil, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ns, err := airbyte.ParseCatalog([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if !errors.Is(err, integ.ErrCatalog) || integ.KindOf(err) != integ.ConfigFailure {
					t.Errorf("err %v is not a config_error about the catalog", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range got.Streams {
				// The catalog's schema is carried (for listed streams) when
				// it has properties, which are then the selected fields.
				cs := &got.Streams[i]
				if (cs.Schema != nil) != (len(cs.Fields) > 0) {
					t.Errorf("stream %q: schema %v with fields %v", cs.Name, cs.Schema, cs.Fields)
				} else if cs.Schema != nil && !reflect.DeepEqual(cs.Schema.PropertyNames(), cs.Fields) {
					t.Errorf("stream %q: schema properties %v, want %v", cs.Name, cs.Schema.PropertyNames(), cs.Fields)
				}
				cs.Schema = nil
			}
			if !reflect.DeepEqual(got.Streams, tt.want) || !reflect.DeepEqual(ns, tt.ns) {
				t.Errorf("got %+v %v, want %+v %v", got.Streams, ns, tt.want, tt.ns)
			}
		})
	}
}

func TestParseState(t *testing.T) {
	stream := func(name, state string) string {
		return `{"type":"STREAM","stream":{"stream_descriptor":{"name":"` + name + `"},"stream_state":` + state + `},"sourceStats":{"recordCount":2.0}}`
	}
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{"empty file", "", map[string]string{}, ""},
		{"null", "null", map[string]string{}, ""},
		{"empty array", "[]", map[string]string{}, ""},
		{"empty object", "{}", map[string]string{}, ""},
		{"stream states", "[" + stream("a", `{"cursor": 1}`) + "," + stream("b", `{"x":"y"}`) + "]",
			map[string]string{"a": `{"cursor":1}`, "b": `{"x":"y"}`}, ""},
		{"no-cursor marker dropped", "[" + stream("a", `{"__ab_no_cursor_state_message":true}`) + "," + stream("b", `{"__ab_no_cursor_state_message":true,"page":3}`) + "]",
			map[string]string{"b": `{"page":3}`}, ""},
		{"null stream state", "[" + stream("a", "null") + "]", map[string]string{}, ""},
		{"single message", stream("a", `{"c":1}`), map[string]string{"a": `{"c":1}`}, ""},
		{"global", `[{"type":"GLOBAL","global":{"shared_state":{"lsn":1},"stream_states":[{"stream_descriptor":{"name":"a"},"stream_state":{"c":2}}]}}]`,
			map[string]string{"a": `{"c":2}`}, ""},
		{"legacy message", `{"type":"LEGACY","data":{"a":{"c":3}}}`, map[string]string{"a": `{"c":3}`}, ""},
		{"legacy message in array", `[{"data":{"a":{"c":3}}}]`, map[string]string{"a": `{"c":3}`}, ""},
		{"legacy object", `{"a":{"c":4},"type":{"c":5}}`, map[string]string{"a": `{"c":4}`, "type": `{"c":5}`}, ""},
		{"untyped stream message", `[{"stream":{"stream_descriptor":{"name":"a"},"stream_state":{"c":6}}}]`, map[string]string{"a": `{"c":6}`}, ""},
		{"STREAM without stream", `[{"type":"STREAM"}]`, nil, `no "stream"`},
		{"GLOBAL without global", `[{"type":"GLOBAL"}]`, nil, `no "global"`},
		{"unknown type", `[{"type":"PER_STREAM"}]`, nil, "unknown type"},
		{"no descriptor", `[{"type":"STREAM","stream":{"stream_state":{}}}]`, nil, "stream_descriptor"},
		{"state not an object", "[" + stream("a", `[1]`) + "]", nil, "must be a JSON object"},
		{"legacy value not an object", `{"a":1}`, nil, "must be a JSON object"},
		{"a string", `"x"`, nil, "must be an array"},
		{"broken", `[{"type":`, nil, "not a JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := airbyte.ParseState([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if integ.KindOf(err) != integ.ConfigFailure {
					t.Errorf("err %v is not a config_error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, n := range st.Names() {
				got[n] = string(st.Stream(n))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// The state a read writes is the state the next read accepts.
func TestStateRoundTrip(t *testing.T) {
	p := airbyte.NewProtocol(nil, fixedNow)
	e := p.Stream(streamRun(t, true))
	value := json.RawMessage(`{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:00:00Z"}`)
	line := e.State(nil, &driver.Checkpoint{Value: value, Final: true})
	var m struct {
		State json.RawMessage `json:"state"`
	}
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	st, err := airbyte.ParseState([]byte("[" + string(m.State) + "]"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(st.Stream(`odd "name"`)); got != string(value) {
		t.Errorf("round trip: %s, want %s", got, value)
	}
}

// Fuzz targets: whatever the user's file holds, the parsers return a
// config_error or a result, never panic, and what they accept is sound.

func FuzzParseCatalog(f *testing.F) {
	for _, s := range []string{
		`{"streams":[{"stream":{"name":"users","json_schema":{"properties":{"id":{}}}},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`,
		`{"streams":[{"stream":{"name":"e","namespace":"n"},"sync_mode":"incremental","cursor_field":["u"]}]}`,
		`{"streams":[]}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, ns, err := airbyte.ParseCatalog(data)
		if err != nil {
			if integ.KindOf(err) != integ.ConfigFailure || !errors.Is(err, integ.ErrCatalog) {
				t.Fatalf("error %v is not a catalog config_error", err)
			}
			return
		}
		for _, s := range c.Streams {
			if s.Name == "" || (s.Mode != integ.ModeFullRefresh && s.Mode != integ.ModeIncremental) {
				t.Fatalf("accepted stream %+v", s)
			}
			if s.Schema != nil && !slices.Equal(s.Schema.PropertyNames(), s.Fields) {
				t.Fatalf("stream %q: schema properties %v are not its fields %v", s.Name, s.Schema.PropertyNames(), s.Fields)
			}
		}
		for name := range ns {
			if name == "" {
				t.Fatal("namespace for an empty stream name")
			}
		}
	})
}

func FuzzParseState(f *testing.F) {
	for _, s := range []string{
		`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"c":1}}}]`,
		`[{"type":"GLOBAL","global":{"stream_states":[{"stream_descriptor":{"name":"a"},"stream_state":{}}]}}]`,
		`{"type":"LEGACY","data":{"a":{}}}`, `{"a":{"__ab_no_cursor_state_message":true}}`, `null`, `[`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := airbyte.ParseState(data)
		if err != nil {
			if integ.KindOf(err) != integ.ConfigFailure {
				t.Fatalf("error %v is not a config_error", err)
			}
			return
		}
		for _, n := range st.Names() {
			v := st.Stream(n)
			if !json.Valid(v) || len(v) == 0 || v[0] != '{' {
				t.Fatalf("stream %q: accepted state %q is not a JSON object", n, v)
			}
		}
	})
}
