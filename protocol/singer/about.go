package singer

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/integ/integ/integ"
)

// About is the --about document, in the shape Meltano's SDK taps use.
type About struct {
	Name             string        `json:"name"`
	Description      string        `json:"description,omitempty"`
	Version          string        `json:"version"`
	DocumentationURL string        `json:"documentation_url,omitempty"`
	Capabilities     []string      `json:"capabilities"`
	Streams          []string      `json:"streams"`
	Settings         *integ.Schema `json:"settings"`

	streams []*integ.Stream // for the markdown page's stream table
}

// Capabilities of every integ tap.
var Capabilities = []string{"about", "catalog", "discover", "properties", "state"}

// AboutOf describes a source.
func AboutOf(src *integ.Source) *About {
	return &About{
		Name:             "tap-" + src.Name,
		Description:      src.Description,
		Version:          src.Version,
		DocumentationURL: src.DocumentationURL,
		Capabilities:     Capabilities,
		Streams:          src.StreamNames(),
		Settings:         src.ConfigSchema(),
		streams:          src.Streams,
	}
}

func writeAbout(w io.Writer, src *integ.Source, format string) error {
	a := AboutOf(src)
	switch format {
	case "", "json":
		return writeJSON(w, a)
	case "markdown":
		_, err := io.WriteString(w, a.Markdown())
		return err
	}
	return &integ.Error{Kind: integ.ConfigFailure, Msg: fmt.Sprintf("unknown --format %q: use json or markdown", format)}
}

// Markdown renders the document for a README.
func (a *About) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# `%s`\n\n", a.Name)
	if a.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", a.Description)
	}
	fmt.Fprintf(&b, "Version: %s\n\n", a.Version)
	if a.DocumentationURL != "" {
		fmt.Fprintf(&b, "Documentation: %s\n\n", a.DocumentationURL)
	}
	b.WriteString("## Capabilities\n\n")
	for _, c := range a.Capabilities {
		fmt.Fprintf(&b, "* `%s`\n", c)
	}
	b.WriteString("\n## Streams\n\n")
	if len(a.streams) > 0 {
		streamRows(&b, a.streams)
	} else {
		for _, s := range a.Streams {
			fmt.Fprintf(&b, "* `%s`\n", s)
		}
	}
	b.WriteString("\n## Settings\n\n| Setting | Required | Default | Description |\n|:--|:--:|:--|:--|\n")
	if a.Settings != nil {
		settingRows(&b, "", "", a.Settings)
	}
	b.WriteString("\nA full list of supported settings and capabilities is available by running: `" + a.Name + " --about`\n")
	return b.String()
}

// settingRows writes one table row per setting of obj. A oneof setting gets
// a row saying how the method is chosen, then the settings of each method
// as name.field, marked with the method's title.
func settingRows(b *strings.Builder, prefix, method string, obj *integ.Schema) {
	for _, p := range obj.Properties {
		if p.Schema.Const != nil {
			continue // a method's discriminator: described on its parent's row
		}
		def := ""
		if p.Schema.Default != nil {
			d, _ := json.Marshal(p.Schema.Default)
			def = "`" + string(d) + "`"
		}
		req := "False"
		if slices.Contains(obj.Required, p.Name) {
			req = "True"
		}
		desc := p.Schema.Description
		if desc == "" {
			desc = p.Schema.Title
		}
		if method != "" {
			desc = strings.TrimSpace("(" + method + ") " + desc)
		}
		if p.Schema.Secret {
			desc = strings.TrimSpace(desc + " (secret)")
		}
		if len(p.Schema.OneOf) > 0 {
			desc = strings.TrimSpace(desc + " " + methodsText(p.Name, p.Schema))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", prefix+p.Name, req, def, strings.ReplaceAll(desc, "|", `\|`))
		for _, alt := range p.Schema.OneOf {
			settingRows(b, prefix+p.Name+".", alt.Title, alt)
		}
	}
}

// methodsText says how a oneof setting picks its method: "One of:
// `auth_type` = `oauth2.0` (OAuth2.0), `access_token` (Access Token)."
func methodsText(name string, s *integ.Schema) string {
	key := ""
	var methods []string
	for _, alt := range s.OneOf {
		for _, p := range alt.Properties {
			if p.Schema.Const == nil {
				continue
			}
			key = p.Name
			v, _ := json.Marshal(p.Schema.Const)
			m := "`" + string(v) + "`"
			if alt.Title != "" {
				m += " (" + alt.Title + ")"
			}
			methods = append(methods, m)
			break
		}
	}
	if key == "" {
		return ""
	}
	return fmt.Sprintf("Set `%s.%s` to one of %s.", name, key, strings.Join(methods, ", "))
}

// streamRows writes the stream table of the reference page: what a user
// needs to choose streams and sync modes without reading the code.
func streamRows(b *strings.Builder, streams []*integ.Stream) {
	b.WriteString("| Stream | Primary key | Replication key | Sync modes | Description |\n|:--|:--|:--|:--|:--|\n")
	for _, st := range streams {
		modes := make([]string, 0, 2)
		for _, m := range st.SyncModes() {
			modes = append(modes, string(m))
		}
		desc := st.Description
		if st.Parent != "" {
			desc = strings.TrimSpace(fmt.Sprintf("Read for each `%s` record. %s", st.Parent, desc))
		}
		if st.NotSelectedByDefault && !strings.Contains(strings.ToLower(desc), "not selected by default") {
			desc = strings.TrimSpace(desc + " Not selected by default.")
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", st.Name, codeList(st.PrimaryKey), codeList(optional(st.ReplicationKey)), strings.Join(modes, ", "), cell(desc))
	}
}

func optional(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func codeList(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return "`" + strings.Join(items, "`, `") + "`"
}

// cell keeps a table cell on one line.
func cell(s string) string {
	return strings.NewReplacer("\n", " ", "|", "\\|").Replace(s)
}
