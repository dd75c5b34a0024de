package rest

import (
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integtest"
	"github.com/tidwall/gjson"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func stripeConfig(t *testing.T, srv *integtest.Server) string {
	return strings.ReplaceAll(exampleConfig(t, "stripe", srv.URL, "https://api.stripe.com"), "sk_live_YOUR_SECRET_KEY", stripeKey)
}

func githubConfig(t *testing.T, srv *integtest.Server) string {
	return strings.ReplaceAll(exampleConfig(t, "github", srv.URL, "https://api.github.com"), "ghp_YOUR_TOKEN", githubToken)
}

func klaviyoConfig(t *testing.T, srv *integtest.Server) string {
	return strings.ReplaceAll(exampleConfig(t, "klaviyo", srv.URL, "https://a.klaviyo.com"), "pk_YOUR_PRIVATE_KEY", klaviyoKey)
}

// TestStripe syncs the README's Stripe config: has_more ends the list,
// starting_after is the last record's id, created[gte] is Unix seconds
// (start_date on the first sync, the bookmark after).
func TestStripe(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			api := newStripeAPI(205)
			srv := integtest.NewServer(t, api)
			cfg := stripeConfig(t, srv)
			first := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), every(cfg))
			for _, s := range []string{"customers", "charges"} {
				if n := len(first.Records(s)); n != 205 {
					t.Errorf("%s: %d records, want 205", s, n)
				}
			}
			got := queries(srv, "/v1/customers")
			want := []string{
				"created[gte]=1704067200&limit=100", // discover's sample (Airbyte) or the inference (Singer) and the read
				"created[gte]=1704067200&limit=100&starting_after=cus_0106",
				"created[gte]=1704067200&limit=100&starting_after=cus_0006",
			}
			if !slices.Equal(got[len(got)-3:], want) {
				t.Errorf("customers requests = %q\nwant them to end with %q", got, want)
			}
			if !slices.ContainsFunc(first.Logs(), func(l string) bool {
				return strings.Contains(l, `stream "customers": paging stopped after page 3 (205 records): has_more_path "has_more" is false`)
			}) {
				t.Errorf("no log line explains the end of the customers list:\n%s", strings.Join(first.Logs(), "\n"))
			}

			api.add("customers", 206)
			api.add("customers", 207)
			srv.Reset()
			second := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), every(cfg), integtest.WithState(first.FinalState()))
			// created[gte] is inclusive: the newest customer of the first sync comes again.
			if got, want := idsOf(second.Records("customers"), "id"), []string{"cus_0207", "cus_0206", "cus_0205"}; !slices.Equal(got, want) {
				t.Errorf("second sync customers = %v, want %v", got, want)
			}
			bookmark := vendorTime.Add(205 * time.Hour).Unix()
			if got := queries(srv, "/v1/customers"); !slices.Contains(got, "created[gte]="+itoa(bookmark)+"&limit=100") {
				t.Errorf("second sync customers requests = %q, want created[gte]=%d", got, bookmark)
			}
		})
	}
}

// TestGitHub syncs the README's GitHub config: Link header paging with a
// server that fills pages below per_page, since from the bookmark, a
// nested replication key (commit.committer.date), a stream with no since
// (pulls: the connector drops what is older than the bookmark) and the
// issues of every repository of an organization as a child stream with a
// bookmark per repository.
func TestGitHub(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			api := newGitHubAPI(6)
			srv := integtest.NewServer(t, api)
			cfg := githubConfig(t, srv)
			first := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), every(cfg))
			if got, want := first.Counts(), map[string]int{"issues": 6, "pulls": 6, "commits": 6, "repositories": 3, "org_issues": 18}; !maps.Equal(got, want) {
				t.Errorf("records %v, want %v", got, want)
			}
			if got := queries(srv, "/repos/acme/app/commits"); !slices.Contains(got, "page=2&per_page=100&since=2024-01-01T00:00:00Z") {
				t.Errorf("commits requests = %q: no second page", got)
			}
			state := gjson.ParseBytes(first.FinalState())
			for _, repo := range []string{"acme/app", "acme/lib", "acme/docs"} {
				if !strings.Contains(state.Raw, repo) {
					t.Errorf("final state has no partition %s: %s", repo, state.Raw)
				}
			}

			later := vendorTime.Add(100 * time.Hour)
			api.touch("acme/app", 2, later)
			api.touch("acme/lib", 3, later)
			srv.Reset()
			second := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), every(cfg), integtest.WithState(first.FinalState()))
			if got, want := idsOf(second.Records("issues"), "number"), []string{"6", "2"}; !slices.Equal(got, want) {
				t.Errorf("second sync issues = %v, want %v (since is inclusive)", got, want)
			}
			if got := len(second.Records("org_issues")); got != 5 {
				t.Errorf("second sync org_issues: %d records, want 5 (issue 6 of each repository, and the two changed)", got)
			}
			if got := len(second.Records("pulls")); got != 1 {
				t.Errorf("second sync pulls: %d records, want 1", got)
			}
			if got := len(second.Records("commits")); got != 1 {
				t.Errorf("second sync commits: %d records, want 1", got)
			}
			want := "since=" + vendorTime.Add(6*time.Hour).Format(time.RFC3339)
			if got := queries(srv, "/repos/acme/docs/issues"); len(got) == 0 || !strings.Contains(got[len(got)-1], want) {
				t.Errorf("second sync acme/docs issues requests = %q, want %s", got, want)
			}
		})
	}
}

