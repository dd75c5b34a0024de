package rest

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// Template variables and formats, as a config writes them:
// {{bookmark}}, {{start_date | unix}}, {{parent.owner.login}}.
const (
	varBookmark  = "bookmark"
	varStartDate = "start_date"
	varNow       = "now"
	varParent    = "parent"
)

var (
	templateVars    = []string{varBookmark, varStartDate, varNow, varParent + ".<field>"}
	templateFormats = []string{"rfc3339", "date", "unix", "unix_ms"}
)

// foreignVars maps the template values of other tools (Airbyte's low-code
// connectors, Meltano SDK habits) to ours.
var foreignVars = map[string]string{
	"stream_state": varBookmark, "stream_interval": varBookmark, "stream_slice": varBookmark, "state": varBookmark,
	"config.start_date": varStartDate, "config['start_date']": varStartDate, "config[\"start_date\"]": varStartDate,
	"now_utc": varNow, "today": varNow, "parent_record": varParent + ".<field>", "record": varParent + ".<field>",
}

// openAPIParam finds an OpenAPI-style {name} placeholder in s, or "".
func openAPIParam(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			i = i + 1 + max(strings.Index(s[i:], "}}"), 0)
			continue
		}
		if j := strings.IndexByte(s[i:], '}'); j > 1 {
			return s[i : i+j+1]
		}
	}
	return ""
}

// template is a config string with {{ name | format }} placeholders. A
// string without placeholders is a template of one literal.
type template struct {
	parts []tmplPart
}

type tmplPart struct {
	lit    string
	name   string // "" for a literal
	path   string // parent.<path>: the gjson path into the parent record
	format string
}

// parseTemplate parses s. Its errors name the placeholder and, for an
// unknown name or format, the closest known one.
func parseTemplate(s string) (*template, error) {
	t := &template{}
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			if strings.Contains(s, "}}") {
				return nil, fmt.Errorf("%q closes a placeholder that was never opened with {{", "}}")
			}
			if s != "" {
				t.parts = append(t.parts, tmplPart{lit: s})
			}
			return t, nil
		}
		if strings.Contains(s[:i], "}}") {
			return nil, fmt.Errorf("%q closes a placeholder that was never opened with {{", "}}")
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: s[:i]})
		}
		rest := s[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, fmt.Errorf("the placeholder at %q is not closed with }}", shortText(s[i:]))
		}
		p, err := parsePlaceholder(rest[:j])
		if err != nil {
			return nil, err
		}
		t.parts = append(t.parts, p)
		s = rest[j+2:]
	}
}

func parsePlaceholder(in string) (tmplPart, error) {
	name, format, hasFormat := strings.Cut(in, "|")
	name, format = strings.TrimSpace(name), strings.TrimSpace(format)
	p := tmplPart{name: name, format: format}
	switch {
	case name == "":
		return p, fmt.Errorf("the placeholder {{%s}} names no value (use one of %s)", in, strings.Join(templateVars, ", "))
	case name == varBookmark || name == varStartDate || name == varNow:
	case strings.HasPrefix(name, varParent+"."):
		p.path = name[len(varParent)+1:]
		if err := checkPath(p.path); err != nil || p.path == "" {
			if err == nil {
				err = fmt.Errorf("it is empty")
			}
			return p, fmt.Errorf("the placeholder {{%s}}: %q is not a valid gjson path: %v", in, p.path, err)
		}
		p.name = varParent
	default:
		hint := didYouMean(name, []string{varBookmark, varStartDate, varNow, varParent + ".id"})
		for prefix, ours := range foreignVars {
			if strings.HasPrefix(name, prefix) {
				hint = fmt.Sprintf("; did you mean %q?", ours)
			}
		}
		return p, fmt.Errorf("the placeholder {{%s}} names an unknown value %q%s (use one of %s)", in, name, hint, strings.Join(templateVars, ", "))
	}
	if hasFormat {
		known := false
		for _, f := range templateFormats {
			known = known || f == format
		}
		if !known {
			return p, fmt.Errorf("the placeholder {{%s}} has an unknown format %q%s (use one of %s)", in, format, didYouMean(format, templateFormats), strings.Join(templateFormats, ", "))
		}
	}
	return p, nil
}

