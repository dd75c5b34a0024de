package stripe_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integ/integ/integrations/stripe"
	"github.com/integ/integ/integtest"
	"github.com/tidwall/gjson"
)

const day = 86400

// windows lists the [created[gte], created[lt]) windows a run asked for,
// in days from t0.
func windows(srv *integtest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		lo, _ := strconv.ParseInt(r.Query.Get("created[gte]"), 10, 64)
		hi, _ := strconv.ParseInt(r.Query.Get("created[lt]"), 10, 64)
		w := fmt.Sprintf("[%d,%d)", (lo-t0)/day, (hi-t0)/day)
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out
}

// claimed reports whether a Stripe stream state says created second c is
// read: below its mark, or in one of its windows.
func claimed(st gjson.Result, c int64) bool {
	if c < st.Get("replication_key_value").Int() {
		return true
	}
	for _, w := range st.Get("slices").Array() {
		if c >= w.Get("start").Int() && c < w.Get("end").Int() {
			return true
		}
	}
	return false
}

func txnState(state []byte) gjson.Result {
	if v := gjson.GetBytes(state, "bookmarks.balance_transactions"); v.Exists() {
		return v
	}
	for _, s := range gjson.ParseBytes(state).Array() {
		if s.Get("stream.stream_descriptor.name").String() == "balance_transactions" {
			return s.Get("stream.stream_state")
		}
	}
	return gjson.Result{}
}

// A backfill from start_date reads balance transactions in 7-day windows,
// several at once, every record once. A window that fails leaves the
// others in the state; the resume asks only for the windows not in it,
// and the two runs hold every transaction.
func TestBackfillWindowsAndResume(t *testing.T) {
	for _, p := range []integtest.Protocol{integtest.Singer, integtest.Airbyte} {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(0)
			for i := range 30 {
				f.add("balance_transactions", int64(t0+i*day+3600))
			}
			failing := fmt.Sprint(t0 + 14*day)
			var healed atomic.Bool // requests of the first run may still be served
			f.fault = func(r *http.Request, _ int) (int, http.Header, string, bool) {
				if !healed.Load() && r.URL.Query().Get("created[gte]") == failing && r.URL.Query().Has("starting_after") {
					return 500, http.Header{"Stripe-Should-Retry": {"false"}}, `{"error":{"message":"An unknown error occurred","type":"api_error"}}`, true
				}
				return 0, nil, "", false
			}
			srv := integtest.NewServer(t, f)
			cfg := config(srv, "start_date", time.Unix(t0, 0).UTC().Format(time.RFC3339))
			end := at(t0 + 30*day)
			first := integtest.Sync(t, stripe.Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams("balance_transactions"),
				end, integtest.WithExpectedFailure())
			// The failure stops the windows after it, maybe before they start.
			asked := windows(srv)
			for _, w := range asked {
				if !slices.Contains([]string{"[0,7)", "[7,14)", "[14,21)", "[21,28)", "[28,30)"}, w) {
					t.Errorf("window %s; the 7-day windows from the start date are [0,7) to [28,30)", w)
				}
			}
			if !strings.Contains(first.Failure(), "An unknown error occurred") {
				t.Errorf("failure %q", first.Failure())
			}
			st := txnState(first.FinalState())
			if claimed(st, t0+14*day) || claimed(st, t0+21*day-1) {
				t.Fatalf("the failed window is in the state: %s", st.Raw)
			}
			// No state claims a transaction not written before it.
			recs := first.AllRecords()
			for _, cp := range first.Checkpoints() {
				written := map[string]bool{}
				for _, r := range recs[:cp.Records] {
					written[gjson.GetBytes(r.Data, "id").String()] = true
				}
				for _, o := range f.objects["balance_transactions"] {
					if claimed(txnState(cp.State), o.created) && !written[o.id] {
						t.Fatalf("state %s claims %s, not written before it", txnState(cp.State).Raw, o.id)
					}
				}
			}

			healed.Store(true)
			srv.Reset()
			second := integtest.Sync(t, stripe.Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams("balance_transactions"),
				end, integtest.WithState(first.FinalState()))
			for _, w := range windows(srv) {
				if !slices.Contains(asked, w) {
					asked = append(asked, w)
				}
				var lo int64
				fmt.Sscanf(w, "[%d,", &lo)
				if claimed(st, t0+lo*day) {
					t.Errorf("the resume asked for window %s again; the state had it: %s", w, st.Raw)
				}
			}
			slices.Sort(asked)
			if want := []string{"[0,7)", "[14,21)", "[21,28)", "[28,30)", "[7,14)"}; !slices.Equal(asked, want) {
				t.Errorf("windows of both runs %v, want %v", asked, want)
			}
			seen := map[string]int{}
			for _, r := range append(first.Records("balance_transactions"), second.Records("balance_transactions")...) {
				seen[gjson.GetBytes(r, "id").String()]++
			}
			if len(seen) != 30 {
				t.Errorf("%d distinct transactions over both runs, want 30", len(seen))
			}
			if got := txnState(second.FinalState()).Raw; got != fmt.Sprintf(`{"replication_key":"created","replication_key_value":%d}`, t0+30*day) {
				t.Errorf("final state %s", got)
			}
		})
	}
}

// The kit's checks on a backfill by windows: resuming from every
// checkpoint of either protocol loses no record.
func TestConformanceBackfill(t *testing.T) {
	f := newFixture(0)
	for i := range 12 {
		f.add("balance_transactions", int64(t0+i*day+3600))
		f.add("events", int64(t0+i*3*3600))
	}
	srv := integtest.NewServer(t, f)
	integtest.Conformance(t, stripe.Source(), config(srv, "start_date", time.Unix(t0, 0).UTC().Format(time.RFC3339)),
		integtest.WithStreams("balance_transactions", "events"), at(t0+14*day))
}
