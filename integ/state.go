package integ

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/tidwall/gjson"
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

// stripBookmark removes framework bookmark keys from a state a full refresh
// must not resume from.
func stripBookmark(prev json.RawMessage) json.RawMessage {
	if prev == nil || !gjson.GetBytes(prev, stateReplicationKeyValue).Exists() {
		return prev
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(prev, &m) != nil {
		return nil
	}
	delete(m, stateReplicationKey)
	delete(m, stateReplicationKeyValue)
	if len(m) == 0 {
		return nil
	}
	b, _ := json.Marshal(m)
	return b
}

// marshalOrdered encodes a flat object with sorted keys (stable output).
func marshalOrdered(m map[string]json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(m[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}
