package airbyte_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/protocol/airbyte"
)

var clock = time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

func fixedNow() time.Time { return clock }

func streamRun(t testing.TB, incremental bool) *driver.Stream {
	t.Helper()
	return &driver.Stream{Name: `odd "name"`, PrimaryKey: []string{"id"}, ReplicationKey: "updated_at",
		Incremental: incremental, Schema: json.RawMessage(`{"type":"object"}`)}
}

func TestEncoderMessages(t *testing.T) {
	tests := []struct {
		name        string
		incremental bool
		namespace   string
		drive       func(e driver.StreamEncoder, dst []byte) []byte
		want        []string // one substring per line, in order
	}{
		{"full refresh with no state", false, "", func(e driver.StreamEncoder, b []byte) []byte {
			b = e.Start(b)
			b = e.Page(b, clock)
			b = e.Record(b, []byte(`{"id":1}`))
			b = e.Record(b, []byte(`{"id":2}`))
			b = e.State(b, &driver.Checkpoint{Records: 2})              // no value: held back
			b = e.Page(b, clock.Add(time.Second))                       // a later page
			b = e.Record(b, []byte(`{"id":3}`))                         //
			b = e.State(b, &driver.Checkpoint{Records: 1, Final: true}) // all 3 counted here
			return e.End(b, &driver.StreamResult{Records: 3})
		}, []string{
			`"status":"STARTED"`,
			`"status":"RUNNING"`,
			`{"type":"RECORD","record":{"stream":"odd \"name\"","data":{"id":1},"emitted_at":1714979289123}}`,
			`"data":{"id":2}`,
			`"data":{"id":3},"emitted_at":1714979290123}`,
			`"stream_state":{"__ab_no_cursor_state_message":true}},"sourceStats":{"recordCount":3.0}`,
			`"status":"COMPLETE"`,
		}},
		{"incremental, namespaced, estimated", true, "ns", func(e driver.StreamEncoder, b []byte) []byte {
			b = e.Start(b)
			b = e.(driver.Estimator).Estimate(b, 42)
			b = e.Page(b, clock)
			b = e.Record(b, []byte(`{"id":1,"updated_at":"2024-01-01T00:00:00Z"}`))
			b = e.State(b, &driver.Checkpoint{Records: 1, Value: json.RawMessage(`{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:00:00Z"}`)})
			b = e.State(b, &driver.Checkpoint{Records: 0, Final: true, Value: json.RawMessage(`{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:00:00Z"}`)})
			return e.End(b, &driver.StreamResult{Records: 1})
		}, []string{
			`"stream_descriptor":{"name":"odd \"name\"","namespace":"ns"},"status":"STARTED"`,
			`"estimate":{"name":"odd \"name\"","namespace":"ns","type":"STREAM","row_estimate":42}`,
			`"status":"RUNNING"`,
			`"record":{"namespace":"ns","stream":"odd \"name\"","data":{`,
			`"recordCount":1.0`,
			`"recordCount":0.0`,
			`"status":"COMPLETE"`,
		}},
		{"incremental first sync with nothing", true, "", func(e driver.StreamEncoder, b []byte) []byte {
			b = e.Start(b)
			b = e.State(b, &driver.Checkpoint{Final: true})
			return e.End(b, &driver.StreamResult{})
		}, []string{
			`"status":"STARTED"`,
			`"stream_state":{}},"sourceStats":{"recordCount":0.0}`,
			`"status":"RUNNING"`, // every stream goes through RUNNING
			`"status":"COMPLETE"`,
		}},
		{"failure", false, "", func(e driver.StreamEncoder, b []byte) []byte {
			b = e.Start(b)
			b = e.Page(b, clock)
			b = e.Record(b, []byte(`{"id":1}`))
			b = e.State(b, &driver.Checkpoint{Records: 1, Final: true})
			return e.End(b, &driver.StreamResult{Records: 1, Err: errors.New("boom")})
		}, []string{
			`"status":"STARTED"`,
			`"status":"RUNNING"`,
			`"data":{"id":1}`,
			`"recordCount":1.0`,
			`"status":"INCOMPLETE"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := airbyte.NewProtocol(airbyte.Namespaces{`odd "name"`: tt.namespace}, fixedNow)
			out := tt.drive(p.Stream(streamRun(t, tt.incremental)), nil)
			msgs := messages(t, out)
			if len(msgs) != len(tt.want) {
				t.Fatalf("%d messages, want %d:\n%s", len(msgs), len(tt.want), out)
			}
			for i, w := range tt.want {
				if !strings.Contains(msgs[i].Line, w) {
					t.Errorf("line %d: %s\nwant it to contain %s", i, msgs[i].Line, w)
				}
			}
			checkStateCounts(t, msgs, nil)
			if f := p.Failures(); (tt.name == "failure") != (len(f) == 1) {
				t.Errorf("failures %v", f)
			}
		})
	}
}

func TestRecordAllocatesNothing(t *testing.T) {
	e := airbyte.NewProtocol(nil, fixedNow).Stream(streamRun(t, false))
	buf := e.Page(make([]byte, 0, 1<<16), clock)
	rec := []byte(`{"id":12345,"updated_at":"2024-01-01T00:00:00Z"}`)
	allocs := testing.AllocsPerRun(1000, func() {
		buf = e.Record(buf[:0], rec)
	})
	if allocs != 0 {
		t.Fatalf("Record allocates %v times a record, want 0", allocs)
	}
}

// BenchmarkRecord shows the record path: run with -benchmem, 0 allocs/op.
func BenchmarkRecord(b *testing.B) {
	e := airbyte.NewProtocol(nil, fixedNow).Stream(streamRun(b, false))
	buf := e.Page(make([]byte, 0, 1<<16), clock)
	rec := []byte(`{"id":12345,"name":"bulbasaur","url":"https://pokeapi.co/api/v2/pokemon/1/"}`)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		buf = e.Record(buf[:0], rec)
	}
}

func TestLoggerWritesLogMessages(t *testing.T) {
	var out strings.Builder
	o := driver.NewOutput(&out)
	log := airbyte.NewLogger(o, slog.Level(-8), []string{"hunter2"}).With("stream", "users")
	log.Debug("debug")
	log.Info("token is hunter2", "url", "http://x/?key=hunter2")
	log.Warn("careful")
	log.Error("bad\nthing", "n", 3)
	msgs := messages(t, []byte(out.String()))
	want := []struct{ level, msg string }{
		{"DEBUG", "debug stream=users"},
		{"INFO", `token is REDACTED stream=users url="http://x/?key=REDACTED"`},
		{"WARN", "careful stream=users"},
		{"ERROR", "bad\nthing stream=users n=3"},
	}
	if len(msgs) != len(want) {
		t.Fatalf("%d messages, want %d", len(msgs), len(want))
	}
	for i, w := range want {
		if m := msgs[i].Log; m.Level != w.level || m.Message != w.msg {
			t.Errorf("log %d = %s %q, want %s %q", i, m.Level, m.Message, w.level, w.msg)
		}
	}
}

func TestErrorTrace(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{integ.ConfigErrorf("bad key hunter2"), "config_error"},
		{integ.TransientErrorf("try later"), "transient_error"},
		{errors.New("bug"), "system_error"},
		{&integ.Error{Kind: integ.ConfigFailure, Msg: "fix the key", Err: errors.New("401 for hunter2")}, "config_error"},
	}
	for _, tt := range tests {
		line, err := airbyte.AppendMessage(nil, airbyte.ErrorTrace(tt.err, clock, &airbyte.StreamDescriptor{Name: "s"}, []string{"hunter2"}))
		if err != nil {
			t.Fatal(err)
		}
		m := messages(t, line)[0]
		e := m.Trace.Error
		if e.FailureType != tt.want || strings.Contains(m.Line, "hunter2") || e.Message == "" || e.InternalMessage == "" || e.StreamDescriptor.Name != "s" {
			t.Errorf("%v: %s", tt.err, m.Line)
		}
	}
}
