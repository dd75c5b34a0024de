package requests

import (
	"context"
	"io"
	"sync"
)

// holdSlot makes body hold its request's concurrency slot until the body
// is read to the end or closed, or ctx ends, whichever comes first: a body
// a caller forgets to close gives its slot back when the request's context
// (a runner's, which ends when the runner returns) ends, instead of never.
func holdSlot(ctx context.Context, body io.ReadCloser, release func()) io.ReadCloser {
	b := &slotBody{ReadCloser: body, release: release}
	if ctx.Done() != nil {
		b.stop = context.AfterFunc(ctx, b.free)
	}
	return b
}

// slotBody releases its request's slot once, at EOF, Close or the end of
// the request's context.
type slotBody struct {
	io.ReadCloser
	release func()
	once    sync.Once
	stop    func() bool // unregisters the context watch; nil without one
}

// free releases the slot; the context watch calls it, so it must not
// touch stop (set after the watch is registered).
func (b *slotBody) free() { b.once.Do(b.release) }

// done releases the slot and ends the context watch.
func (b *slotBody) done() {
	b.free()
	if b.stop != nil {
		b.stop()
	}
}

func (b *slotBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done()
	}
	return n, err
}

func (b *slotBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}
