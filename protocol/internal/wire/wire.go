// Package wire holds what the protocol adapters share: reading the files a
// user passes, strict JSON objects, and log attributes on one line.
package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
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
		return fmt.Errorf("expected a JSON object, got %s", jsonKind(t[0]))
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

// LogHandler turns slog records into one line of text each, "message
// key=value ...", with every secret redacted, and hands the line to Emit,
// which puts it in its protocol's form.
type LogHandler struct {
	Level   slog.Leveler
	Secrets []string
	Emit    func(level slog.Level, line string) error
	attrs   string
}

// Enabled implements slog.Handler.
func (h *LogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.Level.Level() }

// Handle implements slog.Handler.
func (h *LogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		AppendAttr(&b, a)
		return true
	})
	return h.Emit(r.Level, requests.Redact(b.String(), h.Secrets...))
}

// WithAttrs implements slog.Handler.
func (h *LogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		AppendAttr(&b, a)
	}
	c := *h
	c.attrs = b.String()
	return &c
}

// WithGroup keeps attributes flat: a log line is one line of text.
func (h *LogHandler) WithGroup(string) slog.Handler { return h }

// Explain says in plain words what is wrong with a JSON document that
// failed to decode, for a message a person reads: `"stream" must be a
// string, got an object` rather than Go's "cannot unmarshal object into Go
// struct field CatalogEntry.stream of type string".
func Explain(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		got := te.Value
		switch {
		case strings.HasPrefix(got, "number"):
			got = "a number"
		case got == "object" || got == "array":
			got = "an " + got
		case got == "string":
			got = "a string"
		case got == "bool":
			got = "true or false"
		}
		want := kindName(te.Type.Kind().String())
		if te.Field == "" {
			return fmt.Sprintf("must be %s, got %s", want, got)
		}
		return fmt.Sprintf("%q must be %s, got %s", te.Field, want, got)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("not valid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the JSON ends too early (truncated?)"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func kindName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return "a " + kind
}

// jsonKind names the kind of JSON value that starts with c.
func jsonKind(c byte) string {
	switch {
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "true or false"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	}
	return fmt.Sprintf("%q, which starts no JSON value", c)
}
