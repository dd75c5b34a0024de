package airbyte_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/integ/integ/internal/airbyteschema"
	"github.com/integ/integ/internal/third_party/jsonschema"
)

// protocolSchema returns the compiled definition (AirbyteMessage,
// ConnectorSpecification, ConfiguredAirbyteCatalog, ...) of the official
// protocol schema, shared with integtest through internal/airbyteschema.
func protocolSchema(t testing.TB, def string) *jsonschema.Schema {
	t.Helper()
	s, err := airbyteschema.Schema(def)
	if err != nil {
		t.Fatalf("loading the protocol schema: %v", err)
	}
	return s
}

// validate checks one JSON document against a protocol definition.
func validate(t testing.TB, def string, doc []byte) {
	t.Helper()
	if err := airbyteschema.Validate(def, doc); err != nil {
		t.Fatal(err)
	}
}

// msg is a decoded AirbyteMessage with its raw line.
type msg struct {
	Type   string `json:"type"`
	Record *struct {
		Namespace string          `json:"namespace"`
		Stream    string          `json:"stream"`
		Data      json.RawMessage `json:"data"`
		EmittedAt int64           `json:"emitted_at"`
	} `json:"record"`
	State *struct {
		Type   string `json:"type"`
		Stream *struct {
			StreamDescriptor struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"stream_descriptor"`
			StreamState json.RawMessage `json:"stream_state"`
		} `json:"stream"`
		SourceStats *struct {
			RecordCount json.Number `json:"recordCount"`
		} `json:"sourceStats"`
	} `json:"state"`
	Log *struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	} `json:"log"`
	Spec             json.RawMessage `json:"spec"`
	Catalog          json.RawMessage `json:"catalog"`
	ConnectionStatus *struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"connectionStatus"`
	Trace *struct {
		Type        string  `json:"type"`
		EmittedAt   float64 `json:"emitted_at"`
		StreamState *struct {
			StreamDescriptor struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"stream_descriptor"`
			Status string `json:"status"`
		} `json:"stream_status"`
		Error *struct {
			Message          string `json:"message"`
			InternalMessage  string `json:"internal_message"`
			FailureType      string `json:"failure_type"`
			StreamDescriptor *struct {
				Name string `json:"name"`
			} `json:"stream_descriptor"`
		} `json:"error"`
		Estimate *struct {
			Name        string `json:"name"`
			Type        string `json:"type"`
			RowEstimate int64  `json:"row_estimate"`
		} `json:"estimate"`
	} `json:"trace"`
	Line string `json:"-"`
}

// messages checks that stdout is nothing but whole AirbyteMessage lines,
// each valid against the official schema and carrying the payload its type
// names (the schema alone does not require it), and decodes them.
func messages(t testing.TB, stdout []byte) []msg {
	t.Helper()
	lines, err := airbyteschema.ValidateStdout(stdout)
	if err != nil {
		t.Fatal(err)
	}
	var out []msg
	for _, line := range lines {
		var m msg
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("decoding %s: %v", line, err)
		}
		m.Line = string(line)
		out = append(out, m)
	}
	return out
}

func TestProtocolSchemaLoads(t *testing.T) {
	validate(t, "AirbyteMessage", []byte(`{"type":"LOG","log":{"level":"INFO","message":"x"}}`))
	inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"type":"LOG","log":{"level":"LOUD","message":"x"}}`))
	if err := protocolSchema(t, "AirbyteMessage").Validate(inst); err == nil {
		t.Fatal("the schema accepts a log level it does not define: it is not being applied")
	}
}
