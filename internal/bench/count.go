package bench

import (
	"bytes"
	"fmt"
)

// RecordPrefix starts every Singer and Airbyte RECORD line the integ
// encoders write: both put "type" first.
const RecordPrefix = `{"type":"RECORD"`

// LineCounter is an io.Writer that discards what it is given, counting the
// bytes and the newline-terminated lines that start with Prefix (every line
// when Prefix is empty), or, when Token is set, the occurrences of Token
// (the raw floor writes a page a line). Lines may be split across writes
// arbitrarily.
type LineCounter struct {
	Prefix []byte
	Token  []byte // when set, Lines counts its occurrences instead
	Bytes  int64  // every byte written
	Lines  int64  // complete lines starting with Prefix, or Token's occurrences

	tail []byte // the last len(Token)-1 bytes, for a Token split across writes

	seen int  // bytes of the current line compared with Prefix so far
	bad  bool // the current line does not start with Prefix
	open bool // the current line has at least one byte
}

// Write counts p; it never fails.
func (c *LineCounter) Write(p []byte) (int, error) {
	n := len(p)
	c.Bytes += int64(n)
	if len(c.Token) > 0 {
		c.countToken(p)
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		c.match(seg)
		if i < 0 {
			c.open = true
			break
		}
		if len(c.Token) == 0 && !c.bad && c.seen == len(c.Prefix) {
			c.Lines++
		}
		c.seen, c.bad, c.open = 0, false, false
		p = p[i+1:]
	}
	return n, nil
}

// countToken counts the occurrences of Token in p, including one that
// began in the previous write.
func (c *LineCounter) countToken(p []byte) {
	k := len(c.Token) - 1
	if len(c.tail) > 0 {
		// Only occurrences that start in the tail: those inside p are
		// counted below.
		joined := append(c.tail, p[:min(len(p), k)]...)
		c.Lines += int64(bytes.Count(joined, c.Token))
	}
	c.Lines += int64(bytes.Count(p, c.Token))
	if len(p) >= k {
		c.tail = append(c.tail[:0], p[len(p)-k:]...)
	} else {
		c.tail = append(c.tail, p...)
		c.tail = c.tail[max(0, len(c.tail)-k):]
	}
}

// match compares the start of the current line, seg continuing it, with
// Prefix.
func (c *LineCounter) match(seg []byte) {
	if c.bad || c.seen == len(c.Prefix) {
		return
	}
	k := min(len(seg), len(c.Prefix)-c.seen)
	if !bytes.Equal(seg[:k], c.Prefix[c.seen:c.seen+k]) {
		c.bad = true
		return
	}
	c.seen += k
}

// Verify reports an error unless exactly want records were counted and the
// output ended with a complete line.
func (c *LineCounter) Verify(want int) error {
	if c.open {
		return fmt.Errorf("output ends in the middle of a line after %d bytes", c.Bytes)
	}
	if c.Lines != int64(want) {
		return fmt.Errorf("emitted %d records, want exactly %d", c.Lines, want)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it, for error messages
// from a child's stderr.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(bytes.TrimSpace(t.buf)) }
