package integ

import (
	"context"
	"errors"
	"testing"
)

// Every partition started succeeded, then the context ended before the
// next could start: drain must not report success, or the stream would be
// checkpointed as complete without the partitions never read (a sliced
// sync interrupted between windows lost them so).
func TestPoolDrainReportsRefusedWork(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := newPartitionPool(ctx, 1)
	ran := make(chan struct{})
	if err := p.submit(func(context.Context) error { close(ran); return nil }); err != nil {
		t.Fatal(err)
	}
	<-ran
	cancel()
	if err := p.submit(func(context.Context) error { t.Error("a task started after the context ended"); return nil }); err == nil {
		t.Fatal("submit after the context ended started the task")
	}
	if err := p.drain(); !errors.Is(err, context.Canceled) {
		t.Fatalf("drain = %v, want the reason the second partition was refused", err)
	}
}
