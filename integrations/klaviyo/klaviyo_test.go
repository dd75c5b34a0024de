package klaviyo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/golden"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// config points the source at srv, with page_size records a page.
func config(srv *integtest.Server, pageSize int, extra ...any) map[string]any {
	c := map[string]any{"base_url": srv.URL, "api_key": testKey, "page_size": pageSize}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i].(string)] = extra[i+1]
	}
	return c
}

func ids(recs []json.RawMessage) []string {
	var out []string
	for _, r := range recs {
		out = append(out, gjson.GetBytes(r, "id").String())
	}
	return out
}

// Profiles share their updated second three at a time and pages hold two,
// so a checkpoint falls inside a second: resuming from it must not lose the
// rest of that second's profiles.
func TestConformance(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(7, 3, 11))
	integtest.Conformance(t, Source(), config(srv, 2))
}

// Every record is the resource's attributes beside its id and type, without
// its links; events keep the ids of their profile and metric.
func TestRecords(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) { testRecords(t, p) })
	}
}

func testRecords(t *testing.T, p integtest.Protocol) {
	srv := integtest.NewServer(t, newFixture(4, 3, 2))
	res := integtest.Sync(t, Source(), config(srv, 100), integtest.WithProtocol(p))
	want := map[string]int{"profiles": 4, "events": 3, "lists": 2, "campaigns": 6, "metrics": 3}
	for stream, n := range want {
		if got := len(res.Records(stream)); got != n {
			t.Errorf("%s: %d records, want %d", stream, got, n)
		}
	}
	pr := gjson.ParseBytes(res.Records("profiles")[0])
	if pr.Get("id").String() != "01HPROF0000" || pr.Get("type").String() != "profile" || pr.Get("email").String() != "01hprof0000@example.com" ||
		pr.Get("updated").String() != "2024-03-01T09:00:00+00:00" || pr.Get("location.city").String() != "New York" ||
		pr.Get("attributes").Exists() || pr.Get("links").Exists() || pr.Get("relationships").Exists() {
		t.Errorf("profile record %s", pr.Raw)
	}
	e := gjson.ParseBytes(res.Records("events")[1])
	if e.Get("datetime").String() != "2024-03-01T09:00:00+00:00" || e.Get("relationships.profile.data.id").String() != "01HPROF0001" ||
		e.Get("relationships.metric.data.id").String() != "RqZ9Ab" || e.Get("event_properties.Items.0").String() != "Socks" || e.Get("links").Exists() {
		t.Errorf("event record %s", e.Raw)
	}
	if got := ids(res.Records("campaigns")); !slices.Equal(got, []string{"01HCAMP0000", "01HCAMP0001", "01HCAMP0002", "01HCAMP0003", "01HCAMP0004", "01HCAMP0005"}) {
		t.Errorf("campaigns %v", got)
	}
	if m := gjson.ParseBytes(res.Records("metrics")[0]); m.Get("name").String() != "Placed Order" || m.Get("integration.name").String() != "Shopify" {
		t.Errorf("metric record %s", m.Raw)
	}
}

