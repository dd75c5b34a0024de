package integ

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ/driver"
)

// cancelOn cancels the sync when a line holding mark goes out: here, the
// state that claims the first window, written as that window completes.
type cancelOn struct {
	strings.Builder
	mark   string
	cancel context.CancelFunc
}

func (w *cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.mark) {
		w.cancel()
	}
	return w.Builder.Write(p)
}

// A sync interrupted just as its only running window completes, before the
// next window could start, is not complete: it ends interrupted, and its
// state claims the window that was read and not the one that was not.
func TestSlicedInterruptedBetweenWindows(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type event struct {
		ID        int       `json:"id"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	var started []string
	run := func(c *HttpContext) error {
		w, _ := c.Slice()
		started = append(started, w.String())
		return c.EmitRaw([]byte(`{"id":1,"updated_at":"` + w.Start.Add(time.Minute).Format(time.RFC3339) + `"}`))
	}
	src := NewSource("s", struct{}{}, WithPartitionParallelism(1), WithStreams(NewStream("events", event{}, run,
		PrimaryKey("id"), Incremental("updated_at"),
		Slices(time.Hour, func(*HttpContext) (time.Time, error) { return base, nil }))))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	cfg, _ := src.ParseConfig(json.RawMessage(`{}`))
	out := &cancelOn{mark: `"2024-01-01T01:00:00Z"`, cancel: cancel}
	err := src.Sync(ctx, SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(out),
		Now: func() time.Time { return base.Add(2 * time.Hour) }})
	if err == nil {
		t.Fatalf("the sync reported success after reading %v of two windows:\n%s", started, out.String())
	}
	states := lines(out.String(), "STATE ")
	if len(started) != 1 || len(states) == 0 {
		t.Fatalf("windows started %v, states %v", started, states)
	}
	last := states[len(states)-1]
	if strings.Contains(last, `"2024-01-01T02:00:00Z"`) || !strings.Contains(last, `01:00:00Z`) {
		t.Errorf("the state claims the window never read: %s", last)
	}
}
