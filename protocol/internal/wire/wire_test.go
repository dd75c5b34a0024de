package wire

import (
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
)

func TestStrictObject(t *testing.T) {
	for in, wantErr := range map[string]string{
		`{"a":1}`: "", ` {"a":1} `: "", ``: "empty", `[]`: "object", `{"a":1} {}`: "trailing", `{"a":`: "EOF",
	} {
		var v map[string]any
		err := StrictObject([]byte(in), &v)
		if (wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: err = %v, want %q", in, err, wantErr)
		}
	}
}

func TestExplain(t *testing.T) {
	type entry struct {
		Name     string            `json:"name"`
		Selected bool              `json:"selected"`
		Count    int               `json:"count"`
		Ratio    float64           `json:"ratio"`
		Streams  []json.RawMessage `json:"streams"`
		Meta     map[string]any    `json:"meta"`
	}
	for _, tc := range []struct{ in, want string }{
		{`{"name": {"a": 1}}`, `"name" must be a string, got an object`},
		{`{"selected": "yes"}`, `"selected" must be true or false, got a string`},
		{`{"count": 1.5}`, `"count" must be an integer, got a number`},
		{`{"ratio": "1"}`, `"ratio" must be a number, got a string`},
		{`{"streams": {}}`, `"streams" must be an array, got an object`},
		{`{"meta": [1]}`, `"meta" must be an object, got an array`},
		{`{"name": true}`, `"name" must be a string, got true or false`},
		{`[1]`, `expected a JSON object, got an array`},
		{`"x"`, `expected a JSON object, got a string`},
		{`{"name": "a",}`, `not valid JSON at byte 14: invalid character '}' looking for beginning of object key string`},
		{`{"name": "a"`, `the JSON ends too early (truncated?)`},
		{`{} x`, `trailing data after the JSON object`},
	} {
		var e entry
		err := StrictObject([]byte(tc.in), &e)
		if err == nil {
			t.Errorf("%s: no error", tc.in)
			continue
		}
		if got := Explain(err); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.in, got, tc.want)
		}
	}
}

func TestReadFileNamesTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing.json")
	_, err := ReadFile("state", p)
	if err == nil || !strings.Contains(err.Error(), `cannot read state file "`+p+`": no such file or directory`) || integ.KindOf(err) != integ.ConfigFailure {
		t.Errorf("err = %v", err)
	}
}

func TestAppendAttr(t *testing.T) {
	var b strings.Builder
	AppendAttr(&b, slog.String("stream", "pokemon"))
	AppendAttr(&b, slog.String("msg", `a "quoted" value`))
	AppendAttr(&b, slog.Attr{})
	if got := b.String(); got != ` stream=pokemon msg="a \"quoted\" value"` {
		t.Errorf("got %q", got)
	}
}
