package integ

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// State is the protocol-neutral sync state: one JSON object per stream.
// Protocols translate it from and to their own shapes (Singer's bookmarks,
// Airbyte's per-stream STREAM states).
type State struct {
	Streams map[string]json.RawMessage
}

// NewState returns an empty state.
func NewState() *State { return &State{Streams: map[string]json.RawMessage{}} }

// Stream returns a stream's state object, or nil.
func (s *State) Stream(name string) json.RawMessage {
	if s == nil {
		return nil
	}
	return s.Streams[name]
}

// Set records a stream's state; it must be a JSON object.
func (s *State) Set(name string, v json.RawMessage) error {
	if err := checkStateObject(name, v); err != nil {
		return err
	}
	if s.Streams == nil {
		s.Streams = map[string]json.RawMessage{}
	}
	s.Streams[name] = v
	return nil
}

// Names lists the streams with state, sorted.
func (s *State) Names() []string {
	if s == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(s.Streams))
}

// Clone copies the state (the values are immutable and shared).
func (s *State) Clone() *State {
	c := NewState()
	if s != nil {
		maps.Copy(c.Streams, s.Streams)
	}
	return c
}

func checkStateObject(name string, v json.RawMessage) error {
	t := bytes.TrimSpace(v)
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return &Error{Kind: ConfigFailure, Msg: fmt.Sprintf("state of stream %q must be a JSON object, got %s", name, excerpt(t, 60)), Err: ErrState}
	}
	return nil
}

// Keys of the framework-managed part of a stream's state.
const (
	stateReplicationKey      = "replication_key"
	stateReplicationKeyValue = "replication_key_value"
)

func excerpt(b []byte, n int) string {
	if len(b) == 0 {
		return "nothing"
	}
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
