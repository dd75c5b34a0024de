package integtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/integ/integ/internal/airbyteschema"
)

// Result is one run's output, parsed.
type Result struct {
	Protocol Protocol
	Args     []string // the command line, without the binary's name
	Stdout   []byte
	Stderr   []byte
	ExitCode int // -1: the run did not end in time or panicked

	messages    []json.RawMessage
	records     []Record
	checkpoints []Checkpoint
	logs        []string
	failure     string
	failureType string
	secrets     []string // masked in the kit's own failure messages
	label       string   // what a suite did to the run, for failure messages
}

// Record is one record in output order.
type Record struct {
	Stream string
	Data   json.RawMessage
}

// Checkpoint is one state message: State is what --state takes to resume
// from it (for Airbyte, the last state of every stream so far), Records
// how many records (of any stream) were written before it.
type Checkpoint struct {
	State   json.RawMessage
	Records int
}

// String names the run in failure messages.
// Files are shown by their base name.
func (r *Result) String() string {
	args := make([]string, len(r.Args))
	for i, a := range r.Args {
		if filepath.IsAbs(a) {
			a = filepath.Base(a)
		}
		args[i] = a
	}
	if r.label != "" {
		return "tap " + strings.Join(args, " ") + " (" + r.label + ")"
	}
	return "tap " + strings.Join(args, " ")
}

// Records returns the stream's records, raw, in output order.
func (r *Result) Records(stream string) []json.RawMessage {
	var out []json.RawMessage
	for _, rec := range r.records {
		if rec.Stream == stream {
			out = append(out, rec.Data)
		}
	}
	return out
}

// Counts returns how many records each stream has (streams with none are
// absent), for comparing a sync with what a fixture serves:
//
//	if got, want := res.Counts(), map[string]int{"orders": 5, "customers": 4}; !maps.Equal(got, want) {
//		t.Errorf("records %v, want %v", got, want)
//	}
func (r *Result) Counts() map[string]int {
	n := map[string]int{}
	for _, rec := range r.records {
		n[rec.Stream]++
	}
	return n
}

// AllRecords returns every record in output order.
func (r *Result) AllRecords() []Record { return r.records }

// Messages returns every stdout message, raw.
func (r *Result) Messages() []json.RawMessage { return r.messages }

