package jsonschema

// Tests of integ's patch (README.integ.md): metaschemas are compiled on
// first use, not in init, and schemas are still validated against them.

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

var drafts = []*Draft{Draft4, Draft6, Draft7, Draft2019, Draft2020}

func TestMain(m *testing.M) {
	// Nothing in this test binary has compiled a schema yet.
	for _, d := range drafts {
		if d.meta.Load() != nil {
			fmt.Fprintf(os.Stderr, "%s: metaschema compiled before first use\n", d)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

func compile(t *testing.T, d *Draft, schema string) (*Schema, error) {
	t.Helper()
	doc, err := UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := NewCompiler()
	c.DefaultDraft(d)
	if err := c.AddResource("schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("schema.json")
}

// TestSchemasAreValidatedInEveryDraft compiles a valid and two invalid
// schemas in every draft, all at once (go test -race): an invalid schema
// must still fail against its draft's metaschema, loaded on first use, and
// a valid one must still validate instances.
func TestSchemasAreValidatedInEveryDraft(t *testing.T) {
	cases := []struct {
		name, schema string
		valid        bool
	}{
		{"valid", `{"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}`, true},
		{"type is not a type", `{"type": 5}`, false},
		{"negative minLength", `{"minLength": -1}`, false},
	}
	var wg sync.WaitGroup
	for _, d := range drafts {
		for _, tc := range cases {
			for range 4 { // several goroutines ask for the same draft at once
				wg.Go(func() {
					sch, err := compile(t, d, tc.schema)
					if !tc.valid {
						var se *SchemaValidationError
						if !errors.As(err, &se) {
							t.Errorf("%s, %s: got %v, want a SchemaValidationError", d, tc.name, err)
						}
						return
					}
					if err != nil {
						t.Errorf("%s, %s: %v", d, tc.name, err)
						return
					}
					if err := sch.Validate(map[string]any{"n": 0}); err == nil {
						t.Errorf("%s: {\"n\": 0} passed minimum 1", d)
					}
					if err := sch.Validate(map[string]any{"n": 2}); err != nil {
						t.Errorf("%s: {\"n\": 2}: %v", d, err)
					}
				})
			}
		}
	}
	wg.Wait()
	for _, d := range drafts {
		if d.meta.Load() == nil {
			t.Errorf("%s: metaschema not kept after use", d)
		}
	}
}

// TestVocabularyMetaschemas: a 2020-12 metaschema that names only some
// vocabularies validates schemas with those alone, from the vocabulary
// metaschemas compiled on first use.
func TestVocabularyMetaschemas(t *testing.T) {
	c := NewCompiler()
	c.AssertVocabs()
	meta := `{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$id": "http://example.com/meta",
		"$vocabulary": {
			"https://json-schema.org/draft/2020-12/vocab/core": true,
			"https://json-schema.org/draft/2020-12/vocab/validation": true
		},
		"$dynamicAnchor": "meta",
		"allOf": [
			{"$ref": "https://json-schema.org/draft/2020-12/meta/core"},
			{"$ref": "https://json-schema.org/draft/2020-12/meta/validation"}
		]
	}`
	for url, doc := range map[string]string{
		"http://example.com/meta": meta,
		"bad.json":                `{"$schema": "http://example.com/meta", "minLength": -1}`,
		"good.json":               `{"$schema": "http://example.com/meta", "minLength": 2}`,
	} {
		v, err := UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(url, v); err != nil {
			t.Fatal(err)
		}
	}
	var se *SchemaValidationError
	if _, err := c.Compile("bad.json"); !errors.As(err, &se) {
		t.Errorf("minLength -1: got %v, want a SchemaValidationError", err)
	}
	sch, err := c.Compile("good.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate("a"); err == nil {
		t.Error(`"a" passed minLength 2`)
	}
}
