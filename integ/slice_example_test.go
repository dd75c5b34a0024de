package integ_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/protocol/singer"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// A Stripe-like list filtered by created[gte] and created[lt] (Unix
// seconds) read as 7-day windows from the config's start_date, several at
// once; the state keeps the windows read.
func ExampleSlices() {
	type config struct {
		BaseURL   string    `json:"base_url"`
		StartDate time.Time `json:"start_date"`
	}
	type charge struct {
		ID      string `json:"id"`
		Created int64  `json:"created"` // Unix seconds: the state's marks are too
	}
	charges := integ.NewStream("charges", charge{}, func(c *integ.HttpContext) error {
		cfg, err := integ.ConfigOf[config](c)
		if err != nil {
			return err
		}
		req := requests.New(cfg.BaseURL + "/v1/charges")
		if w, ok := c.Slice(); ok { // not in a check
			req = req.Query("created[gte]", strconv.FormatInt(w.Start.Unix(), 10)).
				Query("created[lt]", strconv.FormatInt(w.End.Unix(), 10))
		}
		return c.EmitPages(req, requests.LastRecordCursor("data", "id", "starting_after", requests.HasMore("has_more")), "data")
	},
		integ.PrimaryKey("id"),
		integ.Incremental("created"),
		integ.Slices(7*24*time.Hour, func(c *integ.HttpContext) (time.Time, error) {
			cfg, err := integ.ConfigOf[config](c)
			return cfg.StartDate, err
		}),
	)
	src := integ.NewSource("payments", config{}, integ.WithStreams(charges))

	// The API: one charge a day from 2024-01-01; it logs the windows asked.
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gte, _ := strconv.ParseInt(r.URL.Query().Get("created[gte]"), 10, 64)
		lt, _ := strconv.ParseInt(r.URL.Query().Get("created[lt]"), 10, 64)
		mu.Lock()
		asked = append(asked, time.Unix(gte, 0).UTC().Format("Jan 2")+" to "+time.Unix(lt, 0).UTC().Format("Jan 2"))
		mu.Unlock()
		var data []charge
		for d := range 20 {
			if c := start.AddDate(0, 0, d).Unix() + 3600; c >= gte && c < lt {
				data = append(data, charge{ID: fmt.Sprintf("ch_%02d", d), Created: c})
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data, "has_more": false})
	}))
	defer srv.Close()

	cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `","start_date":"2024-01-01T00:00:00Z"}`))
	var out bytes.Buffer
	err := src.Sync(context.Background(), integ.SyncOptions{
		Config: cfg, Protocol: singer.NewProtocol(nil), Output: driver.NewOutput(&out),
		Now: func() time.Time { return start.AddDate(0, 0, 20) }, // the sync's start: the last window's end
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	slices.Sort(asked)
	fmt.Println(strings.Join(asked, "; "))
	var records int
	var state string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		switch gjson.Get(line, "type").String() {
		case "RECORD":
			records++
		case "STATE":
			state = gjson.Get(line, "value").Raw
		}
	}
	fmt.Println(records, "records; state:", state)
	// Output:
	// Jan 1 to Jan 8; Jan 15 to Jan 21; Jan 8 to Jan 15
	// 20 records; state: {"bookmarks":{"charges":{"replication_key":"created","replication_key_value":1705795200}}}
}