// MessagesOf returns the stdout messages of one type (RECORD, STATE, LOG,
// TRACE, SCHEMA, ...).
func (r *Result) MessagesOf(typ string) []json.RawMessage {
	var out []json.RawMessage
	for _, m := range r.messages {
		var h struct{ Type string }
		if json.Unmarshal(m, &h) == nil && h.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// Checkpoints returns every state message with its position.
func (r *Result) Checkpoints() []Checkpoint { return r.checkpoints }

// States returns every checkpoint's state, each ready for WithState.
func (r *Result) States() []json.RawMessage {
	out := make([]json.RawMessage, len(r.checkpoints))
	for i, c := range r.checkpoints {
		out[i] = c.State
	}
	return out
}

// FinalState returns the last checkpoint's state (nil if none).
func (r *Result) FinalState() json.RawMessage {
	if len(r.checkpoints) == 0 {
		return nil
	}
	return r.checkpoints[len(r.checkpoints)-1].State
}

// Logs returns the log lines: stderr's lines and, for Airbyte, the LOG
// messages' text.
func (r *Result) Logs() []string { return r.logs }

// Failure returns the error the run reported (Singer's CRITICAL line,
// Airbyte's TRACE ERROR message), or "".
func (r *Result) Failure() string { return r.failure }

// FailureType returns Airbyte's failure_type of the reported error
// (config_error, transient_error or system_error), or "".
func (r *Result) FailureType() string { return r.failureType }

// document says stdout is one JSON document (Singer's --about and
// --discover), not messages.
func (r *Result) document() bool {
	if r.Protocol != Singer {
		return false
	}
	for _, a := range r.Args {
		if a == "--about" || a == "--discover" {
			return true
		}
	}
	return false
}

// parse splits stdout into messages and fails the test on anything that is
// not a whole protocol message.
func (r *Result) parse(t testing.TB) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimRight(string(r.Stderr), "\n"), "\n") {
		if l == "" {
			continue
		}
		r.logs = append(r.logs, l)
		if msg, ok := strings.CutPrefix(l, "CRITICAL "); ok && r.Protocol == Singer {
			r.failure = msg
		}
	}
	if len(r.Stdout) > 0 && r.Stdout[len(r.Stdout)-1] != '\n' {
		t.Errorf("%s: stdout ends with a partial line: %q", r, r.quote(tailOf(r.Stdout)))
	}
	if r.document() {
		if !json.Valid(r.Stdout) {
			t.Errorf("%s: stdout is not one JSON document: %.300s", r, r.quote(r.Stdout))
		}
		return
	}
	if r.Protocol == Airbyte {
		if _, err := airbyteschema.ValidateStdout(r.Stdout); err != nil {
			t.Errorf("%s: %s", r, r.quote([]byte(err.Error())))
		}
	}
	var streamStates []json.RawMessage // Airbyte: the last state of each stream
	var streamNames []string
	sc := bufio.NewScanner(bytes.NewReader(r.Stdout))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := json.RawMessage(bytes.Clone(sc.Bytes()))
		var m message
		if err := json.Unmarshal(line, &m); err != nil {
			t.Errorf("%s: stdout line is not JSON: %.300s", r, r.quote(line))
			continue
		}
		if m.Type == "" {
			t.Errorf("%s: stdout line is not a protocol message: %.300s", r, r.quote(line))
			continue
		}
		r.messages = append(r.messages, line)
		switch m.Type {
		case "RECORD":
			if r.Protocol == Airbyte && m.AirbyteRecord != nil {
				r.records = append(r.records, Record{Stream: m.AirbyteRecord.Stream, Data: m.AirbyteRecord.Data})
			} else {
				r.records = append(r.records, Record{Stream: m.Stream, Data: m.SingerRecord})
			}
		case "STATE":
			var st json.RawMessage
			if r.Protocol == Singer {
				st = m.Value
			} else {
				var desc struct {
					Type   string `json:"type"`
					Stream *struct {
						Descriptor json.RawMessage `json:"stream_descriptor"`
					} `json:"stream"`
				}
				json.Unmarshal(m.AirbyteState, &desc)
				if desc.Stream == nil { // GLOBAL or LEGACY: the state is whole
					streamStates, streamNames = []json.RawMessage{m.AirbyteState}, []string{""}
				} else {
					key := string(desc.Stream.Descriptor)
					i := indexOf(streamNames, key)
					if i < 0 {
						streamNames = append(streamNames, key)
						streamStates = append(streamStates, nil)
						i = len(streamNames) - 1
					}
					streamStates[i] = m.AirbyteState
				}
				st, _ = json.Marshal(streamStates)
			}
			r.checkpoints = append(r.checkpoints, Checkpoint{State: st, Records: len(r.records)})
		case "LOG":
			if m.Log != nil {
				r.logs = append(r.logs, m.Log.Level+" "+m.Log.Message)
			}
		case "TRACE":
			if m.Trace != nil && m.Trace.Error != nil && r.failure == "" {
				r.failure, r.failureType = m.Trace.Error.Message, m.Trace.Error.FailureType
				if m.Trace.Error.Internal != "" {
					r.failure += " (" + m.Trace.Error.Internal + ")"
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Errorf("%s: reading stdout: %v", r, err)
	}
}

// message holds the members of both protocols' messages the kit reads.
type message struct {
	Type          string          `json:"type"`
	Stream        string          `json:"stream"` // Singer
	SingerRecord  json.RawMessage `json:"-"`
	Value         json.RawMessage `json:"value"` // Singer STATE
	AirbyteRecord *struct {
		Stream string          `json:"stream"`
		Data   json.RawMessage `json:"data"`
	} `json:"-"`
	AirbyteState json.RawMessage `json:"-"`
	Log          *struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	} `json:"log"`
	Trace *struct {
		Error *struct {
			Message     string `json:"message"`
			Internal    string `json:"internal_message"`
			FailureType string `json:"failure_type"`
		} `json:"error"`
	} `json:"trace"`
}

// UnmarshalJSON reads "record" and "state", whose shapes differ between
// the protocols.
func (m *message) UnmarshalJSON(b []byte) error {
	type plain message
	var aux struct {
		plain
		Record json.RawMessage `json:"record"`
		State  json.RawMessage `json:"state"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*m = message(aux.plain)
	m.SingerRecord, m.AirbyteState = aux.Record, aux.State
	if len(aux.Record) > 0 && aux.Record[0] == '{' {
		var ab struct {
			Stream string          `json:"stream"`
			Data   json.RawMessage `json:"data"`
		}
		if json.Unmarshal(aux.Record, &ab) == nil && ab.Data != nil && m.Stream == "" {
			m.AirbyteRecord = &ab
		}
	}
	return nil
}

// quote returns output for a failure message with the run's secrets
// masked: the kit's report must not print what it looks for.
func (r *Result) quote(b []byte) string {
	s := string(b)
	for _, sec := range r.secrets {
		if len(sec) >= minSecret {
			s = strings.ReplaceAll(s, sec, "<SECRET>")
		}
	}
	return s
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func tailOf(b []byte) []byte {
	if len(b) > 80 {
		return b[len(b)-80:]
	}
	return b
}
