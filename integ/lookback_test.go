package integ

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ/driver"
	"github.com/tidwall/gjson"
)

func TestBookmarkLookBack(t *testing.T) {
	tests := []struct {
		name      string
		stored    string
		lookback  time.Duration
		seen      []string // replication values of the records read
		wantStart string   // what the runner filters from
		kept      int      // records not dropped as older than the start
		wantValue string   // the bookmark stored again
	}{
		{"RFC 3339, only older records re-read", `"2024-01-10T00:00:00Z"`, 48 * time.Hour,
			[]string{`"2024-01-08T12:00:00Z"`, `"2024-01-09T00:00:00Z"`}, `"2024-01-08T00:00:00Z"`, 2, `"2024-01-10T00:00:00Z"`},
		{"RFC 3339, a newer record moves it", `"2024-01-10T00:00:00Z"`, 48 * time.Hour,
			[]string{`"2024-01-09T00:00:00Z"`, `"2024-01-11T00:00:00Z"`}, `"2024-01-08T00:00:00Z"`, 2, `"2024-01-11T00:00:00Z"`},
		{"older than the lookback is still dropped", `"2024-01-10T00:00:00Z"`, time.Hour,
			[]string{`"2024-01-08T00:00:00Z"`, `"2024-01-09T23:30:00Z"`}, `"2024-01-09T23:00:00Z"`, 1, `"2024-01-10T00:00:00Z"`},
		{"nothing read keeps the stored value", `"2024-01-10T00:00:00Z"`, time.Hour, nil, `"2024-01-09T23:00:00Z"`, 0, `"2024-01-10T00:00:00Z"`},
		{"a date keeps its layout", `"2024-01-10"`, 72 * time.Hour, []string{`"2024-01-08"`}, `"2024-01-07"`, 1, `"2024-01-10"`},
		{"a number is not a time: no lookback", `1700`, time.Hour, []string{`1600`, `1800`}, `1700`, 1, `1800`},
		{"no lookback", `"2024-01-10T00:00:00Z"`, 0, []string{`"2024-01-09T00:00:00Z"`}, `"2024-01-10T00:00:00Z"`, 0, `"2024-01-10T00:00:00Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBookmark("updated", json.RawMessage(`{"replication_key_value":`+tt.stored+`}`), time.Time{})
			b.lookBack(tt.lookback)
			if b.start.Raw != tt.wantStart {
				t.Errorf("start %s, want %s", b.start.Raw, tt.wantStart)
			}
			kept := 0
			for _, v := range tt.seen {
				if b.observe([]byte(`{"updated":` + v + `}`)) {
					kept++
				}
			}
			if kept != tt.kept {
				t.Errorf("kept %d records, want %d", kept, tt.kept)
			}
			if got := string(b.value()); got != tt.wantValue {
				t.Errorf("stored %s, want %s", got, tt.wantValue)
			}
		})
	}
}

// Through a sync: the runner asks from the bookmark less the lookback, the
// records in that window are written, and the state never moves back.
func TestSyncLookback(t *testing.T) {
	srv := eventsAPI(t, 7, false)
	st := NewState()
	st.Set("events", json.RawMessage(`{"replication_key":"updated_at","replication_key_value":"2024-01-01T00:00:05Z"}`))
	out, err := runSync(t, eventsSource(t, Sorted(), Lookback(2*time.Second)), srv.URL, nil, st, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := lines(out, "REC "); len(got) != 5 {
		t.Errorf("got %d records, want 5 (ids 3 to 7):\n%s", len(got), out)
	}
	states := lines(out, "STATE ")
	if last := states[len(states)-1]; !strings.Contains(last, `"2024-01-01T00:00:07Z"`) {
		t.Errorf("final state %s", last)
	}
	for _, s := range states {
		if strings.Contains(s, `"2024-01-01T00:00:03Z"`) || strings.Contains(s, `"2024-01-01T00:00:04Z"`) {
			t.Errorf("the bookmark moved back: %s", s)
		}
	}
}

func TestFullRefreshByDefault(t *testing.T) {
	run := func(*HttpContext) error { return nil }
	type rec struct {
		ID int    `json:"id"`
		U  string `json:"u"`
	}
	st := NewStream("s", rec{}, run, Incremental("u"), FullRefreshByDefault())
	src := NewSource("x", struct{}{}, WithStreams(st))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	if m := st.SyncModes(); len(m) != 2 || m[0] != ModeFullRefresh || m[1] != ModeIncremental {
		t.Errorf("modes %v", m)
	}
	plans, err := src.Plan(nil)
	if err != nil || plans[0].Mode != ModeFullRefresh {
		t.Errorf("default mode %v, %v", plans[0].Mode, err)
	}
	plans, err = src.Plan(&Catalog{Streams: []CatalogStream{{Name: "s", Mode: ModeIncremental}}})
	if err != nil || plans[0].Mode != ModeIncremental {
		t.Errorf("chosen mode %v, %v", plans[0].Mode, err)
	}
	for _, opt := range []StreamOption{FullRefreshByDefault(), Lookback(time.Hour)} {
		bad := NewSource("x", struct{}{}, WithStreams(NewStream("s", rec{}, run, opt)))
		if bad.Err() == nil || !strings.Contains(bad.Err().Error(), "need a replication key") {
			t.Errorf("no replication key: %v", bad.Err())
		}
	}
	if err := NewSource("x", struct{}{}, WithStreams(NewStream("s", rec{}, run, Incremental("u"), Lookback(-time.Hour)))).Err(); err == nil {
		t.Error("a negative lookback was accepted")
	}
}

func TestComputeField(t *testing.T) {
	got := applyTransforms(t, `{"org":"acme","id":7,"cents":1999}`,
		ComputeField("key", func(r gjson.Result, _ *HttpContext) any { return r.Get("org").String() + "/" + r.Get("id").String() }),
		ComputeField("amount", func(r gjson.Result, _ *HttpContext) any { return json.RawMessage(`19.99`) }),
		Drop("cents"))
	if want := `{"org":"acme","id":7,"key":"acme/7","amount":19.99}`; got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

// An incremental stream whose records lack the replication key says so
// once, rather than store no bookmark in silence.
func TestSyncWarnsWhenRecordsLackTheReplicationKey(t *testing.T) {
	type rec struct {
		ID      int     `json:"id"`
		Updated *string `json:"updated"`
	}
	tests := []struct {
		name    string
		records []string
		want    string
		state   string
	}{
		{"none has it", []string{`{"id":1}`, `{"id":2,"updated":null}`}, "the bookmark did not move", "STATE s  records=2"},
		{"some have it", []string{`{"id":1}`, `{"id":2,"updated":"2024-01-01T00:00:00Z"}`}, "the bookmark follows the others", "2024-01-01"},
		{"all have it", []string{`{"id":2,"updated":"2024-01-01T00:00:00Z"}`}, "", "2024-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := NewSource("x", struct{}{}, WithStreams(NewStream("s", rec{}, func(c *HttpContext) error {
				for _, r := range tt.records {
					if err := c.EmitRaw([]byte(r)); err != nil {
						return err
					}
				}
				return nil
			}, PrimaryKey("id"), Incremental("updated"))))
			cfg, _ := src.ParseConfig(json.RawMessage(`{}`))
			var out, logs strings.Builder
			err := src.Sync(t.Context(), SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&out),
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(logs.String(), "replication_key=updated"); tt.want == "" && n != 0 || tt.want != "" && (n != 1 || !strings.Contains(logs.String(), tt.want)) {
				t.Errorf("logs:\n%s", logs.String())
			}
			if st := lines(out.String(), "STATE "); len(st) != 1 || !strings.Contains(st[0], tt.state) {
				t.Errorf("state %v, want %s", st, tt.state)
			}
		})
	}
}
