package testsource

import (
	"strings"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
)

// SlicedConfig is the config of SlicedSource.
type SlicedConfig struct {
	BaseURL   string     `json:"base_url" title:"Base URL" description:"Root URL of the test API." format:"uri" examples:"http://127.0.0.1:8080"`
	StartDate *time.Time `json:"start_date,omitempty" title:"Start date" description:"Events updated at or after this time are synced; empty: all of them, in one window." format:"date-time"`
}

// SlicedSource declares "events" read in time windows (integ.Slices) of
// 10 minutes from start_date: each window asks
// /events?updated_since=<start>&updated_before=<end> and follows its pages.
func SlicedSource() *integ.Source {
	return integ.NewSource("testsource_sliced", SlicedConfig{},
		integ.WithTitle("Test source, sliced"),
		integ.WithDescription("Events from integ's test API, read in parallel time windows."),
		integ.WithStreams(
			integ.NewStream("events", Event{}, readWindow,
				integ.PrimaryKey("id"),
				integ.Incremental("updated_at"),
				integ.Sorted(), // ascending in each window: its progress is checkpointed
				integ.Slices(10*time.Minute, startDate),
				integ.Description("Events, by windows of updated_at."),
			),
		),
	)
}

func startDate(c *integ.HttpContext) (time.Time, error) {
	cfg, err := integ.ConfigOf[SlicedConfig](c)
	if err != nil || cfg.StartDate == nil {
		return time.Time{}, err
	}
	return *cfg.StartDate, nil
}

// readWindow reads one window (or, in a check, the first page of all).
func readWindow(c *integ.HttpContext) error {
	cfg, err := integ.ConfigOf[SlicedConfig](c)
	if err != nil {
		return err
	}
	req := requests.New(strings.TrimRight(cfg.BaseURL, "/") + "/events")
	if w, ok := c.Slice(); ok {
		if !w.Start.IsZero() {
			req = req.Query("updated_since", w.Start.UTC().Format(time.RFC3339Nano))
		}
		req = req.Query("updated_before", w.End.UTC().Format(time.RFC3339Nano))
	}
	return emitPages(c, req)
}
