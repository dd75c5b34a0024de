package singer

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/protocol/internal/wire"
)

// ParseState reads a Singer state file into the neutral state. It accepts
// the forms runners pass: the state value itself ({"bookmarks": {...}}), a
// whole STATE message ({"type": "STATE", "value": {...}}), a bare {"value":
// {...}}, and an empty file or {} for a first sync.
func ParseState(data []byte) (*integ.State, error) {
	st := integ.NewState()
	t := bytes.TrimSpace(data)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return st, nil
	}
	var doc map[string]json.RawMessage
	if err := wire.StrictObject(t, &doc); err != nil {
		return nil, stateError("%s", wire.Explain(err))
	}
	if v, ok := doc["value"]; ok {
		if typ, ok := doc["type"]; ok && string(bytes.TrimSpace(typ)) != `"STATE"` {
			return nil, stateError(`a state message must have "type": "STATE", got %s`, typ)
		}
		if err := wire.StrictObject(v, &doc); err != nil {
			return nil, stateError(`"value" is not a JSON object: %s`, wire.Explain(err))
		}
	}
	raw, ok := doc["bookmarks"]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return st, nil
	}
	var bookmarks map[string]json.RawMessage
	if err := wire.StrictObject(raw, &bookmarks); err != nil {
		return nil, stateError(`"bookmarks" must be an object of stream name to stream state: %s`, wire.Explain(err))
	}
	for name, v := range bookmarks {
		if err := st.Set(name, compact(v)); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func compact(v json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return v
	}
	return b.Bytes()
}

func stateError(format string, args ...any) error {
	return &integ.Error{Kind: integ.ConfigFailure, Msg: "invalid state: " + fmt.Sprintf(format, args...), Err: integ.ErrState}
}