// TestKlaviyo syncs the README's Klaviyo config: the revision header,
// links.next paging, filter=greater-than(updated,...) from the bookmark of
// a nested replication key (attributes.updated).
func TestKlaviyo(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			api := newKlaviyoAPI(7)
			srv := integtest.NewServer(t, api)
			cfg := klaviyoConfig(t, srv)
			first := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), every(cfg))
			for _, s := range []string{"profiles", "events"} {
				if n := len(first.Records(s)); n != 7 {
					t.Errorf("%s: %d records, want 7", s, n)
				}
			}
			if got := queries(srv, "/api/profiles"); !slices.Contains(got, "filter=greater-than(updated,2024-01-01T00:00:00Z)&page[size]=100&sort=updated") {
				t.Errorf("profiles requests = %q", got)
			}

			api.mu.Lock()
			api.profiles[1].Updated = vendorTime.Add(50 * time.Hour)
			api.events = append(api.events, githubItem{ID: 8, Updated: vendorTime.Add(8 * time.Hour)})
			api.mu.Unlock()
			srv.Reset()
			second := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), every(cfg), integtest.WithState(first.FinalState()))
			if got, want := idsOf(second.Records("profiles"), "id"), []string{"01HX000002"}; !slices.Equal(got, want) {
				t.Errorf("second sync profiles = %v, want %v", got, want)
			}
			if got, want := idsOf(second.Records("events"), "id"), []string{"01HX000008"}; !slices.Equal(got, want) {
				t.Errorf("second sync events = %v, want %v", got, want)
			}
			want := "filter=greater-than(updated," + vendorTime.Add(7*time.Hour).Format(time.RFC3339) + ")&page[size]=100&sort=updated"
			if got := queries(srv, "/api/profiles"); !slices.Contains(got, want) {
				t.Errorf("second sync profiles requests = %q, want %s", got, want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// every selects every stream of a config: integtest's default selection
// asks the source's static streams, and tap-rest has none.
func every(cfg string) integtest.Option {
	var names []string
	gjson.Get(cfg, "streams.#.name").ForEach(func(_, v gjson.Result) bool {
		names = append(names, v.String())
		return true
	})
	return integtest.WithStreams(names...)
}

// TestVendorConformance runs integtest's suite on each worked example:
// discover and read agree in both protocols, records validate against the
// discovered schemas, a sync resumed from any checkpoint loses nothing, and
// no secret leaks.
func TestVendorConformance(t *testing.T) {
	t.Run("stripe", func(t *testing.T) {
		srv := integtest.NewServer(t, newStripeAPI(3))
		cfg := stripeConfig(t, srv)
		integtest.Conformance(t, Source(), cfg, every(cfg))
	})
	t.Run("github", func(t *testing.T) {
		srv := integtest.NewServer(t, newGitHubAPI(3))
		cfg := githubConfig(t, srv)
		integtest.Conformance(t, Source(), cfg, every(cfg))
	})
	t.Run("klaviyo", func(t *testing.T) {
		srv := integtest.NewServer(t, newKlaviyoAPI(4))
		cfg := klaviyoConfig(t, srv)
		integtest.Conformance(t, Source(), cfg, every(cfg))
	})
}

// TestREADMEShowsTheExamples: the README's worked examples are the tested
// files, verbatim.
func TestREADMEShowsTheExamples(t *testing.T) {
	readme := readFile(t, "README.md")
	for _, name := range []string{"stripe", "github", "klaviyo"} {
		ex := strings.TrimSpace(readFile(t, "testdata/examples/"+name+".json"))
		if !strings.Contains(readme, "```json\n"+ex+"\n```") {
			t.Errorf("README.md does not show testdata/examples/%s.json as written", name)
		}
	}
}
