package rest

import (
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

func TestTemplateRender(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 30, 0, 0, time.UTC)
	parent := gjson.Parse(`{"name": "app", "owner": {"login": "acme"}, "id": 7}`)
	tests := []struct {
		tmpl     string
		bookmark string // raw JSON, "" for none
		start    string
		want     string
		ok       bool
	}{
		{"plain", "", "", "plain", true},
		{"{{bookmark}}", `"2024-05-01T10:00:00Z"`, "2024-01-01", "2024-05-01T10:00:00Z", true},
		{"{{bookmark}}", "", "2024-01-01", "2024-01-01", true},
		{"{{bookmark}}", "", "", "", false},
		{"{{ bookmark | unix }}", `1714557600`, "", "1714557600", true},
		{"{{bookmark|unix}}", "", "2024-01-01T00:00:00Z", "1704067200", true},
		{"{{bookmark | unix}}", "", "2024-01-01", "1704067200", true},
		{"{{bookmark | unix_ms}}", `"2024-01-01T00:00:00.5Z"`, "", "1704067200500", true},
		{"{{bookmark | date}}", `"2024-05-01T23:59:00-02:00"`, "", "2024-05-02", true},
		{"{{bookmark | rfc3339}}", `"2024-05-01T10:00:00+00:00"`, "", "2024-05-01T10:00:00Z", true},
		{"{{bookmark | rfc3339}}", `1704067200`, "", "2024-01-01T00:00:00Z", true},
		{"{{bookmark | rfc3339}}", `1704067200000`, "", "2024-01-01T00:00:00Z", true},
		{"greater-than(updated,{{bookmark | rfc3339}})", `"2024-05-01T10:00:00.123+00:00"`, "", "greater-than(updated,2024-05-01T10:00:00Z)", true},
		{"{{start_date | date}}", `"2030-01-01"`, "2024-02-03T04:05:06Z", "2024-02-03", true},
		{"{{now}}", "", "", "2024-06-01T12:30:00Z", true},
		{"{{now | unix}}", "", "", "1717245000", true},
		{"/repos/{{parent.owner.login}}/{{parent.name}}/issues", "", "", "/repos/acme/app/issues", true},
		{"{{parent.id}}", "", "", "7", true},
		{"a {{bookmark}} b", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl+"/"+tt.bookmark+"/"+tt.start, func(t *testing.T) {
			tp, err := parseTemplate(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			env := &tmplEnv{start: tt.start, now: now, parent: parent}
			if tt.bookmark != "" {
				env.bookmark = gjson.Parse(tt.bookmark)
			}
			got, ok, err := tp.render(env)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || ok != tt.ok {
				t.Errorf("render = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	tests := []struct{ tmpl, want string }{
		{"{{", `the placeholder at "{{" is not closed with }}`},
		{"x}}", `"}}" closes a placeholder that was never opened with {{`},
		{"{{}}", "names no value"},
		{"{{ start }}", `unknown value "start"; did you mean "start_date"?`},
		{"{{bookmark | iso}}", `unknown format "iso"`},
		{"{{parent.}}", `is not a valid gjson path`},
		{"{{parent.a..b}}", `"a..b" is not a valid gjson path`},
	}
	for _, tt := range tests {
		_, err := parseTemplate(tt.tmpl)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseTemplate(%q) = %v, want %q", tt.tmpl, err, tt.want)
		}
	}
	tp, _ := parseTemplate("{{parent.full_name}}")
	if _, _, err := tp.render(&tmplEnv{parent: gjson.Parse(`{"name": "x"}`)}); err == nil || !strings.Contains(err.Error(), `the parent record has no value at "full_name" (it has fields name)`) {
		t.Errorf("render without the parent field = %v", err)
	}
	tp, _ = parseTemplate("{{bookmark | unix}}")
	if _, _, err := tp.render(&tmplEnv{bookmark: gjson.Parse(`"soon"`)}); err == nil || !strings.Contains(err.Error(), `"soon" is not a date, a date-time or a Unix time`) {
		t.Errorf("render of a bookmark that is no time = %v", err)
	}
}

// FuzzTemplate: parsing never panics; an accepted template renders
// without panicking and its String form parses to the same template.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"{{bookmark}}", "greater-than(updated,{{bookmark | rfc3339}})", "/r/{{parent.owner.login}}/{{parent.name}}", "{{now|unix}}", "{{", "}}{{", "{{parent.#(a==\"b\").c}}", "{{start_date | date}}x{{bookmark|unix_ms}}"} {
		f.Add(s, `"2024-01-01T00:00:00Z"`)
	}
	f.Fuzz(func(t *testing.T, s, bookmark string) {
		tp, err := parseTemplate(s)
		if err != nil {
			return
		}
		env := &tmplEnv{bookmark: gjson.Parse(bookmark), start: "2024-01-01", now: time.Unix(0, 0), parent: gjson.Parse(`{"a": 1, "b": {"c": "d"}}`)}
		_, _, _ = tp.render(env)
		again, err := parseTemplate(tp.String())
		if err != nil {
			t.Fatalf("String() %q of %q does not parse: %v", tp.String(), s, err)
		}
		if again.String() != tp.String() {
			t.Fatalf("String() is not stable: %q, then %q", tp.String(), again.String())
		}
	})
}

// FuzzUnknownKeys: the key check never panics on any config document.
func FuzzUnknownKeys(f *testing.F) {
	f.Add(`{"base_url": "x", "streams": [{"name": "s", "replcation_key": "u", "pagination": {"cursor_path": "a"}}], "auth": {"tokn": 1}}`)
	f.Add(`{"streams": [1, null, {"pagination": []}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		for _, err := range unknownKeys([]byte(doc), configType, "", []string{"validate_records"}) {
			if !strings.Contains(err.Error(), "unknown key") {
				t.Errorf("error %q", err)
			}
		}
	})
}
