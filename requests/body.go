package requests

import (
	"bytes"
	"io"
	"sync"
)

// Body buffers are pooled: at a thousand records a page, allocating each
// page's body afresh (and regrowing it while reading) was most of a tap's
// garbage. A response's buffer goes back to the pool on Release.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// maxPooled keeps a rare huge page from pinning its memory in the pool.
const maxPooled = 8 << 20

// readBody reads into a pooled buffer, presized from Content-Length when the
// server says it, until EOF or until it holds more than limit bytes (so the
// caller can tell "too large"; the bytes past limit are kept).
func readBody(r io.Reader, contentLength, limit int64) (*[]byte, error) {
	bp := bodyPool.Get().(*[]byte)
	b := (*bp)[:0]
	if contentLength > 0 && contentLength <= limit && int64(cap(b)) < contentLength+1 {
		b = make([]byte, 0, contentLength+1) // +1: the read that sees EOF
	}
	for {
		if len(b) == cap(b) {
			if int64(len(b)) > limit {
				break
			}
			b = append(b, 0)[:len(b)] // grow by append's policy
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			break // keep every byte read: Retry passes an oversized body on
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			*bp = b
			putBody(bp)
			return nil, err
		}
	}
	*bp = b
	return bp, nil
}

// bufferedBody is a response body already read by Retry. ReadJSON takes
// its buffer as the JSONResponse's; any other reader reads it as usual.
type bufferedBody struct {
	buf  bytes.Reader // over *bp; a value, so a page costs one allocation here
	bp   *[]byte
	rest io.ReadCloser // the unread remainder of a body larger than the read-ahead; nil when complete
}

func newBufferedBody(bp *[]byte, rest io.ReadCloser) *bufferedBody {
	b := &bufferedBody{bp: bp, rest: rest}
	b.buf.Reset(*bp)
	return b
}

func (b *bufferedBody) Read(p []byte) (int, error) {
	n, err := b.buf.Read(p)
	if err == io.EOF && b.rest != nil {
		if n > 0 {
			return n, nil
		}
		return b.rest.Read(p)
	}
	return n, err
}

// take hands over the buffer of a complete body; the body must not be read
// afterwards.
func (b *bufferedBody) take() (*[]byte, bool) {
	if b.rest != nil || b.bp == nil {
		return nil, false
	}
	bp := b.bp
	b.bp = nil
	return bp, true
}

func (b *bufferedBody) Close() error {
	putBody(b.bp)
	b.bp = nil
	if b.rest != nil {
		return b.rest.Close()
	}
	return nil
}

func putBody(bp *[]byte) {
	if bp == nil || cap(*bp) > maxPooled {
		return
	}
	*bp = (*bp)[:0]
	bodyPool.Put(bp)
}

// Release gives the response's body buffer back for reuse. Call it only
// when nothing refers to Body any more (records split from it included);
// the response must not be used afterwards. It is optional: an unreleased
// body is simply collected.
func (r *JSONResponse) Release() {
	if r.page != nil {
		r.page.release()
		r.page = nil
	}
	if r.pooled != nil {
		putBody(r.pooled)
		r.pooled, r.Body = nil, nil
	}
}
