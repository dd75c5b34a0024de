package airbyte

import (
	"encoding/json"
	"maps"
	"strconv"

	"github.com/integ/integ/integ"
)

// Spec is the payload of a SPEC message (a ConnectorSpecification).
type Spec struct {
	DocumentationURL string `json:"documentationUrl,omitempty"`
	// ConnectionSpecification is the draft-07 JSON Schema of the config,
	// generated from the source's config struct: titles, descriptions,
	// examples, defaults, order, oneOf auth methods, and airbyte_secret on
	// secrets.
	ConnectionSpecification *integ.Schema `json:"connectionSpecification"`
	SupportsIncremental     bool          `json:"supportsIncremental"`
	ProtocolVersion         string        `json:"protocol_version"`
	// AdvancedAuth describes the OAuth flow the platform can run, if any.
	AdvancedAuth *AdvancedAuth `json:"advanced_auth,omitempty"`
}

// AdvancedAuth is the protocol's advanced_auth: the OAuth flow applies
// when the config value at PredicateKey is PredicateValue.
type AdvancedAuth struct {
	AuthFlowType             string                   `json:"auth_flow_type"`
	PredicateKey             []string                 `json:"predicate_key,omitempty"`
	PredicateValue           string                   `json:"predicate_value,omitempty"`
	OAuthConfigSpecification OAuthConfigSpecification `json:"oauth_config_specification"`
}

// OAuthConfigSpecification says which config fields the OAuth flow reads
// and fills. Each is an object schema whose properties carry
// path_in_connector_config where the config holds them.
type OAuthConfigSpecification struct {
	OAuthUserInputFromConnectorConfigSpecification *integ.Schema `json:"oauth_user_input_from_connector_config_specification,omitempty"`
	CompleteOAuthOutputSpecification               *integ.Schema `json:"complete_oauth_output_specification,omitempty"`
	CompleteOAuthServerInputSpecification          *integ.Schema `json:"complete_oauth_server_input_specification,omitempty"`
	CompleteOAuthServerOutputSpecification         *integ.Schema `json:"complete_oauth_server_output_specification,omitempty"`
}

// SpecOf describes a source's config for the platform.
func SpecOf(src *integ.Source) *Spec {
	return &Spec{
		DocumentationURL:        src.DocumentationURL,
		ConnectionSpecification: withAirbyteKeywords(src.ConfigSchema()),
		SupportsIncremental:     src.SupportsIncremental(),
		ProtocolVersion:         ProtocolVersion,
		AdvancedAuth:            advancedAuth(src.OAuthFlow()),
	}
}

// withAirbyteKeywords copies a config schema, adding what Airbyte's UI reads
// beside the neutral keywords: airbyte_secret on secrets (the form masks
// them) and order (the form's field order).
func withAirbyteKeywords(s *integ.Schema) *integ.Schema {
	if s == nil {
		return nil
	}
	c := *s
	if s.Secret || s.Order != nil {
		c.Extra = maps.Clone(s.Extra)
		if c.Extra == nil {
			c.Extra = map[string]json.RawMessage{}
		}
		if s.Secret {
			c.Extra["airbyte_secret"] = json.RawMessage("true")
		}
		if s.Order != nil {
			c.Extra["order"] = strconv.AppendInt(nil, int64(*s.Order), 10)
		}
	}
	c.Items = withAirbyteKeywords(s.Items)
	if s.Properties != nil {
		c.Properties = make([]integ.Property, len(s.Properties))
		for i, p := range s.Properties {
			c.Properties[i] = integ.Property{Name: p.Name, Schema: withAirbyteKeywords(p.Schema)}
		}
	}
	if s.OneOf != nil {
		c.OneOf = make([]*integ.Schema, len(s.OneOf))
		for i, alt := range s.OneOf {
			c.OneOf[i] = withAirbyteKeywords(alt)
		}
	}
	return &c
}

func advancedAuth(f *integ.OAuthFlow) *AdvancedAuth {
	if f == nil {
		return nil
	}
	return &AdvancedAuth{
		AuthFlowType:   f.Type,
		PredicateKey:   f.PredicateKey,
		PredicateValue: f.PredicateValue,
		OAuthConfigSpecification: OAuthConfigSpecification{
			OAuthUserInputFromConnectorConfigSpecification: oauthObject(f.UserInput, true),
			CompleteOAuthOutputSpecification:               oauthObject(f.Output, true),
			CompleteOAuthServerInputSpecification:          oauthObject(f.ServerFields, false),
			CompleteOAuthServerOutputSpecification:         oauthObject(f.ServerFields, true),
		},
	}
}

// oauthObject is {"type":"object","additionalProperties":false,
// "properties":{name: {"type":..., "path_in_connector_config": [...]}}}.
func oauthObject(fields []integ.OAuthField, withPath bool) *integ.Schema {
	if len(fields) == 0 {
		return nil
	}
	no := false
	obj := &integ.Schema{Type: integ.Types{"object"}, AdditionalProperties: &no, Properties: []integ.Property{}}
	for _, f := range fields {
		p := &integ.Schema{Type: f.Schema.Type}
		if withPath {
			path, _ := json.Marshal(f.Path)
			p.Extra = map[string]json.RawMessage{"path_in_connector_config": path}
		}
		obj.Properties = append(obj.Properties, integ.Property{Name: f.Name, Schema: p})
	}
	return obj
}
