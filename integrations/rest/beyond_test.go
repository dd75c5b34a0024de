package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integtest"
)

// hubspotSearch answers like HubSpot's CRM search: POST a JSON body with
// filterGroups, sorts, limit and after; results and paging.next.after.
func hubspotSearch(t *testing.T, n int) *integtest.Server {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	return integtest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/crm/v3/objects/contacts/search" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(405)
			fmt.Fprint(w, `{"status": "error", "message": "Use POST with a JSON body"}`)
			return
		}
		var body struct {
			FilterGroups []struct {
				Filters []struct{ PropertyName, Operator, Value string }
			}
			Limit int
			After string
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"status": "error", "message": "Invalid input JSON: %s"}`, err)
			return
		}
		gte := int64(0)
		for _, g := range body.FilterGroups {
			for _, f := range g.Filters {
				v, err := strconv.ParseInt(f.Value, 10, 64)
				if f.PropertyName != "lastmodifieddate" || f.Operator != "GTE" || err != nil {
					w.WriteHeader(400)
					fmt.Fprint(w, `{"status": "error", "message": "Invalid filter"}`)
					return
				}
				gte = v
			}
		}
		var results []string
		for i := 1; i <= n; i++ {
			at := t0.Add(time.Duration(i) * time.Hour)
			if at.UnixMilli() >= gte {
				results = append(results, fmt.Sprintf(`{"id": "%d", "properties": {"email": "c%d@example.com", "lastmodifieddate": %q}, "archived": false}`, i, i, at.Format(time.RFC3339)))
			}
		}
		from, _ := strconv.Atoi(body.After)
		from = min(from, len(results))
		to := min(from+max(body.Limit, 1), len(results))
		paging := ""
		if to < len(results) {
			paging = fmt.Sprintf(`, "paging": {"next": {"after": "%d"}}`, to)
		}
		fmt.Fprintf(w, `{"total": %d, "results": [%s]%s}`, len(results), strings.Join(results[from:to], ","), paging)
	}))
}

// TestPostSearchWithBodyCursor: a POST search whose body holds the
// bookmark (Unix milliseconds, from start_date on the first sync) and the
// page token, HubSpot's shape.
func TestPostSearchWithBodyCursor(t *testing.T) {
	srv := hubspotSearch(t, 5)
	cfg := `{"base_url": "` + srv.URL + `", "start_date": "2024-03-01T02:00:00Z", "streams": [{
		"name": "contacts", "path": "/crm/v3/objects/contacts/search", "method": "POST", "records_path": "results",
		"primary_key": ["id"], "replication_key": "properties.lastmodifieddate",
		"body": {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": "{{bookmark | unix_ms}}"}]}],
			"sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}], "limit": 2},
		"pagination": {"type": "body_cursor", "path": "paging.next.after", "field": "after"}}]}`
	first := integtest.Sync(t, Source(), cfg)
	if got, want := idsOf(first.Records("contacts"), "id"), []string{"2", "3", "4", "5"}; !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	var afters []string
	for _, r := range srv.Requests() {
		var b struct{ After *string }
		_ = json.Unmarshal(r.Body, &b)
		if b.After != nil {
			afters = append(afters, *b.After)
		}
	}
	if !slices.Contains(afters, "2") {
		t.Errorf("no request sent after=2 in its body: %q", afters)
	}
	srv.Reset()
	second := integtest.Sync(t, Source(), cfg, integtest.WithState(first.FinalState()))
	if got, want := idsOf(second.Records("contacts"), "id"), []string{"5"}; !slices.Equal(got, want) {
		t.Errorf("second sync %v, want %v", got, want)
	}
	want := strconv.FormatInt(time.Date(2024, 3, 1, 5, 0, 0, 0, time.UTC).UnixMilli(), 10)
	if reqs := srv.Requests(); len(reqs) == 0 || !strings.Contains(string(reqs[len(reqs)-1].Body), `"value":"`+want+`"`) {
		t.Errorf("second sync did not send the bookmark %s in its body", want)
	}
}

// TestJSONLinesAndRecordFilter: a JSON Lines body, records filtered by a
// gjson condition.
func TestJSONLinesAndRecordFilter(t *testing.T) {
	srv := integtest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		for i := 1; i <= 6; i++ {
			state := "open"
			if i%2 == 0 {
				state = "closed"
			}
			fmt.Fprintf(w, "{\"id\": %d, \"state\": %q}\n", i, state)
		}
	}))
	cfg := `{"base_url": "` + srv.URL + `", "streams": [{"name": "tickets", "path": "/export", "format": "jsonl", "primary_key": ["id"],
		"record_filter": "state==\"open\"", "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "state": {"type": "string"}}}}]}`
	for _, p := range integtest.Protocols() {
		res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), every(cfg))
		if got, want := idsOf(res.Records("tickets"), "id"), []string{"1", "3", "5"}; !slices.Equal(got, want) {
			t.Errorf("%s: records %v, want %v", p, got, want)
		}
	}
}
