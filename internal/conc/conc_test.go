package conc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFutureAwait(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		fn      func() (int, error)
		want    int
		wantErr error
	}{
		{"value", func() (int, error) { return 42, nil }, 42, nil},
		{"error", func() (int, error) { return 0, boom }, 0, boom},
		{"panic string", func() (int, error) { panic("oops") }, 0, ErrPanic},
		{"panic error", func() (int, error) { panic(boom) }, 0, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Go(tt.fn)
			// Await twice: results must be stable.
			for range 2 {
				got, err := f.Await()
				if got != tt.want || !errors.Is(err, tt.wantErr) {
					t.Fatalf("Await() = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
				}
			}
		})
	}
}

func TestPanicErrorHasStack(t *testing.T) {
	_, err := Go(func() (int, error) { panicHere(); return 0, nil }).Await()
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *PanicError", err)
	}
	if pe.Value != "here" {
		t.Errorf("Value = %v, want here", pe.Value)
	}
	// The top frame must be the panicking function, not runtime internals.
	first, _, _ := strings.Cut(strings.TrimSpace(pe.Stack), "\n")
	if !strings.HasSuffix(first, "panicHere") {
		t.Errorf("top frame = %q, want panicHere; stack:\n%s", first, pe.Stack)
	}
	if !strings.Contains(err.Error(), "panicHere") {
		t.Errorf("Error() lacks the stack: %s", err)
	}
}

func panicHere() { panic("here") }

func TestGoContextPassesContext(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	got, err := GoContext(ctx, func(ctx context.Context) (string, error) {
		return ctx.Value(key{}).(string), nil
	}).Await()
	if err != nil || got != "v" {
		t.Fatalf("got %q, %v; want v, nil", got, err)
	}
}

func TestAwaitContextTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	f := Go(func() (int, error) { <-release; return 1, nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	got, err := f.AwaitContext(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || got != 0 {
		t.Fatalf("AwaitContext() = %v, %v; want 0, DeadlineExceeded", got, err)
	}
}

func TestAwaitContextDone(t *testing.T) {
	got, err := Go(func() (int, error) { return 7, nil }).AwaitContext(context.Background())
	if err != nil || got != 7 {
		t.Fatalf("AwaitContext() = %v, %v; want 7, nil", got, err)
	}
}

// boundedFns returns n functions that record the peak number running at once.
func boundedFns(n int, peak *atomic.Int64) []func(context.Context) error {
	var cur atomic.Int64
	fns := make([]func(context.Context) error, n)
	for i := range fns {
		fns[i] = func(context.Context) error {
			c := cur.Add(1)
			defer cur.Add(-1)
			for {
				p := peak.Load()
				if c <= p || peak.CompareAndSwap(p, c) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			return nil
		}
	}
	return fns
}

func TestDoCtxBound(t *testing.T) {
	tests := []struct {
		name     string
		max, n   int
		wantPeak int64 // exact upper bound; unbounded runs must exceed 1
	}{
		{"serial", 1, 10, 1},
		{"three", 3, 20, 3},
		{"more slots than work", 50, 5, 5},
		{"unbounded", 0, 8, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var peak atomic.Int64
			if err := DoCtx(context.Background(), tt.max, boundedFns(tt.n, &peak)...); err != nil {
				t.Fatal(err)
			}
			if p := peak.Load(); p > tt.wantPeak || p < 1 {
				t.Fatalf("peak concurrency = %d, want 1..%d", p, tt.wantPeak)
			}
		})
	}
}

func TestDoRunsAllAndJoinsErrors(t *testing.T) {
	var ran atomic.Int64
	e1, e2 := errors.New("e1"), errors.New("e2")
	err := Do(2,
		func() error { ran.Add(1); return e1 },
		func() error { ran.Add(1); return nil },
		func() error { ran.Add(1); panic("p") },
		func() error { ran.Add(1); return e2 },
	)
	if ran.Load() != 4 {
		t.Errorf("ran %d functions, want 4", ran.Load())
	}
	for _, want := range []error{e1, e2, ErrPanic} {
		if !errors.Is(err, want) {
			t.Errorf("Do error %v does not wrap %v", err, want)
		}
	}
}

func TestDoOrderOfResults(t *testing.T) {
	// Results written by index keep input order regardless of finish order.
	out := make([]int, 10)
	fns := make([]func() error, len(out))
	for i := range fns {
		fns[i] = func() error {
			time.Sleep(time.Duration(len(out)-i) * time.Millisecond)
			out[i] = i
			return nil
		}
	}
	if err := Do(4, fns...); err != nil {
		t.Fatal(err)
	}
	for i, v := range out {
		if v != i {
			t.Fatalf("out = %v, want 0..9 in order", out)
		}
	}
}

func TestDoCtxCancelsOnFirstError(t *testing.T) {
	boom := errors.New("boom")
	var sawCancel, started atomic.Int64
	fns := []func(context.Context) error{
		func(context.Context) error { started.Add(1); return boom },
	}
	for range 3 {
		fns = append(fns, func(ctx context.Context) error {
			started.Add(1)
			select {
			case <-ctx.Done():
				sawCancel.Add(1)
				return ctx.Err()
			case <-time.After(5 * time.Second):
				return nil
			}
		})
	}
	start := time.Now()
	err := DoCtx(context.Background(), 0, fns...)
	if !errors.Is(err, boom) {
		t.Fatalf("DoCtx error = %v, want boom", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("DoCtx did not cancel the others")
	}
	if sawCancel.Load() != started.Load()-1 {
		t.Fatalf("%d of %d waiting functions saw cancellation", sawCancel.Load(), started.Load()-1)
	}
}

func TestDoCtxSkipsAfterError(t *testing.T) {
	var ran atomic.Int64
	fns := []func(context.Context) error{
		func(context.Context) error { ran.Add(1); return errors.New("first") },
	}
	for range 20 {
		fns = append(fns, func(context.Context) error { ran.Add(1); return nil })
	}
	if err := DoCtx(context.Background(), 1, fns...); err == nil {
		t.Fatal("want error")
	}
	if ran.Load() != 1 {
		t.Fatalf("ran %d functions after the first failed serially, want 1", ran.Load())
	}
}

func TestDoCtxPanic(t *testing.T) {
	err := DoCtx(context.Background(), 2, func(context.Context) error { panic("bad") })
	if !errors.Is(err, ErrPanic) {
		t.Fatalf("DoCtx error = %v, want ErrPanic", err)
	}
}

func TestDoCtxParentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Int64
	err := DoCtx(ctx, 1, func(context.Context) error { ran.Add(1); return nil })
	if !errors.Is(err, context.Canceled) || ran.Load() != 0 {
		t.Fatalf("DoCtx = %v after running %d; want Canceled after 0", err, ran.Load())
	}
}

func TestDoCtxEmpty(t *testing.T) {
	if err := DoCtx(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	if err := Do(3); err != nil {
		t.Fatal(err)
	}
}

func ExampleGo() {
	f := Go(func() (int, error) { return 6 * 7, nil })
	v, err := f.Await()
	fmt.Println(v, err)
	// Output: 42 <nil>
}

func ExampleGo_panic() {
	_, err := Go(func() (int, error) { panic("boom") }).Await()
	fmt.Println(errors.Is(err, ErrPanic))
	// Output: true
}

func ExampleDoCtx() {
	pages := []string{"a", "b", "c"}
	sizes := make([]int, len(pages))
	fns := make([]func(context.Context) error, len(pages))
	for i, p := range pages {
		fns[i] = func(ctx context.Context) error {
			sizes[i] = len(p) // each function writes only its own slot
			return nil
		}
	}
	err := DoCtx(context.Background(), 2, fns...)
	fmt.Println(sizes, err)
	// Output: [1 1 1] <nil>
}
