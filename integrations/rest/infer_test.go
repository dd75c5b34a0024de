package rest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/internal/golden"
	"github.com/tidwall/gjson"
)

// inferJSON infers from a JSON array of records and returns the schema as
// compact JSON.
func inferJSON(t testing.TB, records string) string {
	t.Helper()
	in := newInferrer()
	for _, r := range gjson.Parse(records).Array() {
		in.add(r)
	}
	b, err := json.Marshal(in.schema())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInfer(t *testing.T) {
	tests := []struct {
		name    string
		records string
		want    string
	}{
		{"no records",
			`[]`,
			`{"type":"object","properties":{}}`},
		{"scalars",
			`[{"s": "a", "i": 1, "f": 1.5, "b": true, "e": 1e3}]`,
			`{"type":"object","properties":{"s":{"type":"string"},"i":{"type":"integer"},"f":{"type":"number"},"b":{"type":"boolean"},"e":{"type":"number"}}}`},
		{"integer and number widen to number",
			`[{"n": 1}, {"n": 2.5}, {"n": 3}]`,
			`{"type":"object","properties":{"n":{"type":"number"}}}`},
		{"null makes nullable",
			`[{"n": 1}, {"n": null}]`,
			`{"type":"object","properties":{"n":{"type":["integer","null"]}}}`},
		{"a missing field is nullable",
			`[{"a": 1, "b": "x"}, {"a": 2}]`,
			`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":["string","null"]}}}`},
		{"order of first appearance",
			`[{"b": 1}, {"c": 1, "a": 1, "b": 2}]`,
			`{"type":"object","properties":{"b":{"type":"integer"},"c":{"type":["integer","null"]},"a":{"type":["integer","null"]}}}`},
		{"different types are kept",
			`[{"v": "x"}, {"v": 1}, {"v": false}]`,
			`{"type":"object","properties":{"v":{"type":["string","integer","boolean"]}}}`},
		{"only null is anything",
			`[{"v": null}, {"v": null}]`,
			`{"type":"object","properties":{"v":{}}}`},
		{"date-times",
			`[{"t": "2024-01-02T03:04:05Z"}, {"t": "2024-01-02T03:04:05.123+02:00"}, {"t": null}]`,
			`{"type":"object","properties":{"t":{"type":["string","null"],"format":"date-time"}}}`},
		{"a string that is not a date-time",
			`[{"t": "2024-01-02T03:04:05Z"}, {"t": "yesterday"}]`,
			`{"type":"object","properties":{"t":{"type":"string"}}}`},
		{"not RFC 3339",
			`[{"t": "2024-01-02 03:04:05"}, {"u": "2024-01-02T03:04:05"}]`,
			`{"type":"object","properties":{"t":{"type":["string","null"]},"u":{"type":["string","null"]}}}`},
		{"dates",
			`[{"d": "2024-01-02"}, {"d": "2024-12-31"}]`,
			`{"type":"object","properties":{"d":{"type":"string","format":"date"}}}`},
		{"dates and date-times",
			`[{"d": "2024-01-02"}, {"d": "2024-12-31T00:00:00Z"}]`,
			`{"type":"object","properties":{"d":{"type":"string"}}}`},
		{"no format when other types mix in",
			`[{"d": "2024-01-02T03:04:05Z"}, {"d": 5}]`,
			`{"type":"object","properties":{"d":{"type":["string","integer"]}}}`},
		{"nested objects",
			`[{"o": {"a": 1, "b": {"c": "x"}}}, {"o": {"a": 2.5}}]`,
			`{"type":"object","properties":{"o":{"type":"object","properties":{"a":{"type":"number"},"b":{"type":["object","null"],"properties":{"c":{"type":"string"}}}}}}}`},
		{"arrays",
			`[{"a": [1, 2]}, {"a": [3.5]}, {"a": []}]`,
			`{"type":"object","properties":{"a":{"type":"array","items":{"type":"number"}}}}`},
		{"only empty arrays",
			`[{"a": []}]`,
			`{"type":"object","properties":{"a":{"type":"array"}}}`},
		{"arrays of objects",
			`[{"a": [{"x": 1}, {"x": 2, "y": "z"}]}]`,
			`{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","properties":{"x":{"type":"integer"},"y":{"type":["string","null"]}}}}}}`},
		{"object or null",
			`[{"o": null}, {"o": {"k": true}}]`,
			`{"type":"object","properties":{"o":{"type":["object","null"],"properties":{"k":{"type":"boolean"}}}}}`},
		{"a duplicate key counts once",
			`[{"a": 1, "a": 2}, {"a": 3}]`,
			`{"type":"object","properties":{"a":{"type":"integer"}}}`},
		{"keys with dots and wildcards",
			`[{"a.b": 1, "c*": "x"}]`,
			`{"type":"object","properties":{"a.b":{"type":"integer"},"c*":{"type":"string"}}}`},
		{"a name integ cannot write is left out",
			`[{"a\u0007b": 1, "c\u00e9\n": 2}]`,
			`{"type":"object","properties":{"cé\n":{"type":"integer"}}}`},
		{"big integers stay integers",
			`[{"n": 123456789012345678901234567890}]`,
			`{"type":"object","properties":{"n":{"type":"integer"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inferJSON(t, tt.records); got != tt.want {
				t.Errorf("schema =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestInferGolden infers from each testdata/infer/*.json sample and compares
// with the .golden.json beside it (go test -update rewrites them).
func TestInferGolden(t *testing.T) {
	samples, err := filepath.Glob("testdata/infer/*.json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range samples {
		if strings.HasSuffix(path, ".golden.json") {
			continue
		}
		n++
		t.Run(filepath.Base(path), func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, []byte(inferJSON(t, string(in))), "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			golden.Check(t, strings.TrimSuffix(path, ".json")+".golden.json", got.Bytes())
			// An inferred schema reads back as a schema integ accepts.
			var s integ.Schema
			if err := s.UnmarshalJSON(got.Bytes()); err != nil {
				t.Errorf("the inferred schema does not read back: %v", err)
			}
		})
	}
	if n == 0 {
		t.Fatal("no samples in testdata/infer")
	}
}

// FuzzInfer infers from arbitrary JSON: it must never panic and must always
// produce an object schema that marshals to valid JSON.
func FuzzInfer(f *testing.F) {
	f.Add(`[{"a": 1, "b": [1, 2.5, null], "c": {"d": "2024-01-01T00:00:00Z"}}]`)
	f.Add(`[{"a": "x"}, {"a": 1}, {}, {"a": {"b": []}}]`)
	f.Add(`[[1], 2, "x", null, {"a": [[{}]]}]`)
	f.Add(`{"a": 1}`)
	f.Add(`[{"a": 1e400, "b": -0, "c": "\u0000"}]`)
	f.Fuzz(func(t *testing.T, doc string) {
		in := newInferrer()
		for _, r := range gjson.Parse(doc).Array() {
			if r.IsObject() {
				in.add(r)
			}
		}
		s := in.schema()
		if !s.Type.Has("object") {
			t.Fatalf("root type %v is not object", s.Type)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
	})
}
