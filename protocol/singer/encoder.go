// Package singer puts an integ source on the Singer protocol: the tap's
// command-line conventions (--config, --state, --catalog/--properties,
// --discover, --about) and its JSON-line messages (SCHEMA, RECORD, STATE),
// with metrics and logs on stderr. See https://hub.meltano.com/singer/spec.
package singer

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/integ/integ/integ/driver"
)

// timeLayout is singer-python's time_extracted format: RFC 3339, UTC,
// microseconds.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// stampCache appends times in timeLayout. A sync's pages mostly come
// within one second of each other: the date and time of day are formatted
// once a second, and only the microseconds a page. (time.AppendFormat took
// about 1.4 µs a page in a sync, its code cold between pages.)
type stampCache struct {
	sec  int64  // the Unix second text is of
	text []byte // sec in "2006-01-02T15:04:05", or empty
}

func (c *stampCache) append(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if s := t.Unix(); s != c.sec || len(c.text) == 0 {
		c.text = t.AppendFormat(c.text[:0], timeLayout[:len("2006-01-02T15:04:05")])
		c.sec = s
	}
	dst = append(dst, c.text...)
	var frac [8]byte // .000000Z
	frac[0], frac[7] = '.', 'Z'
	for i, us := 6, t.Nanosecond()/1000; i > 0; i, us = i-1, us/10 {
		frac[i] = byte('0' + us%10)
	}
	return append(dst, frac[:]...)
}

// metricInterval is how often a stream's record_count counter is logged
// while it runs: singer-python and the Meltano SDK log a counter at most
// once a minute, and once more when the stream ends. A line per checkpoint
// (every 10,000 records) would be hundreds of lines a second on a fast
// sync, each a write to stderr that the runner must read.
const metricInterval = time.Minute

// Protocol is the Singer message format. It implements driver.Protocol.
type Protocol struct {
	// Metrics receives "INFO METRIC: {...}" lines, one Write a line; it must
	// be safe for concurrent use. nil drops them.
	Metrics io.Writer
}

// NewProtocol returns the Singer protocol writing metrics to w.
func NewProtocol(metrics io.Writer) *Protocol { return &Protocol{Metrics: metrics} }

// Stream implements driver.Protocol.
func (p *Protocol) Stream(run *driver.Stream) driver.StreamEncoder {
	name, _ := json.Marshal(run.Name)
	e := &encoder{p: p, run: run, name: name}
	e.prefix = append(e.prefix, `{"type":"RECORD","stream":`...)
	e.prefix = append(e.prefix, name...)
	e.prefix = append(e.prefix, `,"record":`...)
	return e
}

type encoder struct {
	p          *Protocol
	run        *driver.Stream
	name       []byte
	prefix     []byte // {"type":"RECORD","stream":"x","record":
	suffix     []byte // ,"time_extracted":"..."}\n
	stamp      stampCache
	schemaSent bool

	// The record_count counter: records not yet logged, and the page time
	// of the last line (of the stream's first page before one).
	counted     int64
	countedFrom time.Time
	at          time.Time // the current page's extraction time
}

// Start sends nothing: SCHEMA goes out with the first page or state, so a
// stream that fails before reading anything leaves stdout empty.
func (e *encoder) Start(dst []byte) []byte { return dst }

func (e *encoder) schema(dst []byte) []byte {
	if e.schemaSent {
		return dst
	}
	e.schemaSent = true
	msg := schemaMessage{
		Type:          "SCHEMA",
		Stream:        e.run.Name,
		Schema:        e.run.Schema,
		KeyProperties: nonNil(e.run.PrimaryKey),
	}
	if e.run.Incremental && e.run.ReplicationKey != "" {
		msg.BookmarkProperties = []string{e.run.ReplicationKey}
	}
	b, _ := json.Marshal(msg) // strings and a schema the engine encoded
	dst = append(dst, b...)
	return append(dst, '\n')
}

type schemaMessage struct {
	Type               string          `json:"type"`
	Stream             string          `json:"stream"`
	Schema             json.RawMessage `json:"schema"`
	KeyProperties      []string        `json:"key_properties"`
	BookmarkProperties []string        `json:"bookmark_properties,omitempty"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (e *encoder) Page(dst []byte, at time.Time) []byte {
	dst = e.schema(dst)
	if e.countedFrom.IsZero() {
		e.countedFrom = at
	}
	e.at = at
	e.suffix = append(e.suffix[:0], `,"time_extracted":"`...)
	e.suffix = e.stamp.append(e.suffix, at)
	e.suffix = append(e.suffix, "\"}\n"...)
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

func (e *encoder) State(dst []byte, cp *driver.Checkpoint) []byte {
	e.counted += cp.Records
	if e.counted > 0 && e.at.Sub(e.countedFrom) >= metricInterval {
		e.logCount()
		e.countedFrom = e.at
	}
	if cp.Value == nil && !cp.Final {
		return dst // nothing new to bookmark: spare targets a repeated STATE
	}
	dst = e.schema(dst)
	dst = append(dst, `{"type":"STATE","value":`...)
	dst = appendStateValue(dst, cp.All)
	return append(dst, "}\n"...)
}

// appendStateValue writes {"bookmarks":{stream: state, ...}} in stream order.
func appendStateValue(dst []byte, streams map[string]json.RawMessage) []byte {
	dst = append(dst, `{"bookmarks":{`...)
	for i, name := range slices.Sorted(maps.Keys(streams)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		q, _ := json.Marshal(name)
		dst = append(dst, q...)
		dst = append(dst, ':')
		dst = append(dst, streams[name]...)
	}
	return append(dst, "}}"...)
}

func (e *encoder) End(dst []byte, res *driver.StreamResult) []byte {
	status := "succeeded"
	if res.Err != nil {
		status = "failed"
	}
	if e.counted > 0 {
		e.logCount()
	}
	e.metric("timer", "sync_duration", strconv.FormatFloat(res.Duration.Seconds(), 'f', 3, 64), `, "status": "`+status+`"`)
	return dst
}

// logCount logs the records counted since the last record_count line.
func (e *encoder) logCount() {
	e.metric("counter", "record_count", strconv.FormatInt(e.counted, 10), "")
	e.counted = 0
}

// metric writes one singer-python style metric line to stderr.
func (e *encoder) metric(kind, name, value, extraTags string) {
	if e.p.Metrics == nil {
		return
	}
	line := fmt.Sprintf("INFO METRIC: {\"type\": %q, \"metric\": %q, \"value\": %s, \"tags\": {\"endpoint\": %s%s}}\n",
		kind, name, value, e.name, extraTags)
	io.WriteString(e.p.Metrics, line)
}
