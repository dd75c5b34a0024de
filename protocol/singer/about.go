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
	for _, s := range a.Streams {
		fmt.Fprintf(&b, "* `%s`\n", s)
	}
	b.WriteString("\n## Settings\n\n| Setting | Required | Default | Description |\n|:--|:--:|:--|:--|\n")
	if a.Settings != nil {
		for _, p := range a.Settings.Properties {
			def := ""
			if p.Schema.Default != nil {
				d, _ := json.Marshal(p.Schema.Default)
				def = "`" + string(d) + "`"
			}
			req := "False"
			if slices.Contains(a.Settings.Required, p.Name) {
				req = "True"
			}
			desc := p.Schema.Description
			if p.Schema.Secret {
				desc = strings.TrimSpace(desc + " (secret)")
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", p.Name, req, def, strings.ReplaceAll(desc, "|", `\|`))
		}
	}
	b.WriteString("\nA full list of supported settings and capabilities is available by running: `" + a.Name + " --about`\n")
	return b.String()
}
