package airbyte

import (
	"encoding/json"
	"fmt"

	"github.com/integ/integ/integ"
)

// Control is the payload of a CONTROL message: an instruction to the
// platform. The one type a source sends is CONNECTOR_CONFIG.
type Control struct {
	Type            string                  `json:"type"`
	EmittedAt       int64                   `json:"emitted_at"`
	ConnectorConfig *ControlConnectorConfig `json:"connectorConfig,omitempty"`
}

// ControlConnectorConfig carries the whole new config for the platform to
// store in place of the old one.
type ControlConnectorConfig struct {
	Config json.RawMessage `json:"config"`
}

// configPersister saves config changes the Airbyte way: a CONTROL message
// with the whole new config (the file as read, patched), written through
// the Output as one complete line. It is the one message that carries
// secrets, so it bypasses the run-time redaction.
func (r *runner) configPersister(raw json.RawMessage) integ.ConfigPersister {
	doc := raw
	return func(patch map[string]json.RawMessage) error {
		next, err := integ.PatchConfig(doc, patch)
		if err != nil {
			return err
		}
		line, err := AppendMessage(nil, &Message{Type: "CONTROL", Control: &Control{
			Type:            "CONNECTOR_CONFIG",
			EmittedAt:       r.now().UnixMilli(),
			ConnectorConfig: &ControlConnectorConfig{Config: next},
		}})
		if err != nil {
			return err
		}
		if err := r.out.WriteUnfiltered(line); err != nil {
			return fmt.Errorf("writing the CONTROL message: %w", err)
		}
		doc = next
		r.logger.Info("the config changed: a CONTROL message carries the new one for the platform to save")
		return nil
	}
}
