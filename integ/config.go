package integ

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/integ/integ/internal/third_party/jsonschema"
	"github.com/integ/integ/internal/third_party/jsonschema/kind"
	"github.com/integ/integ/requests"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Config is a validated config document: defaults applied, checked against
// the source's config schema. Integrations read it through HttpContext.Load.
type Config struct {
	raw     json.RawMessage
	secrets []string

	typedMu sync.Mutex
	typed   map[reflect.Type]any // decoded values by Go type (ConfigOf)
}

// Raw returns the validated config JSON, defaults included. It holds secrets:
// never log it.
func (c *Config) Raw() json.RawMessage { return c.raw }

// Secrets lists the values of every secret field (in any oneof
// alternative, whatever their JSON type), for redaction.
func (c *Config) Secrets() []string { return c.secrets }

// redact hides the config's secrets in text.
func (c *Config) redact(text string) string { return requests.Redact(text, c.secrets...) }

// Decode unmarshals the config into v (a pointer to the config struct).
// oneof fields fill the chosen alternative (see [OneOf]).
func (c *Config) Decode(v any) error {
	if err := decodeConfig(c.raw, v); err != nil {
		return fmt.Errorf("%w: %s", ErrConfig, c.redact(err.Error()))
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
// every offending field, and never shows the value of a secret one: secrets
// are collected before validating, phrased around, and redacted.
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
	secrets := uniqueSecrets(collectSecrets(v.schema, doc, nil))
	cfg := &Config{secrets: secrets}
	applyDefaults(v.schema, doc)
	withDefaults, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrConfig, cfg.redact(err.Error()))
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(withDefaults))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrConfig, cfg.redact(err.Error()))
	}
	if err := v.compiled.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			problems := configProblems(ve, v.schema, doc)
			return nil, &Error{Kind: ConfigFailure, Msg: cfg.redact("config is invalid: " + strings.Join(problems, "; ")), Err: ErrConfig}
		}
		return nil, fmt.Errorf("%w: %s", ErrConfig, cfg.redact(err.Error()))
	}
	cfg.raw = withDefaults
	return cfg, nil
}

// checkType decodes the config into a new value of type t, since the schema
// cannot say everything the Go type can (1e400 is a JSON number but no
// float64): failing now keeps that from failing a runner. Its error never
// shows a value.
func (c *Config) checkType(t reflect.Type) error {
	if t == nil {
		return nil
	}
	v := reflect.New(t)
	err := decodeConfig(c.raw, v.Interface())
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		got, _, _ := strings.Cut(te.Value, " ") // "number 1e400": the kind, not the value
		return &Error{Kind: ConfigFailure, Msg: fmt.Sprintf("config is invalid: field %q: this %s does not fit a %s", te.Field, got, te.Type), Err: ErrConfig}
	}
	return &Error{Kind: ConfigFailure, Msg: "config is invalid: " + c.redact(err.Error()), Err: ErrConfig}
}

