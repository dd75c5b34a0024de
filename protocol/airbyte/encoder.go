// Package airbyte puts an integ source on the Airbyte protocol
// (https://docs.airbyte.com/understanding-airbyte/airbyte-protocol): the
// spec, check, discover and read commands, each writing nothing but
// AirbyteMessage JSON lines to stdout.
//
// What the platform gets from a read:
//
//   - RECORD messages with emitted_at in epoch milliseconds, formatted once
//     a page, the record bytes spliced in unchanged (no allocation a record);
//   - TRACE STREAM_STATUS STARTED, RUNNING, then COMPLETE or INCOMPLETE for
//     every configured stream, and TRACE ESTIMATE where the API says how many
//     records a stream has;
//   - per-stream STREAM state whose sourceStats.recordCount is the number of
//     records of that stream since its previous state message. A full
//     refresh stream that keeps no state ends with the CDK's
//     {"__ab_no_cursor_state_message": true}, so that every stream's counts
//     add up;
//   - LOG messages for logs, with every config secret redacted;
//   - on failure, TRACE ERROR messages whose failure_type says who can fix
//     it (config_error, transient_error, system_error), and a non-zero exit.
//
// integ has no namespaces: a stream's records, states and statuses carry the
// namespace the configured catalog gives it, and none otherwise. Input state
// is matched on stream names alone.
package airbyte

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/integ/integ/integ/driver"
)

// ProtocolVersion is the Airbyte protocol version the spec declares: the
// platform's default for v0 (AirbyteProtocolVersion.DEFAULT_AIRBYTE_PROTOCOL_VERSION
// in airbyte-platform), which it assumes for a connector that declares none.
// The platform accepts a connector whose major version is in its supported
// range and picks message migrations by major version only, so every field
// written beyond 0.2.0 (stream statuses, sourceStats, is_resumable) is an
// optional v0 addition it reads as such.
const ProtocolVersion = "0.2.0"

// noCursorState is the final state of a full refresh stream with no state
// of its own, as the Airbyte CDK writes it.
const noCursorState = `{"__ab_no_cursor_state_message":true}`

// noCursorKey is the key of noCursorState, stripped from input state.
const noCursorKey = "__ab_no_cursor_state_message"

// Protocol is the Airbyte message format. It implements driver.Protocol and
// driver.Estimator on its stream encoders. Create it with NewProtocol; one
// Protocol serves one sync.
type Protocol struct {
	now        func() time.Time
	namespaces Namespaces

	mu       sync.Mutex
	failures []StreamFailure
}

// StreamFailure is a stream that ended with an error.
type StreamFailure struct {
	Stream    string
	Namespace string
	Err       error
}

// NewProtocol returns the Airbyte protocol. namespaces (from ParseCatalog,
// may be nil) gives streams their namespace; now is the clock of trace
// messages (nil: time.Now).
func NewProtocol(namespaces Namespaces, now func() time.Time) *Protocol {
	if now == nil {
		now = time.Now
	}
	return &Protocol{now: now, namespaces: namespaces}
}

// Failures lists the streams that have ended with an error so far, in the
// order they ended.
func (p *Protocol) Failures() []StreamFailure {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]StreamFailure(nil), p.failures...)
}

// Stream implements driver.Protocol.
func (p *Protocol) Stream(run *driver.Stream) driver.StreamEncoder {
	name := run.Name
	ns := p.namespaces[name]
	e := &encoder{p: p, run: run, name: name, namespace: ns}
	e.desc = appendDescriptor(nil, name, ns)
	e.prefix = append(e.prefix, `{"type":"RECORD","record":{`...)
	if ns != "" {
		e.prefix = append(e.prefix, `"namespace":`...)
		e.prefix = appendString(e.prefix, ns)
		e.prefix = append(e.prefix, ',')
	}
	e.prefix = append(e.prefix, `"stream":`...)
	e.prefix = appendString(e.prefix, name)
	e.prefix = append(e.prefix, `,"data":`...)
	e.suffix = append(e.suffix, `,"emitted_at":0}}`+"\n"...)
	return e
}

type encoder struct {
	p         *Protocol
	run       *driver.Stream
	name      string
	namespace string
	desc      []byte // {"name":"x"[,"namespace":"y"]}
	prefix    []byte // {"type":"RECORD","record":{"stream":"x","data":
	suffix    []byte // ,"emitted_at":1700000000000}}\n
	running   bool
	pending   int64 // records written since the last STATE message
}

