// Package wire holds what the protocol adapters share: reading the files a
// user passes, strict JSON objects, and log attributes on one line.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/integ/integ/integ"
)

// ReadFile reads a file the user named (config, catalog, state); failing is
// a config error that names the file and says why, without Go's "open".
func ReadFile(what, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &integ.Error{Kind: integ.ConfigFailure, Msg: fmt.Sprintf("cannot read %s file %q: %v", what, path, err), Err: err}
	}
	return b, nil
}

// StrictObject decodes one JSON object, rejecting anything else and
// trailing data.
func StrictObject(data []byte, v any) error {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return errors.New("the document is empty")
	}
	if t[0] != '{' {
		return errors.New("expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// AppendAttr writes " key=value", quoting values with spaces, quotes or '='.
func AppendAttr(b *strings.Builder, a slog.Attr) {
	if a.Equal(slog.Attr{}) {
		return
	}
	b.WriteByte(' ')
	b.WriteString(a.Key)
	b.WriteByte('=')
	v := a.Value.Resolve().String()
	if strings.ContainsAny(v, " \"=") {
		v = `"` + strings.ReplaceAll(v, `"`, `\"`) + `"`
	}
	b.WriteString(v)
}
