package integ

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestStateSet(t *testing.T) {
	for _, tt := range []struct {
		in      string
		wantErr string // "" when accepted
	}{
		{in: `{}`},
		{in: `{"replication_key_value":"2024-01-01"}`},
		{in: "  \n{\"a\":[1,2]}\t"},
		{in: ``, wantErr: "got nothing"},
		{in: `[]`, wantErr: "got []"},
		{in: `"x"`, wantErr: `got "x"`},
		{in: `null`, wantErr: "got null"},
		{in: `{"a":`, wantErr: `got {"a":`},
		{in: `{"a":1}{"b":2}`, wantErr: "must be a JSON object"},
		{in: `{"long":"` + strings.Repeat("y", 200), wantErr: "..."}, // shown cut short
	} {
		var s State // the zero State is usable
		err := s.Set("events", json.RawMessage(tt.in))
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("Set(%q): %v", tt.in, err)
			} else if got := string(s.Stream("events")); got != tt.in {
				t.Errorf("Set(%q) then Stream = %q", tt.in, got)
			}
			continue
		}
		var ie *Error
		if !errors.As(err, &ie) || ie.Kind != ConfigFailure || !errors.Is(err, ErrState) {
			t.Errorf("Set(%q) = %v, want a ConfigFailure wrapping ErrState", tt.in, err)
			continue
		}
		if msg := ie.Msg; !strings.Contains(msg, `stream "events"`) || !strings.Contains(msg, tt.wantErr) || len(msg) > 160 {
			t.Errorf("Set(%q): message %q should name the stream and show %q, briefly", tt.in, msg, tt.wantErr)
		}
		if s.Stream("events") != nil {
			t.Errorf("Set(%q) failed but stored the value", tt.in)
		}
	}
}

func TestStateNamesCloneNil(t *testing.T) {
	var nilState *State
	if nilState.Stream("a") != nil || nilState.Names() != nil || len(nilState.Clone().Streams) != 0 {
		t.Error("a nil *State must read as empty")
	}
	s := NewState()
	for _, name := range []string{"zeta", "alpha", "mid"} {
		if err := s.Set(name, json.RawMessage(`{"n":"`+name+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Names(); !slices.Equal(got, []string{"alpha", "mid", "zeta"}) {
		t.Errorf("Names() = %v, want them sorted", got)
	}
	c := s.Clone()
	c.Set("alpha", json.RawMessage(`{"changed":true}`))
	c.Set("new", json.RawMessage(`{}`))
	if string(s.Stream("alpha")) != `{"n":"alpha"}` || s.Stream("new") != nil {
		t.Errorf("changing a clone changed the original: %v", s.Streams)
	}
	if string(c.Stream("zeta")) != `{"n":"zeta"}` {
		t.Errorf("the clone lost a stream: %v", c.Streams)
	}
}
