package airbyte_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// The official protocol schema, copied verbatim from upstream (see
// testdata/SOURCE.txt), is read from its YAML: re-copying it needs no step.
const protocolID = "https://github.com/airbytehq/airbyte/blob/master/airbyte-protocol/models/src/main/resources/airbyte_protocol/airbyte_protocol.yaml"

var (
	schemaOnce sync.Once
	schemas    map[string]*jsonschema.Schema
	schemaErr  error
)

// protocolSchema returns the compiled definition (AirbyteMessage,
// ConnectorSpecification, ConfiguredAirbyteCatalog, ...).
func protocolSchema(t testing.TB, def string) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		y, err := os.ReadFile(filepath.Join("testdata", "airbyte_protocol.yaml"))
		if err != nil {
			schemaErr = err
			return
		}
		j, err := yaml.YAMLToJSON(y)
		if err != nil {
			schemaErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft7)
		c.AssertFormat()
		if err := c.AddResource(protocolID, doc); err != nil {
			schemaErr = err
			return
		}
		schemas = map[string]*jsonschema.Schema{}
		for _, d := range []string{"AirbyteMessage", "ConnectorSpecification", "AirbyteCatalog", "ConfiguredAirbyteCatalog", "AirbyteStateMessage"} {
			s, err := c.Compile(protocolID + "#/definitions/" + d)
			if err != nil {
				schemaErr = err
				return
			}
			schemas[d] = s
		}
	})
	if schemaErr != nil {
		t.Fatalf("loading the protocol schema: %v", schemaErr)
	}
	s := schemas[def]
	if s == nil {
		t.Fatalf("no compiled definition %q", def)
	}
	return s
}

// validate checks one JSON document against a protocol definition.
func validate(t testing.TB, def string, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	if err := protocolSchema(t, def).Validate(inst); err != nil {
		t.Fatalf("does not validate against %s: %v\n%s", def, err, doc)
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

// payloadKey is the member each message type must carry.
var payloadKey = map[string]string{
	"RECORD": "record", "STATE": "state", "LOG": "log", "SPEC": "spec",
	"CONNECTION_STATUS": "connectionStatus", "CATALOG": "catalog", "TRACE": "trace",
}

// messages checks that stdout is nothing but whole AirbyteMessage lines,
// each valid against the official schema and carrying the payload its type
// names (the schema alone does not require it), and decodes them.
func messages(t testing.TB, stdout []byte) []msg {
	t.Helper()
	if len(stdout) > 0 && stdout[len(stdout)-1] != '\n' {
		t.Fatalf("stdout does not end with a newline: %q", tail(stdout))
	}
	var out []msg
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		validate(t, "AirbyteMessage", line)
		var m msg
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("decoding %s: %v", line, err)
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(line, &members); err != nil {
			t.Fatal(err)
		}
		key := payloadKey[m.Type]
		if key == "" || members[key] == nil {
			t.Fatalf("a %s message without %q: %s", m.Type, key, line)
		}
		switch key {
		case "spec":
			validate(t, "ConnectorSpecification", members[key])
		case "catalog":
			validate(t, "AirbyteCatalog", members[key])
		case "state":
			validate(t, "AirbyteStateMessage", members[key])
		}
		m.Line = string(line)
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func tail(b []byte) []byte {
	if len(b) > 80 {
		return b[len(b)-80:]
	}
	return b
}

func TestProtocolSchemaLoads(t *testing.T) {
	validate(t, "AirbyteMessage", []byte(`{"type":"LOG","log":{"level":"INFO","message":"x"}}`))
	inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"type":"LOG","log":{"level":"LOUD","message":"x"}}`))
	if err := protocolSchema(t, "AirbyteMessage").Validate(inst); err == nil {
		t.Fatal("the schema accepts a log level it does not define: it is not being applied")
	}
}
