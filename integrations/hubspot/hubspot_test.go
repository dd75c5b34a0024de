package hubspot

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
	"github.com/tidwall/gjson"
)

var crmStreams = []string{"contacts", "companies", "deals", "tickets"}

func TestConformance(t *testing.T) {
	srv := serve(t, newFixture(5))
	integtest.Conformance(t, Source(), tokenConfig(srv))
}

func TestConformanceFullRefresh(t *testing.T) {
	srv := serve(t, newFixture(3))
	integtest.Conformance(t, Source(), tokenConfig(srv), integtest.WithMode(integ.ModeFullRefresh))
}

// ids returns the records' ids in order.
func ids(recs []json.RawMessage) []string {
	var out []string
	for _, r := range recs {
		out = append(out, gjson.GetBytes(r, "id").String())
	}
	return out
}

// Full refresh lists every object with limit, the selected properties
// and archived=false, following paging.next.after; Bearer auth.
func TestFullRefreshRequests(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			srv := serve(t, newFixture(5))
			res := integtest.Sync(t, Source(), tokenConfig(srv), integtest.WithProtocol(p), integtest.WithMode(integ.ModeFullRefresh))
			for _, s := range crmStreams {
				if got := strings.Join(ids(res.Records(s)), ","); got != "1,2,3,4,5" {
					t.Errorf("%s: ids %s", s, got)
				}
			}
			if got := strings.Join(ids(res.Records("owners")), ","); got != "1000,1001,1002" {
				t.Errorf("owners: %s", got)
			}
			var lines []string
			for _, r := range srv.Requests() {
				if !r.HeaderIs("Authorization", "Bearer "+testToken) {
					t.Errorf("%s: no bearer token", r)
				}
				if strings.Contains(r.Path, "/contacts") || strings.Contains(r.Path, "/owners") {
					q, _ := url.QueryUnescape(r.Query.Encode())
					lines = append(lines, r.Method+" "+r.Path+"?"+q)
				}
			}
			props := "amount,closedate,createdate,hs_is_vip,hs_object_id,lastmodifieddate,name,stage"
			want := []string{
				"GET /crm/v3/properties/contacts?archived=false", // the test kit's discover
				"GET /crm/v3/owners?archived=false&limit=2",
				"GET /crm/v3/owners?after=2&archived=false&limit=2",
				"GET /crm/v3/objects/contacts?archived=false&limit=2&properties=" + props,
				"GET /crm/v3/objects/contacts?after=3&archived=false&limit=2&properties=" + props,
				"GET /crm/v3/objects/contacts?after=5&archived=false&limit=2&properties=" + props,
			}
			if strings.Join(lines, "\n") != strings.Join(want, "\n") {
				t.Errorf("requests\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// Property values come typed as the properties API types them.
func TestTypedRecord(t *testing.T) {
	srv := serve(t, newFixture(4))
	res := integtest.Sync(t, Source(), tokenConfig(srv), integtest.WithStreams("deals"), integtest.WithMode(integ.ModeFullRefresh))
	got := res.Records("deals")
	want := []string{
		`{"amount":null,"closedate":null,"createdate":"2024-01-01T00:00:00.000Z","hs_is_vip":false,"hs_lastmodifieddate":"2024-01-01T00:01:00.000Z","hs_object_id":1,"name":"deals 1","stage":"appointmentscheduled"}`,
		`{"amount":42,"closedate":"2024-03-01","createdate":"2024-01-01T00:00:00.000Z","hs_is_vip":null,"hs_lastmodifieddate":"2024-01-01T00:02:00.000Z","hs_object_id":2,"name":"deals 2","stage":"appointmentscheduled"}`,
		`{"amount":-7.25,"closedate":null,"createdate":"2024-01-01T00:00:00.000Z","hs_is_vip":true,"hs_lastmodifieddate":"2024-01-01T00:03:00.000Z","hs_object_id":3,"name":"deals 3","stage":"appointmentscheduled"}`,
		`{"amount":1500.50,"closedate":"2024-03-01","createdate":"2024-01-01T00:00:00.000Z","hs_is_vip":false,"hs_lastmodifieddate":"2024-01-01T00:04:00.000Z","hs_object_id":4,"name":"deals 4","stage":"appointmentscheduled"}`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d deals", len(got))
	}
	for i, r := range got {
		if p := gjson.GetBytes(r, "properties").Raw; p != want[i] {
			t.Errorf("deal %d properties\n%s\nwant\n%s", i+1, p, want[i])
		}
		if gjson.GetBytes(r, "updatedAt").String() != fmt.Sprintf("2024-01-01T00:0%d:00.000Z", i+1) || gjson.GetBytes(r, "archived").Raw != "false" {
			t.Errorf("deal %d: %s", i+1, r)
		}
	}
}

// searchBodies returns the search bodies the fixture received for object.
func searchBodies(f *fixture, object string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Split(strings.TrimSuffix(string(f.bodies[object]), "\n"), "\n")
}

// An incremental read searches, with exactly the body HubSpot documents,
// and resumes from its bookmark.
func TestIncremental(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(5)
			srv := serve(t, f)
			now := func() time.Time { return epoch.Add(24 * time.Hour) }
			res := integtest.Sync(t, Source(), tokenConfig(srv), integtest.WithProtocol(p), integtest.WithStreams("contacts", "deals"), integtest.WithClock(now))
			if got := strings.Join(ids(res.Records("deals")), ","); got != "1,2,3,4,5" {
				t.Fatalf("deals %s", got)
			}
			props := `"properties":["amount","closedate","createdate","hs_is_vip","hs_lastmodifieddate","hs_object_id","name","stage"]`
			want := []string{
				`{"filterGroups":[{"filters":[{"propertyName":"hs_lastmodifieddate","operator":"GTE","value":"0"}]}],"sorts":[{"propertyName":"hs_lastmodifieddate","direction":"ASCENDING"}],` + props + `,"limit":2}`,
				`{"filterGroups":[{"filters":[{"propertyName":"hs_lastmodifieddate","operator":"GTE","value":"0"}]}],"sorts":[{"propertyName":"hs_lastmodifieddate","direction":"ASCENDING"}],` + props + `,"limit":2,"after":"2"}`,
				`{"filterGroups":[{"filters":[{"propertyName":"hs_lastmodifieddate","operator":"GTE","value":"0"}]}],"sorts":[{"propertyName":"hs_lastmodifieddate","direction":"ASCENDING"}],` + props + `,"limit":2,"after":"4"}`,
			}
			if got := searchBodies(f, "deals"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("search bodies\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if got := searchBodies(f, "contacts")[0]; !strings.Contains(got, `"propertyName":"lastmodifieddate"`) {
				t.Errorf("contacts search on lastmodifieddate: %s", got)
			}
			for _, r := range srv.Requests() {
				if r.Method == http.MethodPost && (!r.HeaderIs("Content-Type", "application/json") || r.Path != "/crm/v3/objects/"+strings.Split(r.Path, "/")[4]+"/search" || len(r.Query) != 0) {
					t.Errorf("search request %s %v", r, r.Header)
				}
			}

			// Two deals change; the next sync starts at the bookmark.
			f.touch("deals", epoch.Add(10*time.Hour), 2, 4)
			f.mu.Lock()
			f.bodies = map[string][]byte{}
			f.mu.Unlock()
			again := integtest.Sync(t, Source(), tokenConfig(srv), integtest.WithProtocol(p), integtest.WithStreams("contacts", "deals"),
				integtest.WithState(res.FinalState()), integtest.WithClock(now))
			if got := strings.Join(ids(again.Records("deals")), ","); got != "5,2,4" {
				t.Errorf("deals after the bookmark: %s, want 5 (the bookmark's own) then 2,4", got)
			}
			bookmark := epoch.Add(5 * time.Minute).UnixMilli()
			if got := searchBodies(f, "deals")[0]; !strings.Contains(got, fmt.Sprintf(`"value":"%d"`, bookmark)) {
				t.Errorf("search from the bookmark %d: %s", bookmark, got)
			}
		})
	}
}

// start_date bounds the first incremental sync.
func TestStartDate(t *testing.T) {
	f := newFixture(5)
	srv := serve(t, f)
	res := integtest.Sync(t, Source(), tokenConfig(srv, "start_date", "2024-01-01T00:04:00Z"), integtest.WithStreams("tickets"))
	if got := strings.Join(ids(res.Records("tickets")), ","); got != "4,5" {
		t.Errorf("tickets %s", got)
	}
	if got := searchBodies(f, "tickets")[0]; !strings.Contains(got, fmt.Sprintf(`"value":"%d"`, epoch.Add(4*time.Minute).UnixMilli())) {
		t.Errorf("search %s", got)
	}
}

// One search query reaches 10,000 results: the read goes on in a new
// query from the last record's modification time, and every record is read.
func TestSearchWindow(t *testing.T) {
	const n = 10_250
	f := newFixture(0)
	f.objects["deals"] = newObject("deals", "hs_lastmodifieddate", n)
	srv := serve(t, f)
	res := integtest.Sync(t, Source(), tokenConfig(srv, "page_size", 100), integtest.WithStreams("deals"), integtest.WithTimeout(60*time.Second))
	seen := map[string]bool{}
	for _, id := range ids(res.Records("deals")) {
		seen[id] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct deals of %d (%d records)", len(seen), n, len(res.Records("deals")))
	}
	bodies := searchBodies(f, "deals")
	if len(bodies) != 100+3 {
		t.Errorf("%d searches, want 100 for the first window and 3 for the second", len(bodies))
	}
	second := bodies[100]
	last := epoch.Add(10_000 * time.Minute).UnixMilli() // the 10,000th deal's modification time
	if !strings.Contains(second, fmt.Sprintf(`"value":"%d"`, last)) || strings.Contains(second, `"after"`) {
		t.Errorf("the second window's first search: %s, want GTE %d and no after", second, last)
	}
}

// More than 10,000 records modified at one millisecond cannot be read: a
// clear error, not a loop.
func TestSearchWindowStuck(t *testing.T) {
	f := newFixture(0)
	f.objects["deals"] = newObject("deals", "hs_lastmodifieddate", 40)
	f.window = 20 // a smaller window, same shape: after + limit past it is refused
	for _, r := range f.objects["deals"].records {
		r.modified = epoch
	}
	srv := serve(t, f)
	src := Source()
	old := searchWindow
	searchWindow = 20
	t.Cleanup(func() { searchWindow = old })
	res := integtest.Sync(t, src, tokenConfig(srv, "page_size", 10), integtest.WithStreams("deals"), integtest.WithExpectedFailure())
	if msg := res.Failure(); !strings.Contains(msg, "more than 20 records were modified at 2024-01-01T00:00:00Z") {
		t.Errorf("failure %q", msg)
	}
}

// The properties read are the catalog schema's: a user trims the schema to
// the properties they want, and only those are asked for.
func TestCatalogChoosesProperties(t *testing.T) {
	f := newFixture(3)
	srv := serve(t, f)
	schema := `{"type":"object","properties":{"id":{"type":"string"},"updatedAt":{"type":"string","format":"date-time"},"properties":{"type":"object","properties":{"amount":{"type":["number","null"]},"name":{"type":["string","null"]}}}}}`
	stream := `{"name":"deals","json_schema":` + schema + `,"supported_sync_modes":["full_refresh","incremental"],"source_defined_cursor":true,"default_cursor_field":["updatedAt"],"source_defined_primary_key":[["id"]]}`
	for _, mode := range []string{"full_refresh", "incremental"} {
		srv.Reset()
		cat := `{"streams":[{"stream":` + stream + `,"sync_mode":"` + mode + `","cursor_field":["updatedAt"],"destination_sync_mode":"append"}]}`
		res := integtest.Sync(t, Source(), tokenConfig(srv), integtest.WithProtocol(integtest.Airbyte), integtest.WithCatalog(json.RawMessage(cat)))
		recs := res.Records("deals")
		if len(recs) != 3 || (mode == "full_refresh" && gjson.GetBytes(recs[1], "properties").Raw != `{"amount":42,"name":"deals 2"}`) {
			t.Fatalf("%s: %d deals, %s", mode, len(recs), recs)
		}
		for _, r := range srv.Requests() {
			if r.Path == "/crm/v3/objects/deals" && r.Query.Get("properties") != "amount,name" {
				t.Errorf("%s: %s", mode, r)
			}
			if strings.HasPrefix(r.Path, "/crm/v3/properties/") {
				t.Errorf("%s: the catalog has the schema, yet %s", mode, r)
			}
		}
		if mode == "incremental" {
			if b := searchBodies(f, "deals"); !strings.Contains(b[len(b)-1], `"properties":["amount","name","hs_lastmodifieddate"]`) {
				t.Errorf("search %s", b[len(b)-1])
			}
		}
	}
}
