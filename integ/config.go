package integ

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Config is a validated config document: defaults applied, checked against
// the source's config schema. Integrations read it through HttpContext.Load.
type Config struct {
	raw     json.RawMessage
	secrets []string
}

// Raw returns the validated config JSON, defaults included. It holds secrets:
// never log it.
func (c *Config) Raw() json.RawMessage { return c.raw }

// Secrets lists the values of every secret field, for redaction.
func (c *Config) Secrets() []string { return c.secrets }

// Decode unmarshals the config into v (a pointer to the config struct).
func (c *Config) Decode(v any) error {
	dec := json.NewDecoder(bytes.NewReader(c.raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return nil
}

// ReadConfigFiles reads and merges config files in order: a later file's
// top-level keys replace an earlier one's (the Singer convention for a
// repeated --config).
func ReadConfigFiles(paths ...string) (json.RawMessage, error) {
	docs := make([]json.RawMessage, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, &Error{Kind: ConfigFailure, Msg: fmt.Sprintf("cannot read config file %q: %v", p, unwrapPathError(err)), Err: ErrConfig}
		}
		docs = append(docs, b)
	}
	return MergeConfigs(paths, docs...)
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// MergeConfigs merges JSON objects key by key, later ones winning. names
// label each document in errors (file names, or nil).
func MergeConfigs(names []string, docs ...json.RawMessage) (json.RawMessage, error) {
	merged := map[string]json.RawMessage{}
	for i, d := range docs {
		name := fmt.Sprintf("config #%d", i+1)
		if i < len(names) {
			name = fmt.Sprintf("config file %q", names[i])
		}
		members, err := orderedObject(d)
		if err != nil {
			return nil, &Error{Kind: ConfigFailure, Msg: fmt.Sprintf("%s is not a JSON object: %s", name, jsonErrorText(d, err)), Err: ErrConfig}
		}
		for _, m := range members {
			merged[m.key] = m.raw
		}
	}
	if len(docs) == 0 {
		return json.RawMessage("{}"), nil
	}
	// encoding/json sorts map keys, so the merged document is stable.
	return json.Marshal(merged)
}

// jsonErrorText turns a decoder error into "line L, column C: ...".
func jsonErrorText(doc []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(doc, se.Offset)
		return fmt.Sprintf("line %d, column %d: %v", line, col, se)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if len(bytes.TrimSpace(doc)) == 0 {
			return "the document is empty"
		}
		return "the document ends too early (truncated JSON?)"
	}
	return err.Error()
}

func lineCol(doc []byte, off int64) (int, int) {
	if off > int64(len(doc)) {
		off = int64(len(doc))
	}
	before := doc[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// configValidator validates config documents against a source's schema.
type configValidator struct {
	schema   *Schema
	compiled *jsonschema.Schema
}

func newConfigValidator(s *Schema) (*configValidator, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	compiled, err := compileSchema("config.schema.json", raw)
	if err != nil {
		return nil, err
	}
	return &configValidator{schema: s, compiled: compiled}, nil
}

func compileSchema(name string, raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSchema, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	if err := c.AddResource(name, doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSchema, err)
	}
	sch, err := c.Compile(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSchema, err)
	}
	return sch, nil
}

// Validate applies defaults to a raw config and checks it. The error names
// every offending field.
func (v *configValidator) Validate(raw json.RawMessage) (*Config, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || doc == nil {
		if err == nil {
			err = errors.New("null")
		}
		return nil, &Error{Kind: ConfigFailure, Msg: "config is not a JSON object: " + jsonErrorText(raw, err), Err: ErrConfig}
	}
	applyDefaults(v.schema, doc)
	withDefaults, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(withDefaults))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if err := v.compiled.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			problems := validationProblems(ve)
			return nil, &Error{Kind: ConfigFailure, Msg: "config is invalid: " + strings.Join(problems, "; "), Err: ErrConfig}
		}
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return &Config{raw: withDefaults, secrets: collectSecrets(v.schema, doc, nil)}, nil
}

// UnknownKeys lists top-level config keys the schema does not declare, so a
// typo can be reported as a warning.
func (v *configValidator) UnknownKeys(c *Config) []string {
	var doc map[string]json.RawMessage
	if json.Unmarshal(c.raw, &doc) != nil {
		return nil
	}
	var out []string
	for k := range doc {
		if v.schema.Property(k) == nil {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

var printer = message.NewPrinter(language.English)

// validationProblems flattens a validation error into "field: problem" lines.
func validationProblems(ve *jsonschema.ValidationError) []string {
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			field := strings.Join(e.InstanceLocation, ".")
			if field == "" {
				field = "(top level)"
			}
			out = append(out, fmt.Sprintf("field %q: %s", field, e.ErrorKind.LocalizedString(printer)))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.Strings(out)
	return out
}

// applyDefaults fills in missing properties that have a default, at every
// level of nested objects present in the document.
func applyDefaults(s *Schema, doc map[string]any) {
	for _, p := range s.Properties {
		v, ok := doc[p.Name]
		if !ok && p.Schema.Default != nil {
			doc[p.Name] = p.Schema.Default
			continue
		}
		if sub, isObj := v.(map[string]any); isObj {
			applyDefaults(p.Schema, sub)
		}
	}
}

// collectSecrets returns the string values of fields marked secret.
func collectSecrets(s *Schema, doc any, out []string) []string {
	switch v := doc.(type) {
	case map[string]any:
		for _, p := range s.Properties {
			child, ok := v[p.Name]
			if !ok {
				continue
			}
			if p.Schema.Secret {
				if str, ok := child.(string); ok && str != "" {
					out = append(out, str)
				}
				continue
			}
			out = collectSecrets(p.Schema, child, out)
		}
		// Schemas with oneOf branches (auth choices) keep secrets in Extra;
		// redact by key name as a fallback.
		for k, child := range v {
			if str, ok := child.(string); ok && str != "" && s.Property(k) == nil && looksSecret(k) {
				out = append(out, str)
			}
			if sub, ok := child.(map[string]any); ok && s.Property(k) == nil {
				out = collectSecrets(&Schema{}, sub, out)
			}
		}
	case []any:
		if s.Items != nil {
			for _, item := range v {
				out = collectSecrets(s.Items, item, out)
			}
		}
	}
	return out
}

func looksSecret(key string) bool {
	k := strings.ToLower(key)
	for _, w := range []string{"secret", "password", "token", "api_key", "apikey", "private_key", "credentials"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}
