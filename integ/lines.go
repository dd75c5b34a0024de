package integ

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// linesPerPage is how many records of a streamed body make a page: the
// output is flushed and a checkpoint considered at each page's end, so
// memory stays flat whatever the body's size.
const linesPerPage = 1000

// recordDecoder reads a streamed body one record at a time, appending each
// record as a JSON object to dst; io.EOF ends the body.
type recordDecoder interface {
	next(dst []byte) ([]byte, error)
}

// CSVOption configures EmitCSV.
type CSVOption func(*csvOptions)

type csvOptions struct {
	emptyNull bool
	comma     rune
	onHeader  func(http.Header)
}

// CSVEmptyAsNull writes an empty CSV value as null; by default it is the
// empty string "". (An empty value in an integer, number or boolean column
// is always null.)
func CSVEmptyAsNull() CSVOption { return func(o *csvOptions) { o.emptyNull = true } }

// CSVDelimiter sets the field delimiter (default ',').
func CSVDelimiter(r rune) CSVOption { return func(o *csvOptions) { o.comma = r } }

// CSVResponseHeader hands fn the response's headers before the body is
// read: an API may name the next page there (Salesforce's Sforce-Locator).
func CSVResponseHeader(fn func(http.Header)) CSVOption {
	return func(o *csvOptions) { o.onHeader = fn }
}

// EmitCSV sends req through the run's HTTP stack and emits one record per
// row of the CSV body (RFC 4180: quoted fields may hold commas, quotes and
// newlines). The header row names the fields. Values are strings, unless the
// stream's schema types the field integer, number or boolean and the value
// parses as one. The body is streamed: memory does not grow with its size,
// and checkpoints are written as rows go out. A body that breaks mid-way is
// an error (not retried: the stream resumes from its last checkpoint).
func (c *HttpContext) EmitCSV(req *requests.Request, opts ...CSVOption) error {
	o := csvOptions{comma: ','}
	for _, opt := range opts {
		opt(&o)
	}
	return c.emitStreamed(req, "CSV", o.onHeader, func(body io.Reader) recordDecoder {
		return newCSVDecoder(body, c.w.info.Stream.Schema, o)
	})
}

// EmitJSONLines sends req through the run's HTTP stack and emits one record
// per line of the body, each a JSON object (JSON Lines, as Shopify's bulk
// operations write). Blank lines are skipped; a line that is not a JSON
// object is an error naming its line number. Streamed like EmitCSV.
func (c *HttpContext) EmitJSONLines(req *requests.Request) error {
	return c.emitStreamed(req, "JSON Lines", nil, func(body io.Reader) recordDecoder {
		return newJSONLinesDecoder(body, c.http.maxBytes)
	})
}

func (c *HttpContext) emitStreamed(req *requests.Request, format string, onHeader func(http.Header), decoder func(io.Reader) recordDecoder) error {
	if c.w == nil {
		return errNoStream
	}
	resp, err := requests.DoRaw(c.ctx, c.http.doer, req)
	if err != nil {
		return fmt.Errorf("stream %q: %w", c.Stream(), err)
	}
	defer resp.Body.Close()
	if onHeader != nil {
		onHeader(resp.Header)
	}
	if err := c.emitDecoded(decoder(resp.Body)); err != nil {
		if errors.Is(err, errCheckDone) {
			return err
		}
		if errors.Is(err, requests.ErrBodyInterrupted) {
			// Not retried here: the rows before the break are out already.
			return &Error{Kind: TransientFailure, Err: err,
				Msg: fmt.Sprintf("stream %q: the %s download broke off mid-way; run the sync again: it resumes from the stream's last checkpoint", c.Stream(), format)}
		}
		return fmt.Errorf("stream %q: %s body from %s: %w", c.Stream(), format, requests.RedactURL(resp.URL), err)
	}
	return nil
}

// emitDecoded emits a decoder's records in pages of linesPerPage.
func (c *HttpContext) emitDecoded(dec recordDecoder) error {
	var rec []byte
	n := 0
	for {
		var err error
		rec, err = dec.next(rec[:0])
		if err == io.EOF {
			break
		}
		if err != nil {
			if n > 0 {
				_ = c.endPage() // what was read goes out with its state
			}
			return err
		}
		if n == 0 {
			c.w.beginPageIfNeeded()
			c.w.multiline = false // decoders write single-line records
		}
		c.record(rec)
		if n++; n == linesPerPage {
			if err := c.endPage(); err != nil {
				return err
			}
			n = 0
		}
	}
	if n > 0 {
		return c.endPage()
	}
	return nil
}

type colKind uint8

const (
	colString colKind = iota
	colInteger
	colNumber
	colBoolean
)

type csvDecoder struct {
	r      *csv.Reader
	opts   csvOptions
	schema *Schema
	keys   [][]byte // each column's `"name":`
	kinds  []colKind
	header bool
}

func newCSVDecoder(body io.Reader, schema *Schema, o csvOptions) *csvDecoder {
	r := csv.NewReader(body)
	r.Comma = o.comma
	r.ReuseRecord = true
	return &csvDecoder{r: r, opts: o, schema: schema}
}

