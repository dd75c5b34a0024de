package airbyte

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

// Message is the envelope of the messages this package writes with
// encoding/json (the record path appends bytes instead). Exactly one payload
// is set, matching Type.
type Message struct {
	Type             string            `json:"type"`
	Log              *LogMessage       `json:"log,omitempty"`
	Spec             *Spec             `json:"spec,omitempty"`
	ConnectionStatus *ConnectionStatus `json:"connectionStatus,omitempty"`
	Catalog          *Catalog          `json:"catalog,omitempty"`
	Trace            *Trace            `json:"trace,omitempty"`
	Control          *Control          `json:"control,omitempty"`
}

// LogMessage is the payload of a LOG message.
type LogMessage struct {
	Level   string `json:"level"`
	Message string `json:"message"`
}

// ConnectionStatus is the payload of a CONNECTION_STATUS message.
type ConnectionStatus struct {
	Status  string `json:"status"` // SUCCEEDED or FAILED
	Message string `json:"message,omitempty"`
}

// Connection statuses.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
)

// Trace is the payload of a TRACE message; this package writes ERROR ones
// through it (statuses and estimates go on the append path).
type Trace struct {
	Type      string      `json:"type"`
	EmittedAt int64       `json:"emitted_at"`
	Error     *TraceError `json:"error,omitempty"`
}

// TraceError is the error of a TRACE ERROR message.
type TraceError struct {
	Message          string            `json:"message"`
	InternalMessage  string            `json:"internal_message,omitempty"`
	FailureType      string            `json:"failure_type"`
	StreamDescriptor *StreamDescriptor `json:"stream_descriptor,omitempty"`
}

// StreamDescriptor names a stream.
type StreamDescriptor struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// FailureType is the Airbyte failure_type of an integ failure kind.
func FailureType(k integ.FailureKind) string {
	switch k {
	case integ.ConfigFailure:
		return "config_error"
	case integ.TransientFailure:
		return "transient_error"
	}
	return "system_error"
}

// ErrorTrace builds the TRACE ERROR message for err: the person's message
// (integ.UserMessage) and the technical one (err.Error()), with every
// secret redacted. stream may be nil.
func ErrorTrace(err error, at time.Time, stream *StreamDescriptor, secrets []string) *Message {
	user := requests.Redact(integ.UserMessage(err), secrets...)
	internal := requests.Redact(err.Error(), secrets...)
	return &Message{Type: "TRACE", Trace: &Trace{
		Type:      "ERROR",
		EmittedAt: at.UnixMilli(),
		Error: &TraceError{
			Message:          user,
			InternalMessage:  internal,
			FailureType:      FailureType(integ.KindOf(err)),
			StreamDescriptor: stream,
		},
	}}
}

// AppendMessage appends m as one JSON line.
func AppendMessage(dst []byte, m *Message) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return dst, fmt.Errorf("airbyte: encoding a %s message: %w", m.Type, err)
	}
	dst = append(dst, b...)
	return append(dst, '\n'), nil
}

// writeMessage writes m as one line of out.
func writeMessage(out *driver.Output, m *Message) error {
	line, err := AppendMessage(nil, m)
	if err != nil {
		return err
	}
	return out.Write(line)
}