// The requests a full sync makes, in order: exactly the documented
// parameters (page[size] only where the endpoint takes it, the campaign
// channel filter, links.next followed until null) and, on every request,
// the key, the pinned revision and the JSON:API media type.
func TestRequests(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(5, 3, 12))
	integtest.Sync(t, Source(), config(srv, 2), integtest.WithMode(integ.ModeFullRefresh))
	cursor := func(n int) string { return "page%5Bcursor%5D=" + strings.TrimRight(b64("bmV4dA:"+fmt.Sprint(n)), "=") }
	want := []string{
		"GET /api/profiles?page%5Bsize%5D=2&sort=updated",
		"GET /api/profiles?" + cursor(2) + "&page%5Bsize%5D=2&sort=updated",
		"GET /api/profiles?" + cursor(4) + "&page%5Bsize%5D=2&sort=updated",
		"GET /api/events?page%5Bsize%5D=2&sort=datetime",
		"GET /api/events?" + cursor(2) + "&page%5Bsize%5D=2&sort=datetime",
		"GET /api/lists",
		"GET /api/lists?" + cursor(10),
		"GET /api/campaigns?filter=equals%28messages.channel%2C%27email%27%29",
		"GET /api/campaigns?filter=equals%28messages.channel%2C%27sms%27%29",
		"GET /api/campaigns?filter=equals%28messages.channel%2C%27mobile_push%27%29",
		"GET /api/metrics",
	}
	var got []string
	for _, r := range srv.Requests() {
		got = append(got, r.Method+" "+r.Path+canonicalQuery(r))
		if !r.HeaderIs("Authorization", "Klaviyo-API-Key "+testKey) || r.Header.Get("revision") != Revision ||
			r.Header.Get("Accept") != "application/vnd.api+json" {
			t.Errorf("%s: headers %v", r, r.Header)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func canonicalQuery(r integtest.Request) string {
	if len(r.Query) == 0 {
		return ""
	}
	return "?" + r.Query.Encode()
}

// An incremental sync resumes from the bookmark: it asks for the records
// updated after the second before it, sorted, and gets the changed ones.
func TestIncremental(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(6, 4, 1)
			srv := integtest.NewServer(t, f)
			cfg := config(srv, 2)
			first := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams("profiles", "events"))
			if n, m := len(first.Records("profiles")), len(first.Records("events")); n != 6 || m != 4 {
				t.Fatalf("first sync: %d profiles, %d events", n, m)
			}
			for _, r := range srv.Requests() {
				if r.Query.Has("filter") {
					t.Errorf("a first sync without start_date filters: %s", r)
				}
			}
			// The last profiles were updated at t0+1m, the last events at t0+1h.
			f.addProfile("01HPROF0001", t0.Add(5*time.Minute)) // changed since
			f.addProfile("01HPROF9999", t0.Add(6*time.Minute)) // new
			srv.Reset()
			again := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams("profiles", "events"),
				integtest.WithState(first.FinalState()))
			filters := map[string]string{}
			for _, r := range srv.Requests() {
				if f := r.Query.Get("filter"); f != "" {
					filters[r.Path] = f
				}
			}
			if filters["/api/profiles"] != "greater-than(updated,2024-03-01T09:00:59Z)" ||
				filters["/api/events"] != "greater-than(datetime,2024-03-01T09:59:59Z)" {
				t.Errorf("second sync filters %v", filters)
			}
			// The profiles of the bookmark's second come again (at least
			// once), then the changed and the new one.
			if got := ids(again.Records("profiles")); !slices.Equal(got, []string{"01HPROF0003", "01HPROF0004", "01HPROF0005", "01HPROF0001", "01HPROF9999"}) {
				t.Errorf("second sync profiles %v", got)
			}
			if got := ids(again.Records("events")); !slices.Equal(got, []string{"4vEVT0002", "4vEVT0003"}) {
				t.Errorf("second sync events %v", got)
			}
			state := string(again.FinalState())
			if !strings.Contains(state, "2024-03-01T09:06:00+00:00") {
				t.Errorf("final state does not hold the newest update: %s", state)
			}
		})
	}
}

// start_date bounds the first sync of the incremental streams only.
func TestStartDate(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(9, 6, 1))
	res := integtest.Sync(t, Source(), config(srv, 100, "start_date", "2024-03-01T10:01:00+01:00"))
	if got := ids(res.Records("profiles")); !slices.Equal(got, []string{"01HPROF0003", "01HPROF0004", "01HPROF0005", "01HPROF0006", "01HPROF0007", "01HPROF0008"}) {
		t.Errorf("profiles from 09:01 UTC: %v", got)
	}
	for _, r := range srv.Requests() {
		want := map[string]string{
			"/api/profiles": "greater-than(updated,2024-03-01T09:00:59Z)",
			"/api/events":   "greater-than(datetime,2024-03-01T09:00:59Z)",
		}[r.Path]
		if got := r.Query.Get("filter"); want != "" && got != want || r.Path == "/api/lists" && r.Query.Has("filter") {
			t.Errorf("%s: filter %q, want %q", r, got, want)
		}
	}
}

