package singer

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ/driver"
)

// TestRecordCountIsLoggedOnceAMinute: like singer-python's and the Meltano
// SDK's counters, record_count is logged at most once a minute while a
// stream runs (not at every checkpoint), and once more, with what is left,
// when it ends.
func TestRecordCountIsLoggedOnceAMinute(t *testing.T) {
	t0 := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	type page struct {
		after   time.Duration // the page's time, from the first page's
		records int64         // checkpointed after the page
	}
	tests := []struct {
		name  string
		pages []page
		want  []int64 // the record_count values logged, in order
	}{
		{"a short stream logs once, at its end", []page{{0, 10_000}, {10 * time.Second, 10_000}, {59 * time.Second, 5}}, []int64{20_005}},
		{"a minute's records, then the rest", []page{{0, 10_000}, {30 * time.Second, 10_000}, {60 * time.Second, 10_000}, {90 * time.Second, 7}}, []int64{30_000, 7}},
		{"the next minute counts from the last line", []page{{0, 1}, {61 * time.Second, 2}, {100 * time.Second, 3}, {122 * time.Second, 4}}, []int64{3, 7}},
		{"a line a minute on a slow stream", []page{{0, 1}, {60 * time.Second, 1}, {120 * time.Second, 1}}, []int64{2, 1}},
		{"nothing read, nothing logged", []page{{0, 0}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var metrics bytes.Buffer
			enc := NewProtocol(&metrics).Stream(&driver.Stream{Name: "items", Schema: []byte(`{}`)})
			for _, p := range tt.pages {
				enc.Page(nil, t0.Add(p.after))
				enc.State(nil, &driver.Checkpoint{Stream: "items", Records: p.records})
			}
			enc.State(nil, &driver.Checkpoint{Stream: "items", Final: true})
			enc.End(nil, &driver.StreamResult{Duration: time.Second})
			var got []int64
			for line := range strings.Lines(metrics.String()) {
				var n int64
				if _, err := fmt.Sscanf(line, `INFO METRIC: {"type": "counter", "metric": "record_count", "value": %d,`, &n); err == nil {
					got = append(got, n)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("record_count lines %v, want %v:\n%s", got, tt.want, metrics.String())
			}
			if !strings.Contains(metrics.String(), `"metric": "sync_duration"`) {
				t.Errorf("no sync_duration timer:\n%s", metrics.String())
			}
		})
	}
}
