package wire

import (
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
