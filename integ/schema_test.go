package integ

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	goldenfile "github.com/integ/integ/internal/golden"
)

// golden compares got with testdata/name (go test -update rewrites it).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

type address struct {
	Street string  `json:"street"`
	Zip    *string `json:"zip"`
}

type sampleRecord struct {
	ID        int64             `json:"id"`
	Name      string            `json:"name" description:"display name"`
	Score     float64           `json:"score"`
	Active    bool              `json:"active"`
	Nick      *string           `json:"nick"`
	Tags      []string          `json:"tags"`
	Home      address           `json:"home"`
	Work      *address          `json:"work,omitempty"`
	UpdatedAt time.Time         `json:"updated_at"`
	Extra     map[string]string `json:"extra"`
	Raw       json.RawMessage   `json:"raw"`
	Ignored   string            `json:"-"`
	hidden    string
}

type sampleConfig struct {
	BaseURL  string  `json:"base_url" title:"Base URL" default:"https://example.com" format:"uri"`
	APIKey   Secret  `json:"api_key" title:"API key" description:"From the account page."`
	PageSize int     `json:"page_size" default:"100" minimum:"1" maximum:"1000"`
	Order    string  `json:"order" enum:"asc,desc" default:"asc"`
	Start    *string `json:"start_date" format:"date-time" examples:"2024-01-01T00:00:00Z"`
	Verbose  bool    `json:"verbose,omitempty"`
	Ratio    float64 `json:"ratio" default:"0.5" examples:"[0.1, 0.9]"`
}

func TestSchemaOfRecord(t *testing.T) {
	s, err := SchemaOf(sampleRecord{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "record.schema.json", append(b, '\n'))

	cases := []struct {
		prop     string
		types    Types
		format   string
		nullable bool
	}{
		{"id", Types{"integer"}, "", false},
		{"name", Types{"string"}, "", false},
		{"score", Types{"number"}, "", false},
		{"active", Types{"boolean"}, "", false},
		{"nick", Types{"string", "null"}, "", true},
		{"tags", Types{"array", "null"}, "", true},
		{"home", Types{"object"}, "", false},
		{"work", Types{"object", "null"}, "", true},
		{"updated_at", Types{"string"}, "date-time", false},
		{"extra", Types{"object", "null"}, "", true},
	}
	for _, c := range cases {
		p := s.Property(c.prop)
		if p == nil {
			t.Errorf("property %q missing", c.prop)
			continue
		}
		if len(p.Type) != len(c.types) || p.Type.Nullable() != c.nullable || p.Format != c.format {
			t.Errorf("%s: type %v format %q, want %v %q", c.prop, p.Type, p.Format, c.types, c.format)
		}
	}
	if s.Property("Ignored") != nil || s.Property("hidden") != nil {
		t.Error("json:\"-\" and unexported fields must not be in the schema")
	}
	if s.Property("raw").Type != nil {
		t.Error("json.RawMessage must accept any type")
	}
	if s.Required != nil {
		t.Errorf("record schemas require nothing, got %v", s.Required)
	}
}

func TestConfigSchemaOf(t *testing.T) {
	s, err := ConfigSchemaOf(sampleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	golden(t, "config.schema.json", append(b, '\n'))
	if got, want := s.Required, []string{"api_key"}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("required = %v, want %v (defaults, pointers and omitempty are optional)", got, want)
	}
	if !s.Property("api_key").Secret {
		t.Error("Secret fields must be marked secret")
	}
	for i, name := range s.PropertyNames() {
		if o := s.Property(name).Order; o == nil || *o != i {
			t.Errorf("%s: order %v, want %d", name, o, i)
		}
	}
	if s.Property("start_date").Type.Nullable() {
		t.Error("config pointers are optional, not nullable")
	}
}

func TestSchemaGeneratorErrors(t *testing.T) {
	type withChan struct {
		C chan int `json:"c"`
	}
	type badDefault struct {
		N int `json:"n" default:"many"`
	}
	type badMin struct {
		N int `json:"n" minimum:"x"`
	}
	type node struct {
		Next *node `json:"next"`
	}
	type intMap struct {
		M map[int]string `json:"m"`
	}
	for _, v := range []any{withChan{}, badDefault{}, badMin{}, node{}, intMap{}, 42, nil} {
		if _, err := SchemaOf(v); !errors.Is(err, ErrBadSchema) {
			t.Errorf("SchemaOf(%T) = %v, want ErrBadSchema", v, err)
		}
	}
}

func TestSchemaRoundTripKeepsOrderAndExtras(t *testing.T) {
	in := `{"type":["null","object"],"properties":{"z":{"type":"string","maxLength":3},"a":{"type":"integer"},"m":{"anyOf":[{"type":"string"},{"type":"null"}]}},"additionalProperties":false,"x-custom":{"k":[1,2]}}`
	var s Schema
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if got := s.PropertyNames(); len(got) != 3 || got[0] != "z" || got[1] != "a" || got[2] != "m" {
		t.Fatalf("property order = %v, want [z a m]", got)
	}
	out, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	var again Schema
	if err := json.Unmarshal(out, &again); err != nil {
		t.Fatal(err)
	}
	out2, _ := json.Marshal(&again)
	if string(out) != string(out2) {
		t.Errorf("not stable:\n%s\n%s", out, out2)
	}
	var a, b any
	json.Unmarshal([]byte(in), &a)
	json.Unmarshal(out, &b)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("round trip changed the schema:\n in: %s\nout: %s", ja, jb)
	}
}

func TestSchemaUnmarshalRejects(t *testing.T) {
	for _, in := range []string{`[]`, `"x"`, `{"type": 3}`, `{"properties": []}`, `{"properties": {"a": 1}}`, `{"required": "a"}`, `{} {}`} {
		var s Schema
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}

func TestSelect(t *testing.T) {
	s, _ := SchemaOf(sampleRecord{})
	s.Required = []string{"id", "name"}
	sel := s.Select([]string{"name", "id"})
	if got := sel.PropertyNames(); len(got) != 2 || got[0] != "id" || got[1] != "name" {
		t.Errorf("Select keeps schema order: got %v", got)
	}
	if len(s.Properties) != 13-2 && len(s.Properties) < 3 {
		t.Error("Select must not modify the original")
	}
}

func FuzzSchemaUnmarshal(f *testing.F) {
	f.Add([]byte(`{"type":"object","properties":{"a":{"type":["string","null"]}}}`))
	f.Add([]byte(`true`))
	f.Add([]byte(`{"items":[{"type":"string"}],"enum":[1,"a",null]}`))
	f.Add([]byte(`{"type":"object","oneOf":[{"title":"A","properties":{"k":{"const":"a"}}},{"properties":{"k":{"const":1.50}}}],"const":null,"$x":1}`))
	f.Add([]byte(`{"oneOf":{"not":"a list"},"const":{"a":[1]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Schema
		if err := s.UnmarshalJSON(data); err != nil {
			return
		}
		out, err := json.Marshal(&s)
		if err != nil {
			t.Fatalf("accepted %q but cannot write it back: %v", data, err)
		}
		var again Schema
		if err := again.UnmarshalJSON(out); err != nil {
			t.Fatalf("cannot read back %s: %v", out, err)
		}
		if out2, err := json.Marshal(&again); err != nil || string(out2) != string(out) {
			t.Fatalf("not stable: %s, then %s (%v)", out, out2, err)
		}
	})
}
