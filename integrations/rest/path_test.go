package rest

import (
	"testing"

	"github.com/tidwall/gjson"
)

func TestCheckPath(t *testing.T) {
	tests := []struct {
		path, err string // err "" means valid
	}{
		{"", ""},
		{"data", ""},
		{"data.items", ""},
		{"data.items.#.id", ""},
		{"results|@reverse", ""},
		{"@this", ""},
		{"data.#(active==true)#", ""},
		{`data.#(name=="a.b)").x`, ""},
		{`data.#(name%"*\"*")`, ""},
		{`a\.b`, ""},
		{"[data,more]", ""},
		{"{a:data}", ""},
		{"a*.b?", ""},
		{".data", `it starts with '.' (jq style): a gjson path does not, write "data"`},
		{"..", "it starts with '.'"},
		{"$.data[0].id", `it starts with $ (JSONPath): a gjson path has no root symbol, write "data[0].id"`},
		{"data[-1].id", "[-1] is jq or JavaScript indexing: gjson writes an index as a part (data.0 is the first element, data.@reverse.0 the last); for a cursor taken from the last record use pagination.type last_record"},
		{`data["id"]`, `["id"] is jq or JavaScript indexing: gjson writes an index as a part (data.0 is the first element, data.@reverse.0 the last); for a cursor taken from the last record use pagination.type last_record`},
		{"data.@reverse.0.id", ""},
		{"data.", "it ends with '.'"},
		{"data..items", "it has an empty part at offset 5"},
		{"data|", "it ends with '|'"},
		{"a|.b", "it has an empty part at offset 2"},
		{"data.#(id>1", "'(' is never closed"},
		{"data)", "')' at offset 4 closes nothing"},
		{"[a,b}", "'}' at offset 4 closes nothing"},
		{`data.#(name=="x)`, "the string at offset 13 is not terminated"},
		{`data\`, "it ends with a lone backslash"},
		{"@nope", "@nope is not a gjson modifier"},
		{"data.@", "@ is not a gjson modifier"},
		{"a\nb", "it contains a line break or tab"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := checkPath(tt.path)
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("checkPath(%q) = %v, want nil", tt.path, err)
			case tt.err != "" && (err == nil || err.Error() != tt.err):
				t.Errorf("checkPath(%q) = %v, want %q", tt.path, err, tt.err)
			}
		})
	}
}

// FuzzCheckPath: the check never panics, and gjson never panics on a path
// it accepts.
func FuzzCheckPath(f *testing.F) {
	for _, s := range []string{"data", "a.b.#.c", `a.#(b=="c)").d`, "@reverse|0", "[a,{b:c}]", `x\`, "a..b", "(((", `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		if checkPath(path) != nil {
			return
		}
		_ = gjson.Get(`{"data": [{"a": 1}, {"b": [2, {"c": "d"}]}], "e": null}`, path)
	})
}