func TestSecondBefore(t *testing.T) {
	for in, want := range map[string]string{
		"2024-03-01T09:00:00+00:00":        "2024-03-01T08:59:59Z",
		"2024-03-01T09:00:00.999999+02:00": "2024-03-01T06:59:59Z",
		"2024-01-01T00:00:00Z":             "2023-12-31T23:59:59Z",
	} {
		if got, err := secondBefore(in); got != want || err != nil {
			t.Errorf("secondBefore(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "2024-03-01", "yesterday", "1709283600"} {
		if _, err := secondBefore(bad); err == nil {
			t.Errorf("secondBefore(%q) accepted", bad)
		}
	}
}

// secondBefore parses bookmarks from the state and start_date from the
// config: it never panics, and what it returns is a time a strict
// greater-than filter keeps the input's whole second after.
func FuzzSecondBefore(f *testing.F) {
	for _, s := range []string{"2024-03-01T09:00:00+00:00", "2024-03-01T09:00:00.5Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := secondBefore(s)
		if err != nil {
			return
		}
		in, _ := time.Parse(time.RFC3339, s)
		at, err := time.Parse(time.RFC3339, out)
		if err != nil {
			t.Fatalf("secondBefore(%q) = %q: not RFC 3339: %v", s, out, err)
		}
		if d := in.Truncate(time.Second).Sub(at); d != time.Second {
			t.Fatalf("secondBefore(%q) = %q: %v before the input's second", s, out, d)
		}
	})
}

// A refused key is a config error in plain words, in check and in a sync,
// and the sync stops at the first refusal instead of trying every stream.
func TestBadCredentials(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(3, 3, 3))
	cfg := config(srv, 100, "api_key", "pk_wrong_0d9f8e7c6b5a")
	integtest.BadCredentials(t, Source(), cfg, []string{"refused the credentials", "401", "Missing or invalid private key", "check the token or key"})
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests in two syncs and a check, want one each: %v", n, srv.Requests())
	}

	// The key must look like a private key: a public (site) key is refused
	// before any request.
	if _, err := Source().ParseConfig(json.RawMessage(`{"api_key":"AbC123"}`)); err == nil || !strings.Contains(err.Error(), "api_key") {
		t.Errorf("a public key was accepted: %v", err)
	}
}

// A key without one stream's scope: that stream is reported with the API's
// words, the others are synced.
func TestNoPermissionOnOneStream(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(3, 3, 3)
			f.forbidden["campaigns"] = true
			srv := integtest.NewServer(t, f)
			res := integtest.Sync(t, Source(), config(srv, 100), integtest.WithProtocol(p), integtest.WithExpectedFailure())
			if got, want := res.Counts(), map[string]int{"profiles": 3, "events": 3, "lists": 3, "metrics": 3}; !maps.Equal(got, want) {
				t.Errorf("records %v, want %v", got, want)
			}
			msg := res.Failure()
			if !strings.Contains(msg, `"campaigns"`) || !strings.Contains(msg, "403") || !strings.Contains(msg, "campaigns:read scope") {
				t.Errorf("failure %q", msg)
			}
			if p == integtest.Airbyte && res.FailureType() != "config_error" {
				t.Errorf("failure type %q", res.FailureType())
			}
		})
	}
}