func (d *csvDecoder) readHeader() error {
	row, err := d.r.Read()
	if err != nil {
		return err // io.EOF: an empty body, no records
	}
	seen := make(map[string]bool, len(row))
	for i, name := range row {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff") // a byte order mark from a spreadsheet export
		}
		// Judged on the encoded key: names that differ only in invalid
		// UTF-8 bytes become the same JSON key, and one would hide the other.
		key := appendJSONString(nil, name)
		if seen[string(key)] {
			return fmt.Errorf("the header row names column %s twice (column %d)", key, i+1)
		}
		seen[string(key)] = true
		d.keys = append(d.keys, append(key, ':'))
		kind := colString
		if p := d.schema.Property(name); p != nil {
			switch {
			case p.Type.Has("integer"):
				kind = colInteger
			case p.Type.Has("number"):
				kind = colNumber
			case p.Type.Has("boolean"):
				kind = colBoolean
			}
		}
		d.kinds = append(d.kinds, kind)
	}
	d.header = true
	return nil
}

func (d *csvDecoder) next(dst []byte) ([]byte, error) {
	if !d.header {
		if err := d.readHeader(); err != nil {
			return dst, err
		}
	}
	row, err := d.r.Read()
	if err != nil {
		return dst, err // a *csv.ParseError names the line
	}
	dst = append(dst, '{')
	for i, v := range row {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, d.keys[i]...)
		dst = d.appendValue(dst, v, d.kinds[i])
	}
	return append(dst, '}'), nil
}

func (d *csvDecoder) appendValue(dst []byte, v string, kind colKind) []byte {
	if v == "" && (kind != colString || d.opts.emptyNull) {
		return append(dst, "null"...)
	}
	switch kind {
	case colInteger:
		if isJSONNumber(v, false) {
			return append(dst, v...)
		}
	case colNumber:
		if isJSONNumber(v, true) {
			return append(dst, v...)
		}
	case colBoolean:
		switch strings.ToLower(v) {
		case "true":
			return append(dst, "true"...)
		case "false":
			return append(dst, "false"...)
		}
	}
	return appendJSONString(dst, v)
}

// isJSONNumber reports whether s is a JSON number (an integer unless frac):
// written through as it is, so big values keep every digit.
func isJSONNumber(s string, frac bool) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	start := i
	n := digits()
	if n == 0 || (n > 1 && s[start] == '0') {
		return false
	}
	if frac {
		if i < len(s) && s[i] == '.' {
			i++
			if digits() == 0 {
				return false
			}
		}
		if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
			i++
			if i < len(s) && (s[i] == '+' || s[i] == '-') {
				i++
			}
			if digits() == 0 {
				return false
			}
		}
	}
	return i == len(s)
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' { // valid JSON, but some line readers split on them
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

type jsonLinesDecoder struct {
	r       *bufio.Reader
	maxLine int64
	line    int
	long    []byte // a line longer than the reader's buffer
}

func newJSONLinesDecoder(body io.Reader, maxLine int64) *jsonLinesDecoder {
	if maxLine <= 0 {
		maxLine = requests.DefaultMaxResponseBytes
	}
	return &jsonLinesDecoder{r: bufio.NewReaderSize(body, 64<<10), maxLine: maxLine}
}

// ErrBadLine marks a line of a JSON Lines body that is not a JSON object.
var ErrBadLine = errors.New("not a JSON object")

func (d *jsonLinesDecoder) next(dst []byte) ([]byte, error) {
	for {
		line, err := d.readLine()
		if err != nil {
			return dst, err
		}
		d.line++
		t := bytes.TrimSpace(line)
		if len(t) == 0 {
			continue
		}
		if t[0] != '{' || !gjson.ValidBytes(t) {
			return dst, fmt.Errorf("line %d: %w: %s", d.line, ErrBadLine, excerpt(t, 80))
		}
		n := len(dst)
		dst = append(dst, t...)
		// In valid JSON a carriage return can only be whitespace between
		// tokens (inside a string it must be escaped). Python readers split
		// lines on it, so it becomes a space rather than reach stdout.
		for i := bytes.IndexByte(dst[n:], '\r'); i >= 0; i = bytes.IndexByte(dst[n:], '\r') {
			dst[n+i] = ' '
		}
		return dst, nil
	}
}

// readLine returns the next line without its newline. At the end of the
// body it returns the last line, if any, then io.EOF.
func (d *jsonLinesDecoder) readLine() ([]byte, error) {
	line, err := d.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		d.long = append(d.long[:0], line...)
		for err == bufio.ErrBufferFull {
			if int64(len(d.long)) > d.maxLine {
				return nil, fmt.Errorf("line %d: longer than %d bytes", d.line+1, d.maxLine)
			}
			line, err = d.r.ReadSlice('\n')
			d.long = append(d.long, line...)
		}
		line = d.long
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			return line, nil // the last line has no newline
		}
		return nil, err // the end, or a body broken mid-line
	}
	return line[:len(line)-1], nil
}
