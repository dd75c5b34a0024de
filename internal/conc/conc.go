// Package conc is the only package in integ allowed to use the bare go
// statement (enforced by the barego analyzer). It offers futures and bounded
// parallel runs that recover panics into errors, so a bug in one request
// handler or stream worker can never crash the whole tap.
package conc

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// ErrPanic is wrapped by every error produced from a recovered panic.
var ErrPanic = errors.New("panic recovered")

// maxFrames bounds the stack captured for a recovered panic: enough to find
// the culprit without flooding logs.
const maxFrames = 8

// PanicError is the error produced from a recovered panic. It wraps ErrPanic
// and, when the panic value is itself an error, that error too.
type PanicError struct {
	Value any    // the value passed to panic
	Stack string // the first few frames where the panic happened
}

// Error reports the panic value followed by the captured frames.
func (e *PanicError) Error() string {
	return fmt.Sprintf("%v: %v\n%s", ErrPanic, e.Value, e.Stack)
}

// Unwrap lets errors.Is match ErrPanic and any error value that was panicked.
func (e *PanicError) Unwrap() []error {
	if err, ok := e.Value.(error); ok {
		return []error{ErrPanic, err}
	}
	return []error{ErrPanic}
}

// newPanicError must be called directly from the deferred recover function
// so the skip count lands on the panicking frame.
func newPanicError(v any) error {
	pcs := make([]uintptr, maxFrames)
	// Skip runtime.Callers, newPanicError, the deferred func and runtime.gopanic.
	n := runtime.Callers(4, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var b strings.Builder
	for {
		f, more := frames.Next()
		fmt.Fprintf(&b, "\t%s\n\t\t%s:%d\n", f.Function, f.File, f.Line)
		if !more {
			break
		}
	}
	return &PanicError{Value: v, Stack: b.String()}
}

// safe runs fn, converting a panic into a *PanicError.
func safe(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(v)
		}
	}()
	return fn()
}

// Future is the pending result of a function running in its own goroutine.
// It is safe to Await from several goroutines and more than once.
type Future[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// Go runs fn in a new goroutine and returns its future result.
func Go[T any](fn func() (T, error)) *Future[T] {
	f := &Future[T]{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.err = safe(func() error {
			var err error
			f.val, err = fn()
			return err
		})
	}()
	return f
}

// GoContext is Go for functions taking a context; ctx is passed through
// unchanged, so cancelling it is how the caller stops fn.
func GoContext[T any](ctx context.Context, fn func(context.Context) (T, error)) *Future[T] {
	return Go(func() (T, error) { return fn(ctx) })
}

// Await blocks until the function finishes and returns its result.
func (f *Future[T]) Await() (T, error) {
	<-f.done
	return f.val, f.err
}

// Done is closed when the function has finished.
func (f *Future[T]) Done() <-chan struct{} { return f.done }

// AwaitContext is Await that gives up when ctx ends, returning ctx.Err().
// The function itself keeps running; cancel its own context to stop it.
func (f *Future[T]) AwaitContext(ctx context.Context) (T, error) {
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// Do runs fns with at most max running at once (max <= 0 means no bound)
// and waits for all of them. Unlike DoCtx it does not stop early: every
// function runs, and all errors (including recovered panics) are returned
// joined with errors.Join.
func Do(max int, fns ...func() error) error {
	errs := make([]error, len(fns))
	run(max, len(fns), func(i int) { errs[i] = safe(fns[i]) }, nil)
	return errors.Join(errs...)
}

// DoCtx runs fns with at most max running at once (max <= 0 means no bound)
// sharing a context derived from ctx. The first failure cancels that context
// and functions not yet started are skipped. DoCtx waits for every started
// function before returning, then returns only the first error: later ones
// are usually just context.Canceled echoes of the first and would hide it.
func DoCtx(ctx context.Context, max int, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		once  sync.Once
		first error
	)
	fail := func(err error) {
		once.Do(func() {
			first = err
			cancel(err)
		})
	}
	started := run(max, len(fns), func(i int) {
		if err := safe(func() error { return fns[i](ctx) }); err != nil {
			fail(err)
		}
	}, ctx.Done())
	if first == nil && started < len(fns) {
		// The parent context ended before every function ran.
		return fmt.Errorf("conc: %d of %d functions not started: %w", len(fns)-started, len(fns), context.Cause(ctx))
	}
	return first
}

// run calls work(i) for i in [0,n) on at most max goroutines and waits for
// all of them. Once stop is closed, indexes not yet started are skipped.
// It returns how many were started.
func run(max, n int, work func(int), stop <-chan struct{}) (started int) {
	if max <= 0 || max > n {
		max = n
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max)
loop:
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-stop:
			break loop
		}
		// Re-check: select picks randomly when both are ready.
		select {
		case <-stop:
			<-sem
			break loop
		default:
		}
		started++
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			work(i)
		}()
	}
	wg.Wait()
	return started
}