func TestConfig(t *testing.T) {
	src := Source()
	integtest.RefusesConfigs(t, src,
		`{}`,
		`{"api_key":"pk_x1234567","base_url":"ftp://a.klaviyo.com"}`,
		`{"api_key":"pk_x1234567","page_size":101}`,
		`{"api_key":"pk_x1234567","page_size":0}`,
		`{"api_key":"pk_x1234567","start_date":"March 2024"}`,
	)
	c := integtest.DecodeConfig[Config](t, src, `{"api_key":"pk_x1234567"}`)
	if c.BaseURL != DefaultBaseURL || c.PageSize != 100 || c.StartDate != "" {
		t.Errorf("defaults %+v", c)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// The catalog the connector publishes (streams, keys, sync modes and
// schemas) is the one in testdata: a change to it is seen in review.
func TestDiscoverGolden(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(1, 1, 1))
	res := integtest.Discover(t, Source(), config(srv, 100), integtest.WithProtocol(integtest.Airbyte))
	cat := res.MessagesOf("CATALOG")
	if len(cat) != 1 {
		t.Fatalf("%d CATALOG messages", len(cat))
	}
	var out bytes.Buffer
	if err := json.Indent(&out, cat[0], "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	golden.Check(t, filepath.Join("testdata", "catalog.json"), out.Bytes())
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("discover made %d requests: the schemas are declared", n)
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// Requests slow down as the steady window runs low: with less than the
// tenth kept for the account's other clients left, the next request waits
// for the window's reset.
func TestPacing(t *testing.T) {
	for _, tc := range []struct {
		left int
		want []time.Duration
	}{
		{left: 140}, // plenty: no wait
		{left: 10, want: []time.Duration{30 * time.Second}}, // 10 of 150 left, 15 kept: wait for the reset
	} {
		f := newFixture(0, 0, 12)
		f.rate = func(int) (int, int, int) { return 150, tc.left, 30 }
		srv := integtest.NewServer(t, f)
		var w integtest.Waits
		src := source(requests.AdaptiveOptions{Sleep: w.Sleep, Clock: fixedClock(t0)})
		res := integtest.Sync(t, src, config(srv, 100), integtest.WithStreams("lists"))
		if n := len(res.Records("lists")); n != 12 {
			t.Errorf("%d lists", n)
		}
		if !slices.Equal(w.All(), tc.want) {
			t.Errorf("%d left: waits %v, want %v", tc.left, w.All(), tc.want)
		}
	}
}

func TestSteadyWindow(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		h    http.Header
		want requests.Budget
		ok   bool
	}{
		{h("RateLimit-Limit", "750", "RateLimit-Remaining", "749", "RateLimit-Reset", "44"), requests.Budget{Used: 1, Limit: 750, Reset: t0.Add(44 * time.Second)}, true},
		{h("ratelimit-limit", "150, 10;w=1, 150;w=60", "ratelimit-remaining", "0", "ratelimit-reset", "3"), requests.Budget{Used: 150, Limit: 150, Reset: t0.Add(3 * time.Second)}, true},
		{h("RateLimit-Limit", "750", "RateLimit-Remaining", "749"), requests.Budget{}, false}, // a 429 has only Retry-After
		{h("RateLimit-Limit", "0", "RateLimit-Remaining", "0", "RateLimit-Reset", "4"), requests.Budget{}, false},
		{h("RateLimit-Limit", "10", "RateLimit-Remaining", "11", "RateLimit-Reset", "4"), requests.Budget{}, false},
		{h("RateLimit-Limit", "10", "RateLimit-Remaining", "-1", "RateLimit-Reset", "4"), requests.Budget{}, false},
		{h("RateLimit-Limit", "1e9", "RateLimit-Remaining", "1", "RateLimit-Reset", "4"), requests.Budget{}, false},
		{h("RateLimit-Limit", "10", "RateLimit-Remaining", "1", "RateLimit-Reset", "86400"), requests.Budget{}, false},
		{http.Header{}, requests.Budget{}, false},
	} {
		got, ok := steadyWindow(tc.h, t0)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%v: %+v %v, want %+v %v", tc.h, got, ok, tc.want, tc.ok)
		}
	}
}

// steadyWindow reads what the server sends: it never panics, and a budget
// it returns is one the limiter can use.
func FuzzSteadyWindow(f *testing.F) {
	f.Add("750", "749", "44")
	f.Add("150, 10;w=1", "0", "3")
	f.Add("18446744073709551616", "1", "1")
	f.Fuzz(func(t *testing.T, limit, left, reset string) {
		b, ok := steadyWindow(http.Header{"Ratelimit-Limit": {limit}, "Ratelimit-Remaining": {left}, "Ratelimit-Reset": {reset}}, t0)
		if !ok {
			return
		}
		if b.Limit < 1 || b.Used < 0 || b.Used > b.Limit || b.Reset.Before(t0) || b.Reset.After(t0.Add(time.Hour)) {
			t.Fatalf("%q %q %q: %+v", limit, left, reset, b)
		}
	})
}

// A bookmark that is not a time (a state edited by hand) stops the stream
// with a message saying so, before any request.
func TestBadBookmark(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(3, 0, 0))
	state := `{"bookmarks":{"profiles":{"replication_key":"updated","replication_key_value":"last tuesday"}}}`
	res := integtest.Sync(t, Source(), config(srv, 100), integtest.WithStreams("profiles"),
		integtest.WithState(json.RawMessage(state)), integtest.WithExpectedFailure())
	if msg := res.Failure(); !strings.Contains(msg, `the bookmark in the state, "last tuesday", is not an RFC 3339 time`) || !strings.Contains(msg, `"profiles"`) {
		t.Errorf("failure %q", msg)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests with a broken bookmark", n)
	}
}

