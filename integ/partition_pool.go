package integ

import (
	"context"
	"sync"

	"github.com/integ/integ/internal/conc"
)

// partitionPool runs the partitions of a top-level stream's children
// without holding the parent back: the parent reads its next page while
// the partitions of the pages before it are still being read, so enough
// requests stay in flight to reach the run's rate. At most size partitions
// run at once (each holds at most maxQueuedPages pages, so memory stays
// bounded), and each child stream's partitions still write in parent order:
// the chain of "wait for the previous partition" runs across pages.
//
// The parent's own state must never cover a parent record whose children
// are not written yet: before the parent checkpoints, it drains the pool.
type partitionPool struct {
	ctx    context.Context // ends at the first error a partition returns
	cancel context.CancelCauseFunc
	slots  chan struct{}
	tails  map[*childStream]<-chan struct{} // the last partition of each child stream

	mu      sync.Mutex
	first   error
	refused error // why a submit started nothing: that work was not done
	pending []*conc.Future[struct{}]
}

func newPartitionPool(ctx context.Context, size int) *partitionPool {
	p := &partitionPool{slots: make(chan struct{}, max(size, 1)), tails: map[*childStream]<-chan struct{}{}}
	p.ctx, p.cancel = context.WithCancelCause(ctx)
	return p
}

// tail is the channel the next partition of cs waits for.
func (p *partitionPool) tail(cs *childStream) <-chan struct{} {
	if t, ok := p.tails[cs]; ok {
		return t
	}
	return closedChan
}

// submit starts task once a slot is free. It fails, starting nothing, once
// a partition has failed or ctx has ended.
func (p *partitionPool) submit(task func(context.Context) error) error {
	select {
	case p.slots <- struct{}{}:
	case <-p.ctx.Done():
		return p.refuse()
	}
	if p.ctx.Err() != nil {
		<-p.slots
		return p.refuse()
	}
	f := conc.GoContext(p.ctx, func(ctx context.Context) (struct{}, error) {
		defer func() { <-p.slots }()
		err := task(ctx)
		if err != nil {
			p.fail(err)
		}
		return struct{}{}, err
	})
	p.mu.Lock()
	// Partitions mostly finish in order: forget those that have.
	n := 0
	for n < len(p.pending) && isDone(p.pending[n]) {
		n++
	}
	p.pending = append(p.pending[n:], f)
	p.mu.Unlock()
	return nil
}

func isDone(f *conc.Future[struct{}]) bool {
	select {
	case <-f.Done():
		return true
	default:
		return false
	}
}

func (p *partitionPool) fail(err error) {
	p.mu.Lock()
	if p.first == nil {
		p.first = err
	}
	p.mu.Unlock()
	p.cancel(err)
}

// refuse records that a task was not started, and why.
func (p *partitionPool) refuse() error {
	err := p.err()
	p.mu.Lock()
	if p.refused == nil {
		p.refused = err
	}
	p.mu.Unlock()
	return err
}

// err is the first partition's error, or why the context ended.
func (p *partitionPool) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first != nil {
		return p.first
	}
	return context.Cause(p.ctx)
}

// busy reports whether partitions are still running.
func (p *partitionPool) busy() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.pending {
		if !isDone(f) {
			return true
		}
	}
	return false
}

// drain waits for every partition started and returns the first error: a
// partition's, or else why a task was refused. Every started partition may
// have succeeded when the context ended before the rest could start: the
// stream is not complete then, and must not be checkpointed as if it were.
func (p *partitionPool) drain() error {
	p.mu.Lock()
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, f := range pending {
		if _, err := f.Await(); err != nil {
			p.fail(err) // a panic escapes the task's own fail
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first != nil {
		return p.first
	}
	return p.refused
}
