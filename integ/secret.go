package integ

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Secret is a string config value that must never be shown: its String,
// GoString, fmt verbs, JSON encoding and slog value are all redacted. Read the
// real value with [Secret.Reveal] at the one place that needs it (usually an
// auth header). A field of this type is marked secret in the config schema
// (writeOnly; protocols add their own words, such as airbyte_secret).
type Secret string

const redacted = "**********"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer with a redacted value.
func (s Secret) String() string { return s.mask() }

// GoString keeps %#v redacted too.
func (s Secret) GoString() string { return `integ.Secret("` + s.mask() + `")` }

// Format makes every fmt verb redacted, %x and %q included.
func (s Secret) Format(f fmt.State, verb rune) { fmt.Fprint(f, s.mask()) }

// MarshalJSON redacts: a config that is logged or echoed never carries it.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.mask()) }

// LogValue keeps slog output redacted.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}
