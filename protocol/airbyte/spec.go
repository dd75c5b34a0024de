package airbyte

import "github.com/integ/integ/integ"

// Spec is the payload of a SPEC message (a ConnectorSpecification).
type Spec struct {
	DocumentationURL string `json:"documentationUrl,omitempty"`
	// ConnectionSpecification is the draft-07 JSON Schema of the config,
	// generated from the source's config struct: titles, descriptions,
	// examples, defaults, order, and airbyte_secret on secrets.
	ConnectionSpecification *integ.Schema `json:"connectionSpecification"`
	SupportsIncremental     bool          `json:"supportsIncremental"`
	ProtocolVersion         string        `json:"protocol_version"`
}

// SpecOf describes a source's config for the platform.
func SpecOf(src *integ.Source) *Spec {
	return &Spec{
		DocumentationURL:        src.DocumentationURL,
		ConnectionSpecification: src.ConfigSchema(),
		SupportsIncremental:     src.SupportsIncremental(),
		ProtocolVersion:         ProtocolVersion,
	}
}
