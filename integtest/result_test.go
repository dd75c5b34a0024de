package integtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
)

// recorder is a testing.TB that keeps failures.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestParse(t *testing.T) {
	const (
		abState1 = `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"n":1}}}}`
		abState2 = `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"b"},"stream_state":{"n":2}}}}`
		abState3 = `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"n":3}}}}`
		abRecord = `{"type":"RECORD","record":{"stream":"a","data":{"id":1},"emitted_at":1}}`
	)
	tests := []struct {
		name     string
		protocol Protocol
		stdout   string
		stderr   string
		wantErr  string // in a failure; "" for none
		records  int
		states   []string
		failure  string
		logs     string // joined with |
	}{
		{name: "singer", protocol: Singer,
			stdout: `{"type":"RECORD","stream":"a","record":{"id":1}}` + "\n" + `{"type":"STATE","value":{"bookmarks":{"a":{"n":1}}}}` + "\n",
			stderr: "INFO hello\n", records: 1, states: []string{`{"bookmarks":{"a":{"n":1}}}`}},
		{name: "singer failure", protocol: Singer, stderr: "INFO x\nCRITICAL boom at /pokemon\n", failure: "boom at /pokemon"},
		{name: "partial line", protocol: Singer, stdout: `{"type":"RECORD","stream":"a","record":{"id":1}}`, wantErr: "partial line"},
		{name: "not JSON", protocol: Singer, stdout: "hello\n", wantErr: "not JSON"},
		{name: "no type", protocol: Singer, stdout: `{"stream":"a"}` + "\n", wantErr: "not a protocol message"},
		{name: "airbyte states accumulate per stream", protocol: Airbyte,
			stdout:  abRecord + "\n" + abState1 + "\n" + abState2 + "\n" + abState3 + "\n",
			records: 1,
			states: []string{
				`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"n":1}}}]`,
				`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"n":1}}},{"type":"STREAM","stream":{"stream_descriptor":{"name":"b"},"stream_state":{"n":2}}}]`,
				`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"n":3}}},{"type":"STREAM","stream":{"stream_descriptor":{"name":"b"},"stream_state":{"n":2}}}]`,
			}},
		{name: "airbyte message the protocol schema rejects", protocol: Airbyte,
			stdout: `{"type":"LOG","log":{"level":"LOUD","message":"x"}}` + "\n", wantErr: "AirbyteMessage"},
		{name: "airbyte log", protocol: Airbyte,
			stdout: `{"type":"LOG","log":{"level":"WARN","message":"slow"}}` + "\n", stderr: "ERROR usage\n", logs: "ERROR usage|WARN slow"},
		{name: "airbyte trace error", protocol: Airbyte,
			stdout:  `{"type":"TRACE","trace":{"type":"ERROR","emitted_at":1,"error":{"message":"bad key","failure_type":"config_error"}}}` + "\n",
			failure: "bad key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			r := &Result{Protocol: tt.protocol, Stdout: []byte(tt.stdout), Stderr: []byte(tt.stderr)}
			r.parse(rec)
			got := strings.Join(rec.errs, "\n")
			if (tt.wantErr == "") != (got == "") || !strings.Contains(got, tt.wantErr) {
				t.Fatalf("failures %q, want %q", got, tt.wantErr)
			}
			if tt.wantErr != "" {
				return
			}
			if len(r.AllRecords()) != tt.records {
				t.Errorf("%d records, want %d", len(r.AllRecords()), tt.records)
			}
			var states []string
			for _, s := range r.States() {
				states = append(states, string(s))
			}
			if strings.Join(states, "\n") != strings.Join(tt.states, "\n") {
				t.Errorf("states\n%s\nwant\n%s", strings.Join(states, "\n"), strings.Join(tt.states, "\n"))
			}
			if tt.logs != "" && strings.Join(r.Logs(), "|") != tt.logs {
				t.Errorf("logs %q, want %q", r.Logs(), tt.logs)
			}
			if r.Failure() != tt.failure {
				t.Errorf("failure %q, want %q", r.Failure(), tt.failure)
			}
			if len(tt.states) > 0 && string(r.FinalState()) != tt.states[len(tt.states)-1] {
				t.Errorf("final state %s", r.FinalState())
			}
		})
	}
}

func TestCompareProtocols(t *testing.T) {
	src := integ.NewSource("x", struct{}{}, integ.WithStreams(
		integ.NewStream("a", struct {
			ID int `json:"id"`
		}{}, func(*integ.HttpContext) error { return nil }, integ.PrimaryKey("id"))))
	res := func(recs ...string) *Result {
		r := &Result{}
		for _, d := range recs {
			r.records = append(r.records, Record{Stream: "a", Data: json.RawMessage(d)})
		}
		return r
	}
	tests := []struct {
		name    string
		a, b    *Result
		wantErr string
	}{
		{"same", res(`{"id":1,"at":1}`, `{"id":2}`), res(`{"id":1,"at":2}`, `{"id":2}`), ""},
		{"missing", res(`{"id":1}`, `{"id":2}`), res(`{"id":1}`), "2 records in Singer but 1"},
		{"other", res(`{"id":1}`, `{"id":2}`), res(`{"id":1}`, `{"id":3}`), "record 2 is id=2 in Singer but id=3"},
	}
	for _, tt := range tests {
		rec := &recorder{TB: t}
		(&conformance{t: rec, src: src}).compare(tt.a, tt.b)
		got := strings.Join(rec.errs, "\n")
		if (tt.wantErr == "") != (got == "") || !strings.Contains(got, tt.wantErr) {
			t.Errorf("%s: failures %q, want %q", tt.name, got, tt.wantErr)
		}
	}
}

// FuzzParse: whatever a connector writes, the kit reports it, never panics.
func FuzzParse(f *testing.F) {
	f.Add(true, []byte(`{"type":"RECORD","record":{"stream":"a","data":{"id":1},"emitted_at":1}}`+"\n"+`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"}}}}`+"\n"))
	f.Add(false, []byte(`{"type":"STATE","value":{"bookmarks":{}}}`+"\n"+`{"type":"RECORD","stream":"a","record":[1]}`+"\n"))
	f.Add(true, []byte(`{"type":"STATE","state":{"type":"GLOBAL","global":{}}}`+"\n{\n"))
	f.Fuzz(func(t *testing.T, airbyte bool, stdout []byte) {
		p := Singer
		if airbyte {
			p = Airbyte
		}
		r := &Result{Protocol: p, Stdout: stdout, Stderr: stdout}
		r.parse(&recorder{TB: t})
		if len(r.States()) != len(r.Checkpoints()) || (len(r.States()) > 0 && r.FinalState() == nil && p == Airbyte) {
			t.Errorf("states %d checkpoints %d", len(r.States()), len(r.Checkpoints()))
		}
	})
}
