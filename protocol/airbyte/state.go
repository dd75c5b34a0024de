package airbyte

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/protocol/internal/wire"
)

// ParseState reads the state a read starts from into the neutral state. It
// accepts what the platform passes and what older platforms stored:
//
//   - an array of STREAM state messages (the current form);
//   - an array holding a GLOBAL state message: its stream_states are used
//     (integ sources keep no shared state, so shared_state is ignored);
//   - a LEGACY state message, or a bare legacy object of stream name to
//     stream state;
//   - a single state message, and an empty file, null, [] or {} for a first
//     sync.
//
// The CDK's __ab_no_cursor_state_message marker is dropped: it only says a
// full refresh completed. Errors are config_errors.
func ParseState(data []byte) (*integ.State, error) {
	st := integ.NewState()
	t := bytes.TrimSpace(data)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return st, nil
	}
	switch t[0] {
	case '[':
		var msgs []json.RawMessage
		if err := json.Unmarshal(t, &msgs); err != nil {
			return nil, stateError("the state is not a JSON array of state messages: %s", wire.Explain(err))
		}
		for i, m := range msgs {
			if err := addMessage(st, m, fmt.Sprintf("state[%d]", i)); err != nil {
				return nil, err
			}
		}
		return st, nil
	case '{':
		var doc map[string]json.RawMessage
		if err := wire.StrictObject(t, &doc); err != nil {
			return nil, stateError("%s", wire.Explain(err))
		}
		if isMessage(doc) {
			return st, addMessage(st, t, "the state message")
		}
		return st, addLegacy(st, doc, "the legacy state")
	}
	return nil, stateError("the state must be an array of state messages (or a legacy JSON object), got %s", excerpt(t))
}

// isMessage tells a state message from a legacy object of stream states.
func isMessage(doc map[string]json.RawMessage) bool {
	var typ string
	if json.Unmarshal(doc["type"], &typ) == nil {
		switch typ {
		case "STREAM", "GLOBAL", "LEGACY":
			return true
		}
	}
	return false
}

type stateMessage struct {
	Type   string          `json:"type"`
	Stream *streamState    `json:"stream"`
	Global *globalState    `json:"global"`
	Data   json.RawMessage `json:"data"`
}

type streamState struct {
	Descriptor *StreamDescriptor `json:"stream_descriptor"`
	State      json.RawMessage   `json:"stream_state"`
}

type globalState struct {
	StreamStates []streamState `json:"stream_states"`
}

func addMessage(st *integ.State, raw json.RawMessage, where string) error {
	var m stateMessage
	if err := wire.StrictObject(raw, &m); err != nil {
		return stateError("%s is not a state message: %s", where, wire.Explain(err))
	}
	if m.Type == "" { // no type: LEGACY, says the protocol, unless it is clearly a stream state
		switch {
		case m.Stream != nil:
			m.Type = "STREAM"
		case m.Global != nil:
			m.Type = "GLOBAL"
		default:
			m.Type = "LEGACY"
		}
	}
	switch m.Type {
	case "STREAM":
		if m.Stream == nil {
			return stateError(`%s has type STREAM but no "stream"`, where)
		}
		return addStream(st, m.Stream, where+".stream")
	case "GLOBAL":
		if m.Global == nil {
			return stateError(`%s has type GLOBAL but no "global"`, where)
		}
		for i := range m.Global.StreamStates {
			if err := addStream(st, &m.Global.StreamStates[i], fmt.Sprintf("%s.global.stream_states[%d]", where, i)); err != nil {
				return err
			}
		}
		return nil
	case "LEGACY":
		t := bytes.TrimSpace(m.Data)
		if len(t) == 0 || bytes.Equal(t, []byte("null")) {
			return nil
		}
		var doc map[string]json.RawMessage
		if err := wire.StrictObject(t, &doc); err != nil {
			return stateError(`%s: "data" is not a JSON object: %s`, where, wire.Explain(err))
		}
		return addLegacy(st, doc, where+".data")
	}
	return stateError("%s has unknown type %q (use STREAM, GLOBAL or LEGACY)", where, m.Type)
}

func addStream(st *integ.State, s *streamState, where string) error {
	if s.Descriptor == nil || s.Descriptor.Name == "" {
		return stateError(`%s has no stream_descriptor with a "name"`, where)
	}
	return setStream(st, s.Descriptor.Name, s.State)
}

func addLegacy(st *integ.State, doc map[string]json.RawMessage, where string) error {
	for name, v := range doc {
		if t := bytes.TrimSpace(v); len(t) == 0 || t[0] != '{' {
			return stateError("%s: the state of stream %q must be a JSON object, got %s", where, name, excerpt(t))
		}
		if err := setStream(st, name, v); err != nil {
			return err
		}
	}
	return nil
}

// setStream records a stream's state without the no-cursor marker; a state
// that is null, empty or only the marker is no state.
func setStream(st *integ.State, name string, v json.RawMessage) error {
	t := bytes.TrimSpace(v)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil || m == nil {
		return stateError("the state of stream %q must be a JSON object, got %s", name, excerpt(t))
	}
	if _, ok := m[noCursorKey]; ok {
		delete(m, noCursorKey)
		if len(m) == 0 {
			return nil
		}
		b, err := json.Marshal(m)
		if err != nil {
			return stateError("the state of stream %q: %s", name, wire.Explain(err))
		}
		t = b
	} else if len(m) == 0 {
		return nil
	} else {
		var b bytes.Buffer
		if json.Compact(&b, t) == nil {
			t = b.Bytes()
		}
	}
	return st.Set(name, t)
}

func stateError(format string, args ...any) error {
	return &integ.Error{Kind: integ.ConfigFailure, Msg: "invalid state: " + fmt.Sprintf(format, args...), Err: integ.ErrState}
}

func excerpt(b []byte) string {
	const n = 60
	if len(b) == 0 {
		return "nothing"
	}
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