var _ driver.Estimator = (*encoder)(nil)

func (e *encoder) Start(dst []byte) []byte {
	return e.appendStatus(dst, e.p.now(), "STARTED")
}

// Page formats emitted_at once for the page's records and reports the
// stream RUNNING before its first page.
func (e *encoder) Page(dst []byte, at time.Time) []byte {
	e.suffix = append(e.suffix[:0], `,"emitted_at":`...)
	e.suffix = strconv.AppendInt(e.suffix, at.UnixMilli(), 10)
	e.suffix = append(e.suffix, "}}\n"...)
	if !e.running {
		dst = e.appendStatus(dst, at, "RUNNING")
	}
	return dst
}

// Frame returns the bytes Record puts around every record of the page.
func (e *encoder) Frame() (prefix, suffix []byte) { return e.prefix, e.suffix }

// Record is the hot path: two appends around the untouched record bytes.
func (e *encoder) Record(dst, rec []byte) []byte {
	dst = append(dst, e.prefix...)
	dst = append(dst, rec...)
	return append(dst, e.suffix...)
}

// State writes a STREAM state. A checkpoint with no state value is only
// written when the stream ends; its records are counted in the next state
// that is written, so recordCount always covers exactly the records since
// the previous STATE message.
func (e *encoder) State(dst []byte, cp *driver.Checkpoint) []byte {
	e.pending += cp.Records
	value := []byte(cp.Value)
	if value == nil {
		if !cp.Final {
			return dst
		}
		if e.run.Incremental {
			value = []byte("{}")
		} else {
			value = []byte(noCursorState)
		}
	}
	dst = append(dst, `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":`...)
	dst = append(dst, e.desc...)
	dst = append(dst, `,"stream_state":`...)
	dst = append(dst, value...)
	dst = append(dst, `},"sourceStats":{"recordCount":`...)
	dst = strconv.AppendInt(dst, e.pending, 10)
	dst = append(dst, ".0}}}\n"...) // a double, as the protocol asks
	e.pending = 0
	return dst
}

// End reports COMPLETE or INCOMPLETE; a failed stream's error is kept for
// the TRACE ERROR that ends the read.
func (e *encoder) End(dst []byte, res *driver.StreamResult) []byte {
	now := e.p.now()
	if res.Err != nil {
		e.p.mu.Lock()
		e.p.failures = append(e.p.failures, StreamFailure{Stream: e.name, Namespace: e.namespace, Err: res.Err})
		e.p.mu.Unlock()
		return e.appendStatus(dst, now, "INCOMPLETE")
	}
	if !e.running { // a stream that read no page still goes through RUNNING
		dst = e.appendStatus(dst, now, "RUNNING")
	}
	return e.appendStatus(dst, now, "COMPLETE")
}

// Estimate implements driver.Estimator with a per-stream TRACE ESTIMATE.
func (e *encoder) Estimate(dst []byte, rows int64) []byte {
	dst = append(dst, `{"type":"TRACE","trace":{"type":"ESTIMATE","emitted_at":`...)
	dst = strconv.AppendInt(dst, e.p.now().UnixMilli(), 10)
	dst = append(dst, `,"estimate":{"name":`...)
	dst = appendString(dst, e.name)
	if e.namespace != "" {
		dst = append(dst, `,"namespace":`...)
		dst = appendString(dst, e.namespace)
	}
	dst = append(dst, `,"type":"STREAM","row_estimate":`...)
	dst = strconv.AppendInt(dst, rows, 10)
	return append(dst, "}}}\n"...)
}

func (e *encoder) appendStatus(dst []byte, at time.Time, status string) []byte {
	if status == "RUNNING" {
		e.running = true
	}
	dst = append(dst, `{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":`...)
	dst = strconv.AppendInt(dst, at.UnixMilli(), 10)
	dst = append(dst, `,"stream_status":{"stream_descriptor":`...)
	dst = append(dst, e.desc...)
	dst = append(dst, `,"status":"`...)
	dst = append(dst, status...)
	return append(dst, "\"}}}\n"...)
}

func appendDescriptor(dst []byte, name, namespace string) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendString(dst, name)
	if namespace != "" {
		dst = append(dst, `,"namespace":`...)
		dst = appendString(dst, namespace)
	}
	return append(dst, '}')
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}
