package integ

import (
	"fmt"
	"slices"
	"strings"
)

// OAuthSpec declares that the platform can run a source's OAuth flow for
// the user (Airbyte's advanced_auth): which oneof alternative is the OAuth
// method and which of its fields the flow fills. Pass it with WithOAuthSpec.
//
//	integ.WithOAuthSpec(integ.OAuthSpec{
//		Field:        "credentials",
//		Method:       "oauth2.0",
//		ServerFields: []string{"client_id", "client_secret"},
//		OutputFields: []string{"access_token", "refresh_token"},
//	})
type OAuthSpec struct {
	// Field is the dotted config path of the oneof field ("credentials"),
	// or "" when the OAuth fields are top-level settings.
	Field string
	// Method is the discriminator value of the OAuth alternative
	// ("oauth2.0"); required when Field is set.
	Method string
	// Flow is "oauth2.0" (the default) or "oauth1.0".
	Flow string
	// ServerFields are the fields of the platform's OAuth app, which it
	// sends to the flow and writes into the config (client_id,
	// client_secret).
	ServerFields []string
	// OutputFields are the fields the flow fills (access_token,
	// refresh_token, token_expiry_date).
	OutputFields []string
	// UserInputFields are dotted paths, from the config's root, of settings
	// the user enters that the flow needs (a subdomain).
	UserInputFields []string
}

// OAuthField is one config field an OAuth flow reads or fills.
type OAuthField struct {
	Name   string   // the name the flow uses
	Path   []string // where it is in the config
	Schema *Schema  // its schema in the config
}

// OAuthFlow is an OAuthSpec resolved against the config schema, in the
// terms of Airbyte's advanced_auth.
type OAuthFlow struct {
	Type           string   // auth_flow_type
	PredicateKey   []string // path of the discriminator, empty for top-level fields
	PredicateValue string   // its value for the OAuth method
	UserInput      []OAuthField
	ServerFields   []OAuthField
	Output         []OAuthField
}

// WithOAuthSpec declares the OAuth flow the platform may run for the user;
// the spec command describes it (Airbyte advanced_auth). NewSource reports a
// spec that names fields the config does not have.
func WithOAuthSpec(spec OAuthSpec) SourceOption {
	return func(s *Source) { s.oauth = &spec }
}

// OAuthFlow returns the resolved OAuth flow, or nil when the source declares
// none (or declares it wrong: see Err).
func (s *Source) OAuthFlow() *OAuthFlow {
	if s.oauth == nil || s.configSchema == nil {
		return nil
	}
	f, err := s.oauth.resolve(s.configSchema)
	if err != nil {
		return nil
	}
	return f
}

func (o *OAuthSpec) resolve(root *Schema) (*OAuthFlow, error) {
	f := &OAuthFlow{Type: o.Flow}
	if f.Type == "" {
		f.Type = "oauth2.0"
	}
	if f.Type != "oauth2.0" && f.Type != "oauth1.0" {
		return nil, fmt.Errorf("OAuth spec: flow %q is not oauth2.0 or oauth1.0", f.Type)
	}
	if len(o.ServerFields)+len(o.OutputFields) == 0 {
		return nil, fmt.Errorf("OAuth spec: no ServerFields and no OutputFields: the flow would fill nothing")
	}
	alt, base := root, []string(nil)
	if o.Field != "" {
		base = strings.Split(o.Field, ".")
		holder := schemaAt(root, base)
		if holder == nil || len(holder.OneOf) == 0 {
			return nil, fmt.Errorf("OAuth spec: config field %q is not a oneof field", o.Field)
		}
		alt = nil
		for _, a := range holder.OneOf {
			for _, p := range a.Properties {
				if p.Schema.Const != nil && p.Schema.Const == any(o.Method) {
					alt = a
					f.PredicateKey = append(slices.Clone(base), p.Name)
					f.PredicateValue = o.Method
				}
			}
		}
		if alt == nil {
			_, methods := discriminator(holder)
			return nil, fmt.Errorf("OAuth spec: config field %q has no method %q; it has %s", o.Field, o.Method, strings.Join(methods, ", "))
		}
	}
	in := func(names []string, what string) ([]OAuthField, error) {
		var out []OAuthField
		for _, n := range names {
			ps := alt.Property(n)
			if ps == nil {
				return nil, fmt.Errorf("OAuth spec: %s %q is not a field of the OAuth method's config", what, n)
			}
			out = append(out, OAuthField{Name: n, Path: append(slices.Clone(base), n), Schema: ps})
		}
		return out, nil
	}
	var err error
	if f.ServerFields, err = in(o.ServerFields, "server field"); err != nil {
		return nil, err
	}
	if f.Output, err = in(o.OutputFields, "output field"); err != nil {
		return nil, err
	}
	for _, p := range o.UserInputFields {
		path := strings.Split(p, ".")
		ps := schemaAt(root, path)
		if ps == nil {
			return nil, fmt.Errorf("OAuth spec: user input field %q is not a config field", p)
		}
		f.UserInput = append(f.UserInput, OAuthField{Name: path[len(path)-1], Path: path, Schema: ps})
	}
	return f, nil
}
