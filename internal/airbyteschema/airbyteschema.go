// Package airbyteschema validates documents against the official Airbyte
// protocol schema (airbyte_protocol.yaml, copied verbatim from upstream: see
// SOURCE.txt). It is test support shared by the protocol's tests and the
// integtest kit; it is read from its YAML so re-copying it needs no step.
package airbyteschema

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/integ/integ/internal/third_party/jsonschema"
	"sigs.k8s.io/yaml"
)

//go:embed airbyte_protocol.yaml
var protocolYAML []byte

// ProtocolID is the schema's $id; definitions are ProtocolID+"#/definitions/Name".
const ProtocolID = "https://github.com/airbytehq/airbyte/blob/master/airbyte-protocol/models/src/main/resources/airbyte_protocol/airbyte_protocol.yaml"

// Definitions compiled by Schema.
var Definitions = []string{"AirbyteMessage", "ConnectorSpecification", "AirbyteCatalog", "ConfiguredAirbyteCatalog", "AirbyteStateMessage"}

var (
	once     sync.Once
	compiled map[string]*jsonschema.Schema
	loadErr  error
)

func load() {
	j, err := yaml.YAMLToJSON(protocolYAML)
	if err != nil {
		loadErr = fmt.Errorf("airbyte protocol schema: %w", err)
		return
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		loadErr = fmt.Errorf("airbyte protocol schema: %w", err)
		return
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	if err := c.AddResource(ProtocolID, doc); err != nil {
		loadErr = fmt.Errorf("airbyte protocol schema: %w", err)
		return
	}
	m := map[string]*jsonschema.Schema{}
	for _, d := range Definitions {
		s, err := c.Compile(ProtocolID + "#/definitions/" + d)
		if err != nil {
			loadErr = fmt.Errorf("airbyte protocol schema, definition %s: %w", d, err)
			return
		}
		m[d] = s
	}
	compiled = m
}

// Schema returns a compiled definition (AirbyteMessage,
// ConnectorSpecification, AirbyteCatalog, ConfiguredAirbyteCatalog,
// AirbyteStateMessage).
func Schema(def string) (*jsonschema.Schema, error) {
	once.Do(load)
	if loadErr != nil {
		return nil, loadErr
	}
	s := compiled[def]
	if s == nil {
		return nil, fmt.Errorf("airbyte protocol schema: no compiled definition %q", def)
	}
	return s, nil
}

// Validate checks one JSON document against a protocol definition.
func Validate(def string, doc []byte) error {
	s, err := Schema(def)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w: %s", err, doc)
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("does not validate against %s: %w\n%s", def, err, doc)
	}
	return nil
}

// PayloadKey is the member each message type must carry.
var PayloadKey = map[string]string{
	"RECORD": "record", "STATE": "state", "LOG": "log", "SPEC": "spec",
	"CONNECTION_STATUS": "connectionStatus", "CATALOG": "catalog", "TRACE": "trace",
	"CONTROL": "control",
}

// ValidateMessage checks one stdout line: a valid AirbyteMessage carrying
// the payload its type names (the schema alone does not require it), whose
// spec, catalog or state payload is valid against its own definition.
func ValidateMessage(line []byte) error {
	if err := Validate("AirbyteMessage", line); err != nil {
		return err
	}
	var m struct {
		Type string `json:"type"`
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(line, &members); err != nil {
		return fmt.Errorf("decoding %s: %w", line, err)
	}
	if err := json.Unmarshal(line, &m); err != nil {
		return fmt.Errorf("decoding %s: %w", line, err)
	}
	key := PayloadKey[m.Type]
	if key == "" || members[key] == nil {
		return fmt.Errorf("a %s message without %q: %s", m.Type, key, line)
	}
	switch key {
	case "spec":
		return Validate("ConnectorSpecification", members[key])
	case "catalog":
		return Validate("AirbyteCatalog", members[key])
	case "state":
		return Validate("AirbyteStateMessage", members[key])
	}
	return nil
}

// ValidateStdout checks that stdout is nothing but whole, valid
// AirbyteMessage lines (see ValidateMessage) and returns the lines.
func ValidateStdout(stdout []byte) ([][]byte, error) {
	if len(stdout) > 0 && stdout[len(stdout)-1] != '\n' {
		return nil, fmt.Errorf("stdout does not end with a newline: %q", tail(stdout))
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := bytes.Clone(sc.Bytes())
		if err := ValidateMessage(line); err != nil {
			return lines, fmt.Errorf("stdout line %d: %w", len(lines)+1, err)
		}
		lines = append(lines, line)
	}
	return lines, sc.Err()
}

func tail(b []byte) []byte {
	if len(b) > 80 {
		return b[len(b)-80:]
	}
	return b
}