// UnknownKeys lists top-level config keys the schema does not declare, so a
// typo can be reported as a warning. A key that is itself a secret value (a
// token pasted as a key) is left out.
func (v *configValidator) UnknownKeys(c *Config) []string {
	var doc map[string]json.RawMessage
	if json.Unmarshal(c.raw, &doc) != nil {
		return nil
	}
	var out []string
	for k := range doc {
		if v.schema.Property(k) == nil && c.redact(k) == k {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

var printer = message.NewPrinter(language.English)

// validationProblems flattens a validation error into "field: problem" lines.
func validationProblems(ve *jsonschema.ValidationError) []string {
	return configProblems(ve, nil, nil)
}

// configProblems flattens a validation error into sorted "field: problem"
// lines. With the config's schema and document it also explains oneOf
// choices (only the chosen alternative's problems, or which methods there
// are) and phrases problems of secret fields without their value.
func configProblems(ve *jsonschema.ValidationError, schema *Schema, doc map[string]any) []string {
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		field := strings.Join(e.InstanceLocation, ".")
		if field == "" {
			field = "(top level)"
		}
		if ok, ok2 := e.ErrorKind.(*kind.OneOf); ok2 && schema != nil {
			s := schemaAt(schema, e.InstanceLocation)
			obj, _ := valueAt(doc, e.InstanceLocation).(map[string]any)
			if s != nil && len(s.OneOf) > 0 && obj != nil {
				if i := chosenAlternative(s, obj); i >= 0 && ok.Subschemas == nil {
					for _, c := range e.Causes {
						if branchOf(e.SchemaURL, c.SchemaURL) == i {
							walk(c)
						}
					}
					return
				}
				key, methods := discriminator(s)
				if key != "" {
					got := "it is missing"
					if v, ok := obj[key]; ok {
						got = "got another value"
						if str, ok := v.(string); ok && plainWord(str) {
							got = fmt.Sprintf("got %q", str)
						}
					}
					out = append(out, fmt.Sprintf("field %q: %q must name one of the methods %s; %s", field, key, strings.Join(methods, ", "), got))
					return
				}
			}
		}
		if len(e.Causes) == 0 {
			msg := e.ErrorKind.LocalizedString(printer)
			if schema != nil && secretAt(schema, e.InstanceLocation) {
				msg = secretProblem(e.ErrorKind)
			}
			out = append(out, fmt.Sprintf("field %q: %s", field, msg))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.Strings(out)
	return slices.Compact(out)
}

// plainWord reports whether s is short and shows the same in JSON, Go
// quoting and redaction, so an error may quote it.
func plainWord(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// secretProblem says what is wrong with a secret field's value without
// quoting it (the validator's own messages do: "'pk_live_x' does not match
// pattern ...").
func secretProblem(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Pattern:
		return "the secret value does not match the expected pattern " + k.Want
	case *kind.Enum:
		return "the secret value is not one of the allowed values"
	case *kind.Const:
		return "the secret value is not the expected one"
	case *kind.Format:
		return "the secret value is not a valid " + k.Want
	case *kind.Type:
		article := "a"
		if strings.ContainsRune("aeiou", rune(k.Got[0])) {
			article = "an"
		}
		return fmt.Sprintf("the secret value is %s %s, want %s", article, k.Got, strings.Join(k.Want, " or "))
	case *kind.MinLength:
		return fmt.Sprintf("the secret value is too short: want at least %d characters", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("the secret value is too long: want at most %d characters", k.Want)
	}
	return "the secret value is invalid (" + strings.Join(k.KeywordPath(), "/") + ")"
}

// branchOf returns i when url is at or under parent/oneOf/i, else -1.
func branchOf(parent, url string) int {
	rest, ok := strings.CutPrefix(url, parent+"/oneOf/")
	if !ok {
		return -1
	}
	rest, _, _ = strings.Cut(rest, "/")
	n, err := strconv.Atoi(rest)
	if err != nil {
		return -1
	}
	return n
}

// schemaAt returns the schema of the value at path, through oneOf
// alternatives (the first that declares the name), or nil.
func schemaAt(s *Schema, path []string) *Schema {
	for _, seg := range path {
		if s == nil {
			return nil
		}
		if s.Items != nil && len(s.Properties) == 0 {
			s = s.Items
			continue
		}
		next := s.Property(seg)
		for _, alt := range s.OneOf {
			if next != nil {
				break
			}
			next = alt.Property(seg)
		}
		s = next
	}
	return s
}

// secretAt reports whether the value at path is, or is inside, a secret
// field of any oneOf alternative.
func secretAt(s *Schema, path []string) bool {
	if s == nil {
		return false
	}
	if s.Secret {
		return true
	}
	if len(path) == 0 {
		return false
	}
	if s.Items != nil && len(s.Properties) == 0 && secretAt(s.Items, path[1:]) {
		return true
	}
	if secretAt(s.Property(path[0]), path[1:]) {
		return true
	}
	for _, alt := range s.OneOf {
		if secretAt(alt, path) {
			return true
		}
	}
	return false
}

func valueAt(doc any, path []string) any {
	for _, seg := range path {
		switch v := doc.(type) {
		case map[string]any:
			doc = v[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			doc = v[i]
		default:
			return nil
		}
	}
	return doc
}

// applyDefaults fills in missing properties that have a default, at every
// level of nested objects present in the document, and in the chosen
// alternative of a oneOf.
func applyDefaults(s *Schema, doc map[string]any) {
	if len(s.OneOf) > 0 {
		if i := chosenAlternative(s, doc); i >= 0 {
			applyDefaults(s.OneOf[i], doc)
		}
	}
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

// collectSecrets returns the values of fields marked secret, in any oneOf
// alternative, whatever their JSON type (a number pasted into a secret field
// is still a secret), plus string values under keys that look secret.
func collectSecrets(s *Schema, doc any, out []string) []string {
	switch v := doc.(type) {
	case map[string]any:
		for _, alt := range s.OneOf {
			out = collectSecrets(alt, v, out)
		}
		for _, p := range s.Properties {
			child, ok := v[p.Name]
			if !ok {
				continue
			}
			if p.Schema.Secret {
				out = allScalars(child, out)
				continue
			}
			out = collectSecrets(p.Schema, child, out)
		}
		// Keys the schema does not declare are redacted by name as a fallback.
		for k, child := range v {
			if declared(s, k) {
				continue
			}
			if str, ok := child.(string); ok && str != "" && looksSecret(k) {
				out = append(out, str)
			}
			if sub, ok := child.(map[string]any); ok {
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

func declared(s *Schema, key string) bool {
	if s.Property(key) != nil {
		return true
	}
	for _, alt := range s.OneOf {
		if alt.Property(key) != nil {
			return true
		}
	}
	return false
}

// uniqueSecrets drops repeats, keeping the first of each.
func uniqueSecrets(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// allScalars appends every string and number in v.
func allScalars(v any, out []string) []string {
	switch v := v.(type) {
	case string:
		if v != "" {
			out = append(out, v)
		}
	case json.Number:
		out = append(out, v.String())
	case map[string]any:
		for _, c := range v {
			out = allScalars(c, out)
		}
	case []any:
		for _, c := range v {
			out = allScalars(c, out)
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