// list_members reads each list's profile ids, a partition per list in the
// lists stream's order, following each list's links.next; a list deleted
// during the sync (404) is skipped with a warning and the sync succeeds.
func TestListMembers(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(25, 0, 4)
			delete(f.members, "Y6nL02") // deleted after the lists were read
			srv := integtest.NewServer(t, f)
			res := integtest.Sync(t, Source(), config(srv, 100), integtest.WithProtocol(p), integtest.WithStreams("list_members"))
			if n := len(res.Records("lists")); n != 0 {
				t.Errorf("%d lists written: the parent was not selected", n)
			}
			var got []string
			for _, r := range res.Records("list_members") {
				m := gjson.ParseBytes(r)
				got = append(got, m.Get("list_id").String()+"/"+m.Get("id").String())
				if m.Get("type").String() != "profile" || len(m.Map()) != 3 {
					t.Errorf("record %s", r)
				}
			}
			var want []string
			for i := range 25 {
				want = append(want, fmt.Sprintf("Y6nL00/01HPROF%04d", i))
			}
			for i := 0; i < 25; i += 2 {
				want = append(want, fmt.Sprintf("Y6nL01/01HPROF%04d", i))
			}
			if !slices.Equal(got, want) {
				t.Errorf("members\n%v\nwant\n%v", got, want)
			}
			var paths []string
			for _, r := range srv.Requests() {
				paths = append(paths, r.Path+canonicalQuery(r))
			}
			wantPaths := []string{
				"/api/lists",
				"/api/lists/Y6nL00/relationships/profiles",
				"/api/lists/Y6nL00/relationships/profiles?" + "page%5Bcursor%5D=" + b64("bmV4dA:20"),
				"/api/lists/Y6nL01/relationships/profiles",
				"/api/lists/Y6nL02/relationships/profiles",
				"/api/lists/Y6nL03/relationships/profiles",
			}
			slices.Sort(paths) // partitions are read concurrently
			slices.Sort(wantPaths)
			if !slices.Equal(paths, wantPaths) {
				t.Errorf("requests\n%s\nwant\n%s", strings.Join(paths, "\n"), strings.Join(wantPaths, "\n"))
			}
			if logs := strings.Join(res.Logs(), "\n"); !strings.Contains(logs, "Y6nL02") || !strings.Contains(logs, "404") {
				t.Errorf("the skipped list is not named in the logs:\n%s", logs)
			}
		})
	}
}

func TestListMembersConformance(t *testing.T) {
	srv := integtest.NewServer(t, newFixture(23, 0, 3))
	integtest.Conformance(t, Source(), config(srv, 100), integtest.WithStreams("lists", "list_members"))
}

// BenchmarkProfiles syncs 10,000 profiles (100 pages) through the whole
// command tree against the fixture: the connector's cost per record
// (flattening, dropping, bookmarks, protocol output).
func BenchmarkProfiles(b *testing.B) {
	srv := integtest.NewServer(b, newFixture(10_000, 0, 0))
	cfg := config(srv, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		srv.Reset()
		res := integtest.Sync(b, Source(), cfg, integtest.WithStreams("profiles"), integtest.WithLogLevel("warn"), integtest.WithTimeout(time.Minute))
		if n := len(res.Records("profiles")); n != 10_000 {
			b.Fatalf("%d profiles", n)
		}
	}
	b.ReportMetric(float64(b.N*10_000)/b.Elapsed().Seconds(), "records/s")
}