func shortText(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// String is the template as written.
func (t *template) String() string {
	var b strings.Builder
	for _, p := range t.parts {
		switch {
		case p.name == "":
			b.WriteString(p.lit)
		case p.name == varParent:
			b.WriteString("{{parent." + p.path + "}}")
		case p.format != "":
			b.WriteString("{{" + p.name + " | " + p.format + "}}")
		default:
			b.WriteString("{{" + p.name + "}}")
		}
	}
	return b.String()
}

// uses reports whether the template has a placeholder for name.
func (t *template) uses(name string) bool {
	for _, p := range t.parts {
		if p.name == name {
			return true
		}
	}
	return false
}

// literal reports whether the template has no placeholder.
func (t *template) literal() bool {
	for _, p := range t.parts {
		if p.name != "" {
			return false
		}
	}
	return true
}

// tmplEnv is what placeholders stand for in one request.
type tmplEnv struct {
	bookmark gjson.Result // the stream's (partition's) bookmark; may not exist
	start    string       // the config's start_date; may be ""
	now      time.Time
	parent   gjson.Result // the parent record of a child stream
}

// render fills the placeholders. ok is false when a value is unknown (no
// bookmark and no start_date): the caller leaves the parameter out.
func (t *template) render(env *tmplEnv) (out string, ok bool, err error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.name == "" {
			b.WriteString(p.lit)
			continue
		}
		var v string
		switch p.name {
		case varBookmark:
			if env.bookmark.Exists() && env.bookmark.Type != gjson.Null && env.bookmark.String() != "" {
				v = env.bookmark.String()
			} else {
				v = env.start
			}
		case varStartDate:
			v = env.start
		case varNow:
			v = env.now.UTC().Format(time.RFC3339)
		case varParent:
			r := env.parent.Get(p.path)
			if !r.Exists() || r.Type == gjson.Null || r.Type == gjson.JSON {
				return "", false, fmt.Errorf("the parent record has no value at %q (it has %s)", p.path, shortText(fieldNames(env.parent)))
			}
			v = r.String()
		}
		if v == "" {
			return "", false, nil
		}
		if p.format != "" {
			if v, err = formatValue(v, p.format); err != nil {
				return "", false, fmt.Errorf("{{%s | %s}}: %w", p.name, p.format, err)
			}
		}
		b.WriteString(v)
	}
	return b.String(), true, nil
}

func fieldNames(rec gjson.Result) string {
	var names []string
	rec.ForEach(func(k, _ gjson.Result) bool {
		names = append(names, k.String())
		return len(names) < 12
	})
	if len(names) == 0 {
		return "no fields"
	}
	return "fields " + strings.Join(names, ", ")
}

// formatValue reads v as a time (RFC 3339, a date, or Unix seconds; a
// number above 1e11 is taken as milliseconds) and writes it in format.
// Conversions truncate toward the past, so a bookmark is never overshot.
func formatValue(v, format string) (string, error) {
	t, err := parseTimeValue(v)
	if err != nil {
		return "", err
	}
	switch format {
	case "rfc3339":
		return t.UTC().Format(time.RFC3339), nil
	case "date":
		return t.UTC().Format(time.DateOnly), nil
	case "unix":
		return strconv.FormatInt(t.Unix(), 10), nil
	case "unix_ms":
		return strconv.FormatInt(t.UnixMilli(), 10), nil
	}
	return v, nil
}

func parseTimeValue(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999-0700", "2006-01-02 15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) < 1e15 {
		if math.Abs(f) > 1e11 {
			return time.UnixMilli(int64(math.Floor(f))), nil
		}
		sec := math.Floor(f)
		return time.Unix(int64(sec), int64((f-sec)*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date, a date-time or a Unix time", shortText(v))
}

// renderBody fills the placeholders of every string in a JSON body. A
// member or element whose value is unknown is left out.
func renderBody(body any, env *tmplEnv) (any, bool, error) {
	switch v := body.(type) {
	case string:
		t, err := parseTemplate(v)
		if err != nil {
			return nil, false, err
		}
		return t.render(env)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			r, ok, err := renderBody(e, env)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", k, err)
			}
			if ok {
				out[k] = r
			}
		}
		return out, true, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, e := range v {
			r, ok, err := renderBody(e, env)
			if err != nil {
				return nil, false, fmt.Errorf("[%d]: %w", i, err)
			}
			if ok {
				out = append(out, r)
			}
		}
		return out, true, nil
	}
	return body, true, nil
}

// bodyTemplates parses every string of a JSON body, so a mistake is found
// before any request; it returns the names the body uses.
func bodyTemplates(body any, where string, uses map[string]bool) error {
	switch v := body.(type) {
	case string:
		t, err := parseTemplate(v)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		for _, p := range t.parts {
			if p.name != "" {
				uses[p.name] = true
			}
		}
	case map[string]any:
		for k, e := range v {
			if err := bodyTemplates(e, where+"."+k, uses); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := bodyTemplates(e, fmt.Sprintf("%s[%d]", where, i), uses); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeBody decodes a body keeping numbers as they were written.
func decodeBody(raw json.RawMessage) (any, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
