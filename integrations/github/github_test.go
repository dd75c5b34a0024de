package github

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
	"github.com/tidwall/gjson"
)

// serve starts f behind the kit's recorder.
func serve(t *testing.T, f *fixture) *integtest.Server {
	srv := integtest.NewServer(t, f)
	f.baseURL = srv.URL
	return srv
}

// config is a token config for srv's organization acme, with extra
// settings merged in.
func config(srv *integtest.Server, extra map[string]any) map[string]any {
	c := map[string]any{
		"base_url":     srv.URL,
		"organization": "acme",
		"credentials":  map[string]any{"auth_type": "token", "personal_access_token": testToken},
	}
	maps.Copy(c, extra)
	return c
}

// acme is an organization with two repositories (7 and 4 issues, every
// third of them a pull request) and octocat/Hello-World outside it.
func acme() *fixture {
	f := newFixture("acme")
	f.addRepo("acme/api", 7, 2)
	f.addRepo("acme/web", 4, 1)
	f.addRepo("octocat/Hello-World", 3, 0)
	return f
}

var allStreams = []string{"repositories", "issues", "pull_requests", "issue_comments", "commits", "releases"}

func TestConformance(t *testing.T) {
	f := acme()
	f.addRepo("acme/big", 120, 0) // two pages of issues, comments and commits
	srv := serve(t, f)
	integtest.Conformance(t, Source(), config(srv, map[string]any{"repositories": []string{"octocat/Hello-World"}}),
		integtest.WithTimeout(60*time.Second))
}

// Conformance with GitHub App credentials: neither the private key nor the
// tokens obtained with it appear in any output.
func TestConformanceApp(t *testing.T) {
	f := acme()
	f.app = &appFixture{key: &appKey().PublicKey, appID: "123456", installation: "42"}
	srv := serve(t, f)
	var tokens []string
	for i := 1; i <= 200; i++ { // a token per run
		tokens = append(tokens, fmt.Sprintf("ghs_installationtoken%04d", i))
	}
	integtest.Conformance(t, Source(), appConfig(srv, "123456"), integtest.WithSecrets(tokens...), integtest.WithTimeout(60*time.Second))
}

// ids returns field of each record, in order.
func ids(recs []json.RawMessage, field string) []string {
	var out []string
	for _, r := range recs {
		out = append(out, gjson.GetBytes(r, field).String())
	}
	return out
}

// byRepo counts the records of each repository.
func byRepo(recs []json.RawMessage) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		out[gjson.GetBytes(r, "repository").String()]++
	}
	return out
}

func TestFullSync(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			f := acme()
			srv := serve(t, f)
			res := integtest.Sync(t, Source(), config(srv, map[string]any{"repositories": []string{"octocat/Hello-World", "acme/web"}}),
				integtest.WithProtocol(p), integtest.WithStreams(allStreams...))
			if got := ids(res.Records("repositories"), "full_name"); !slices.Equal(got, []string{"acme/api", "acme/web", "octocat/Hello-World"}) {
				t.Errorf("repositories %v", got)
			}
			want := map[string]map[string]int{
				"issues":         {"acme/api": 5, "acme/web": 3, "octocat/Hello-World": 2}, // pull requests left out
				"pull_requests":  {"acme/api": 2, "acme/web": 1, "octocat/Hello-World": 1},
				"issue_comments": {"acme/api": 7, "acme/web": 4, "octocat/Hello-World": 3},
				"commits":        {"acme/api": 7, "acme/web": 4, "octocat/Hello-World": 3},
				"releases":       {"acme/api": 2, "acme/web": 1},
			}
			for s, w := range want {
				if got := byRepo(res.Records(s)); !maps.Equal(got, w) {
					t.Errorf("%s per repository: %v, want %v", s, got, w)
				}
			}
			for _, r := range res.Records("issues") {
				if gjson.GetBytes(r, "pull_request").Exists() {
					t.Errorf("a pull request in issues: %s", r)
				}
			}
		})
	}
}

// lines returns the recorded requests whose path contains part, as
// "path?query" strings, sorted (partitions run concurrently).
func lines(srv *integtest.Server, part string) []string {
	var out []string
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, part) {
			out = append(out, r.String())
		}
	}
	slices.Sort(out)
	return out
}

// Every request carries the documented headers, and each endpoint exactly
// its documented parameters; pages are followed through the Link header.
func TestRequests(t *testing.T) {
	f := newFixture("acme")
	f.addRepo("acme/api", 150, 1) // two pages of issues, comments and commits
	f.addRepo("octocat/Hello-World", 2, 0)
	srv := serve(t, f)
	start := "2023-06-01T00:00:00Z"
	integtest.Sync(t, Source(), config(srv, map[string]any{"repositories": []string{"octocat/Hello-World"}, "start_date": start}),
		integtest.WithStreams(allStreams...))
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet || !r.HeaderIs("Authorization", "Bearer "+testToken) ||
			!r.HeaderIs("Accept", "application/vnd.github+json") || !r.HeaderIs("X-GitHub-Api-Version", "2022-11-28") ||
			!strings.HasPrefix(r.Header.Get("User-Agent"), "integ-github/") {
			t.Errorf("%s: headers %v", r, r.Header)
		}
	}
	since := "since=" + strings.ReplaceAll(start, ":", "%3A")
	want := map[string][]string{
		"/repos": {
			"GET /orgs/acme/repos?per_page=100",
			"GET /repos/octocat/Hello-World",
		},
		"/issues": {
			"GET /repos/acme/api/issues?direction=asc&per_page=100&" + since + "&sort=updated&state=all",
			"GET /repos/octocat/Hello-World/issues?direction=asc&per_page=100&" + since + "&sort=updated&state=all",
			"GET /repositories/1001/issues?direction=asc&page=2&per_page=100&" + since + "&sort=updated&state=all",
		},
		"/pulls": {
			"GET /repos/acme/api/pulls?direction=desc&per_page=100&sort=updated&state=all",
			"GET /repos/octocat/Hello-World/pulls?direction=desc&per_page=100&sort=updated&state=all",
		},
		"/issues/comments": {
			"GET /repos/acme/api/issues/comments?direction=asc&per_page=100&" + since + "&sort=updated",
			"GET /repos/octocat/Hello-World/issues/comments?direction=asc&per_page=100&" + since + "&sort=updated",
			"GET /repositories/1001/issues/comments?direction=asc&page=2&per_page=100&" + since + "&sort=updated",
		},
		"/commits": {
			"GET /repos/acme/api/commits?per_page=100&" + since,
			"GET /repos/octocat/Hello-World/commits?per_page=100&" + since,
			"GET /repositories/1001/commits?page=2&per_page=100&" + since,
		},
		"/releases": {
			"GET /repos/acme/api/releases?per_page=100",
			"GET /repos/octocat/Hello-World/releases?per_page=100",
		},
	}
	for part, w := range want {
		got := lines(srv, part)
		if part == "/repos" {
			got = slices.DeleteFunc(got, func(s string) bool { return strings.Count(s, "/") > 3 || strings.Contains(s, "/repositories/") })
		}
		if part == "/issues" {
			got = slices.DeleteFunc(got, func(s string) bool { return strings.Contains(s, "/comments") })
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s requests:\n%s\nwant\n%s", part, strings.Join(got, "\n"), strings.Join(w, "\n"))
		}
	}
}

// at is when fixture repository k's item n was last updated (see addRepo).
func at(k, n int, extra time.Duration) string {
	return epoch.Add(time.Duration(k)*time.Hour + time.Duration(n)*time.Minute + extra).Format(time.RFC3339)
}

// bookmark reads a repository's bookmark of stream from a state in either
// protocol's form.
func bookmark(state json.RawMessage, stream, repo string) string {
	s := gjson.ParseBytes(state)
	var streamState gjson.Result
	if s.IsArray() {
		for _, m := range s.Array() {
			if m.Get("stream.stream_descriptor.name").String() == stream {
				streamState = m.Get("stream.stream_state")
			}
		}
	} else {
		streamState = s.Get("bookmarks." + gjson.Escape(stream))
	}
	return streamState.Get("partitions." + gjson.Escape(repo) + ".replication_key_value").String()
}

// sinceOf maps each repository's request of an endpoint to its since
// parameter ("-" when absent).
func sinceOf(srv *integtest.Server, endpoint string) map[string]string {
	out := map[string]string{}
	for _, r := range srv.Requests() {
		owner, rest, _ := strings.Cut(strings.TrimPrefix(r.Path, "/repos/"), "/")
		name, ep, _ := strings.Cut(rest, "/")
		if !strings.HasPrefix(r.Path, "/repos/") || ep != endpoint {
			continue
		}
		s := "-"
		if r.Query.Has("since") {
			s = r.Query.Get("since")
		}
		out[owner+"/"+name] = s
	}
	return out
}

// A second sync asks each repository from its own bookmark; a repository
// added since gets its whole history; pull requests (no since parameter)
// stop paging at the bookmark.
func TestIncremental(t *testing.T) {
	streams := []string{"issues", "pull_requests", "issue_comments", "commits"}
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture("acme")
			f.addRepo("acme/api", 330, 0) // 110 pull requests: two pages
			f.addRepo("acme/web", 5, 0)
			srv := serve(t, f)
			cfg := config(srv, nil)
			first := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams(streams...))
			if n := len(first.Records("issues")); n != 220+4 {
				t.Errorf("first sync: %d issues", n)
			}
			if n := len(first.Records("pull_requests")); n != 110+1 {
				t.Errorf("first sync: %d pull requests", n)
			}
			if got := len(lines(srv, "/pulls")); got != 3 {
				t.Errorf("first sync: %d pull request pages, want 3", got)
			}
			state := first.FinalState()
			wantBookmarks := map[string]map[string]string{
				"issues":         {"acme/api": at(1, 329, 0), "acme/web": at(2, 5, 0)}, // the last issue that is not a pull request
				"pull_requests":  {"acme/api": at(1, 330, 0), "acme/web": at(2, 3, 0)},
				"issue_comments": {"acme/api": at(1, 330, time.Second), "acme/web": at(2, 5, time.Second)},
				"commits":        {"acme/api": at(1, 330, 2*time.Second), "acme/web": at(2, 5, 2*time.Second)},
			}
			for s, repos := range wantBookmarks {
				for repo, w := range repos {
					if got := bookmark(state, s, repo); got != w {
						t.Errorf("%s bookmark of %s: %q, want %q (state %s)", s, repo, got, w, state)
					}
				}
			}

			f.touch("acme/api", 1, epoch.Add(48*time.Hour)) // an issue
			f.touch("acme/api", 3, epoch.Add(49*time.Hour)) // a pull request
			f.addRepo("acme/new", 4, 0)
			srv.Reset()
			second := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams(streams...), integtest.WithState(state))
			for _, ep := range []string{"issues", "issues/comments", "commits"} {
				s := map[string]string{"issues": "issues", "issues/comments": "issue_comments", "commits": "commits"}[ep]
				want := map[string]string{"acme/api": wantBookmarks[s]["acme/api"], "acme/web": wantBookmarks[s]["acme/web"], "acme/new": "-"}
				if got := sinceOf(srv, ep); !maps.Equal(got, want) {
					t.Errorf("second sync, %s since: %v, want %v", ep, got, want)
				}
			}
			if got := ids(second.Records("issues"), "number"); !slices.Equal(got, []string{"329", "1", "5", "1", "2", "4"}) {
				t.Errorf("second sync issues %v (acme/api: the bookmark's and the updated one; acme/web: the bookmark's; acme/new: all)", got)
			}
			if got := ids(second.Records("pull_requests"), "number"); !slices.Equal(got, []string{"3", "330", "3", "3"}) {
				t.Errorf("second sync pull requests %v", got)
			}
			if got := len(lines(srv, "/pulls")); got != 3 {
				t.Errorf("second sync: %d pull request pages, want one per repository", got)
			}
			if got := bookmark(second.FinalState(), "issues", "acme/api"); got != epoch.Add(48*time.Hour).Format(time.RFC3339) {
				t.Errorf("issues bookmark of acme/api after the second sync: %q", got)
			}
			if got := bookmark(second.FinalState(), "issues", "acme/new"); got != at(3, 4, 0) {
				t.Errorf("issues bookmark of acme/new: %q", got)
			}

			// A full refresh ignores the bookmarks.
			srv.Reset()
			full := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams(streams...),
				integtest.WithState(second.FinalState()), integtest.WithMode(integ.ModeFullRefresh))
			if n := len(full.Records("issues")); n != 220+4+3 {
				t.Errorf("full refresh: %d issues", n)
			}
			if got := sinceOf(srv, "issues"); !maps.Equal(got, map[string]string{"acme/api": "-", "acme/web": "-", "acme/new": "-"}) {
				t.Errorf("full refresh sent since: %v", got)
			}
		})
	}
}

// A wrong token is a config error in plain words, in check and in a sync.
func TestBadCredentials(t *testing.T) {
	srv := serve(t, acme())
	cfg := config(srv, map[string]any{"credentials": map[string]any{"auth_type": "token", "personal_access_token": "ghp_revokedtoken0000"}})
	integtest.BadCredentials(t, Source(), cfg, []string{"the API refused the credentials", "401 Unauthorized: Bad credentials", "token"})
}

// No permission on one repository's pull requests fails that stream alone;
// every other stream is synced.
func TestForbiddenStream(t *testing.T) {
	f := acme()
	f.setStatus("acme/web", "pulls", http.StatusForbidden)
	srv := serve(t, f)
	res := integtest.Sync(t, Source(), config(srv, nil), integtest.WithProtocol(integtest.Airbyte),
		integtest.WithStreams(allStreams...), integtest.WithExpectedFailure())
	if msg := res.Failure(); !strings.Contains(msg, "pull_requests") || !strings.Contains(msg, "403") || !strings.Contains(msg, "acme/web") {
		t.Errorf("failure %q", msg)
	}
	if got, want := res.Counts(), map[string]int{"repositories": 2, "pull_requests": 2, "issues": 5 + 3, "issue_comments": 7 + 4, "commits": 7 + 4, "releases": 3}; !maps.Equal(got, want) {
		t.Errorf("records %v, want %v", got, want)
	}
	var statuses []string
	for _, m := range res.MessagesOf("TRACE") {
		if st := gjson.GetBytes(m, "trace.stream_status"); st.Exists() {
			statuses = append(statuses, st.Get("stream_descriptor.name").String()+"="+st.Get("status").String())
		}
	}
	if !slices.Contains(statuses, "pull_requests=INCOMPLETE") || !slices.Contains(statuses, "issues=COMPLETE") {
		t.Errorf("stream statuses %v", statuses)
	}
}

// A repository whose issues are disabled (410), or that is empty (409 on
// commits) or gone (404), is skipped with a warning; everything else is
// synced and the sync succeeds.
func TestSkippedRepository(t *testing.T) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) {
			f := acme()
			f.setStatus("acme/api", "issues", http.StatusGone)
			f.setStatus("acme/web", "commits", http.StatusConflict)
			f.setStatus("acme/web", "releases", http.StatusNotFound)
			srv := serve(t, f)
			res := integtest.Sync(t, Source(), config(srv, nil), integtest.WithProtocol(p), integtest.WithStreams(allStreams...))
			want := map[string]map[string]int{
				"issues":   {"acme/web": 3},
				"commits":  {"acme/api": 7},
				"releases": {"acme/api": 2},
			}
			for s, w := range want {
				if got := byRepo(res.Records(s)); !maps.Equal(got, w) {
					t.Errorf("%s: %v, want %v", s, got, w)
				}
			}
			if n := len(res.Records("pull_requests")) + len(res.Records("issue_comments")); n != 3+11 {
				t.Errorf("%d pull requests and comments", n)
			}
			logs := strings.Join(res.Logs(), "\n")
			for _, w := range []string{"Issues are disabled for this repo", "Git Repository is empty"} {
				if !strings.Contains(logs, "partition skipped") || !strings.Contains(logs, w) {
					t.Errorf("no warning with %q in the logs:\n%s", w, logs)
				}
			}
			// The skipped partition keeps no bookmark; the others do.
			if b := bookmark(res.FinalState(), "issues", "acme/api"); b != "" {
				t.Errorf("skipped partition bookmarked at %q", b)
			}
			if b := bookmark(res.FinalState(), "issues", "acme/web"); b != at(2, 4, 0) {
				t.Errorf("acme/web bookmark %q", b)
			}
		})
	}
}

// Rate limits are waited out: the primary limit (403 or 429 with
// x-ratelimit-remaining 0) until x-ratelimit-reset, the secondary limit
// after retry-after, or a minute without it. A burst of 5xx is retried.
func TestRateLimitsAndRetries(t *testing.T) {
	f := acme()
	reset := time.Now().Add(40 * time.Minute).Unix()
	var mu sync.Mutex
	failed := map[string]int{}
	f.SetFault(func(r *http.Request, _ int) (int, http.Header, string, bool) {
		mu.Lock()
		defer mu.Unlock()
		key := r.URL.Path
		failed[key]++
		if failed[key] > 1 {
			return 0, nil, "", false
		}
		switch key {
		case "/repos/acme/api/issues":
			return http.StatusForbidden, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {fmt.Sprint(reset)}},
				`{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`, true
		case "/repos/acme/web/issues":
			return http.StatusTooManyRequests, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {fmt.Sprint(reset)}},
				`{"message":"API rate limit exceeded"}`, true
		case "/repos/acme/api/pulls":
			return http.StatusForbidden, http.Header{"Retry-After": {"7"}},
				`{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`, true
		case "/repos/acme/web/pulls":
			return http.StatusForbidden, nil,
				`{"message":"You have exceeded a secondary rate limit and have been temporarily blocked from content creation."}`, true
		case "/repos/acme/api/issues/comments", "/repos/acme/web/commits", "/orgs/acme/repos":
			return http.StatusBadGateway, nil, `{"message":"Server Error"}`, true
		}
		return 0, nil, "", false
	})
	srv := serve(t, f)
	var w integtest.Waits
	res := integtest.Sync(t, Source(), config(srv, nil), integtest.WithStreams(allStreams...), integtest.WithWaits(&w, 3))
	if got, want := res.Counts(), map[string]int{"repositories": 2, "issues": 8, "pull_requests": 3, "issue_comments": 11, "commits": 11, "releases": 3}; !maps.Equal(got, want) {
		t.Errorf("records %v, want %v", got, want)
	}
	waits := w.All()
	var resets, after, minute int
	for _, d := range waits {
		switch {
		case d > 35*time.Minute && d <= 41*time.Minute:
			resets++
		case d == 7*time.Second:
			after++
		case d == time.Minute:
			minute++
		}
	}
	if resets != 2 || after != 1 || minute != 1 || len(waits) != 7 {
		t.Errorf("waits %v: want two until the reset (40m), one of 7s, one of a minute and three backoffs", waits)
	}
	if !strings.Contains(strings.Join(res.Logs(), "\n"), "rate limit") {
		t.Errorf("a long wait for a rate limit is not logged:\n%s", strings.Join(res.Logs(), "\n"))
	}
}

// A run killed in the middle of a repository's issues resumes from that
// repository's last checkpoint, losing no record; the other repositories
// keep their own bookmarks.
func TestResumeMidPartition(t *testing.T) {
	f := newFixture("acme")
	f.addRepo("acme/api", 5, 0)
	f.addRepo("acme/big", 450, 0) // five pages of issues
	srv := serve(t, f)
	// One request at a time: acme/big's pages are read after acme/api's
	// (one at most ahead) and so written, and checkpointed, a page at a
	// time. With more in flight they wait in the look-ahead queue behind
	// acme/api and go out together under one checkpoint, as many as the
	// scheduler let it read meanwhile.
	cfg := config(srv, map[string]any{"max_concurrent_requests": 1})
	full := integtest.Sync(t, Source(), cfg, integtest.WithStreams("issues"), integtest.WithCheckpointRecords(1))
	all := ids(full.Records("issues"), "id")
	cps := full.Checkpoints()
	// The checkpoints taken while acme/big was being read.
	var mid []integtest.Checkpoint
	for _, cp := range cps {
		if b := bookmark(cp.State, "issues", "acme/big"); b != "" && b != at(2, 449, 0) {
			mid = append(mid, cp)
		}
	}
	if len(mid) < 3 {
		t.Fatalf("%d checkpoints inside acme/big's issues, want one a page", len(mid))
	}
	for _, cp := range mid {
		srv.Reset()
		b := bookmark(cp.State, "issues", "acme/big")
		res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("issues"), integtest.WithState(cp.State))
		if got := sinceOf(srv, "issues")["acme/big"]; got != b {
			t.Errorf("resumed acme/big with since=%s, want its checkpoint %s", got, b)
		}
		if got := sinceOf(srv, "issues")["acme/api"]; got != at(1, 5, 0) {
			t.Errorf("resumed acme/api with since=%s, want its own bookmark", got)
		}
		seen := map[string]bool{}
		for _, id := range append(ids(full.Records("issues")[:cp.Records], "id"), ids(res.Records("issues"), "id")...) {
			seen[id] = true
		}
		for _, id := range all {
			if !seen[id] {
				t.Fatalf("resuming from the checkpoint after %d records (acme/big at %s) loses issue %s", cp.Records, b, id)
			}
		}
	}
}

func TestConfig(t *testing.T) {
	srv := serve(t, acme())
	for _, c := range []struct {
		name  string
		extra map[string]any
		want  string
	}{
		{"no repositories nor organization", map[string]any{"organization": ""}, "set repositories"},
		{"not owner/name", map[string]any{"repositories": []string{"acme"}}, `repository "acme" is not owner/name`},
		{"unknown repository", map[string]any{"organization": "", "repositories": []string{"acme/nope"}}, "404"},
		{"unknown organization", map[string]any{"organization": "nope"}, "404"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := integtest.Sync(t, Source(), config(srv, c.extra), integtest.WithProtocol(integtest.Airbyte), integtest.WithExpectedFailure())
			if res.FailureType() != "config_error" || !strings.Contains(res.Failure(), c.want) {
				t.Errorf("%s: %q, want a config error saying %q", res.FailureType(), res.Failure(), c.want)
			}
		})
	}
	for bad, want := range map[string]string{
		`{"credentials":{"auth_type":"token","personal_access_token":""},"organization":"acme"}`:                       "personal_access_token",
		`{"credentials":{"personal_access_token":"ghp_x1234"},"organization":"acme"}`:                                  "auth_type",
		`{"credentials":{"auth_type":"app","app_id":"1","installation_id":0,"private_key":"x"},"organization":"acme"}`: "installation_id",
		`{"credentials":{"auth_type":"token","personal_access_token":"ghp_x1234"},"start_date":"yesterday"}`:           "start_date",
		`{"credentials":{"auth_type":"token","personal_access_token":"ghp_x1234"},"base_url":"ftp://x"}`:               "base_url",
	} {
		if _, err := Source().ParseConfig(json.RawMessage(bad)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %s", bad, err, want)
		}
	}
	cfg, err := Source().ParseConfig(json.RawMessage(`{"credentials":{"auth_type":"token","personal_access_token":"ghp_x1234"},"organization":"acme"}`))
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := cfg.Decode(&c); err != nil || c.BaseURL != "https://api.github.com" {
		t.Errorf("default base URL %q (%v)", c.BaseURL, err)
	}
}

func TestStartDate(t *testing.T) {
	f := acme()
	srv := serve(t, f)
	start := at(1, 5, 0) // acme/api's issue 5; every acme/web item is later
	res := integtest.Sync(t, Source(), config(srv, map[string]any{"start_date": start}), integtest.WithStreams("issues", "pull_requests"))
	if got := byRepo(res.Records("issues")); !maps.Equal(got, map[string]int{"acme/api": 2, "acme/web": 3}) {
		t.Errorf("issues from the start date: %v", got)
	}
	// Pull requests have no since: the older ones are read, then dropped.
	if got := ids(res.Records("pull_requests"), "number"); !slices.Equal(got, []string{"6", "3"}) {
		t.Errorf("pull requests from the start date: %v", got)
	}
}

// appKey is a GitHub App's key pair, made once.
var appKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func appConfig(srv *integtest.Server, appID string) map[string]any {
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(appKey())})
	return config(srv, map[string]any{"credentials": map[string]any{
		"auth_type": "app", "app_id": appID, "installation_id": 42, "private_key": string(pemKey),
	}})
}

// A GitHub App installation: one signed JWT buys an installation token,
// which every request carries; a revoked token is replaced once; a token
// refused for the app is a config error.
func TestGitHubApp(t *testing.T) {
	f := acme()
	f.app = &appFixture{key: &appKey().PublicKey, appID: "123456", installation: "42"}
	srv := serve(t, f)
	tokens := []string{"ghs_installationtoken0001", "ghs_installationtoken0002"}

	res := integtest.Sync(t, Source(), appConfig(srv, "123456"), integtest.WithStreams(allStreams...), integtest.WithSecrets(tokens...))
	if n := len(res.AllRecords()); n != 2+8+3+11+11+3 {
		t.Errorf("%d records", n)
	}
	var posts int
	for _, r := range srv.Requests() {
		switch {
		case r.Method == http.MethodPost:
			posts++
			if r.Path != "/app/installations/42/access_tokens" || !r.HeaderIs("X-GitHub-Api-Version", APIVersion) || !r.HeaderIs("Accept", "application/vnd.github+json") {
				t.Errorf("token request %s %v", r, r.Header)
			}
		case !r.HeaderIs("Authorization", "Bearer "+tokens[0]):
			t.Errorf("%s sent %q", r, r.Header.Get("Authorization"))
		}
	}
	if posts != 1 {
		t.Errorf("%d token requests, want one per run", posts)
	}

	// The token is revoked after the repositories are listed: renewed once.
	srv.Reset()
	f.app.issued, f.app.requests = nil, 0
	f.SetFault(func(r *http.Request, _ int) (int, http.Header, string, bool) {
		if strings.HasSuffix(r.URL.Path, "/issues") {
			f.app.mu.Lock()
			f.app.issued = slices.DeleteFunc(f.app.issued, func(s string) bool { return s == tokens[0] })
			f.app.mu.Unlock()
		}
		return 0, nil, "", false
	})
	res = integtest.Sync(t, Source(), appConfig(srv, "123456"), integtest.WithStreams("repositories", "issues"), integtest.WithSecrets(tokens...))
	if n := len(res.Records("issues")); n != 8 || f.app.requests != 2 {
		t.Errorf("after a revoked token: %d issues, %d token requests", n, f.app.requests)
	}
	f.SetFault(nil)

	res = integtest.Sync(t, Source(), appConfig(srv, "999"), integtest.WithProtocol(integtest.Airbyte), integtest.WithExpectedFailure(), integtest.WithSecrets(tokens...))
	if msg := res.Failure(); res.FailureType() != "config_error" || !strings.Contains(msg, "GitHub refused a token for app 999, installation 42 (401 Unauthorized)") {
		t.Errorf("wrong app id: %s %q", res.FailureType(), msg)
	}
}

// An installation token is renewed five minutes before it expires, not
// before.
func TestAppTokenRenewal(t *testing.T) {
	f := acme()
	f.app = &appFixture{key: &appKey().PublicKey, appID: "123456", installation: "42"}
	srv := serve(t, f)
	var cfg Config
	b, _ := json.Marshal(appConfig(srv, "123456"))
	parsed, err := Source().ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := parsed.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	a, err := newAppAuth(cfg, integ.NewSession())
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	now := base
	a.now = func() time.Time { return now }
	f.app.now = a.now
	for _, step := range []struct {
		after time.Duration
		token string
	}{{0, "ghs_installationtoken0001"}, {54 * time.Minute, "ghs_installationtoken0001"}, {56 * time.Minute, "ghs_installationtoken0002"}} {
		now = base.Add(step.after)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/orgs/acme/repos", nil)
		if err := a.Authorize(req); err != nil || req.Header.Get("Authorization") != "Bearer "+step.token {
			t.Errorf("after %s: %q (%v), want %s", step.after, req.Header.Get("Authorization"), err, step.token)
		}
	}
	if _, err := parseKey([]byte("not a key")); err == nil || !strings.Contains(err.Error(), "not PEM") {
		t.Errorf("a key that is not PEM: %v", err)
	}
}

// GitHub Enterprise Server serves the API under /api/v3; pages (and the
// Link header's URLs) stay under it.
func TestEnterpriseBaseURL(t *testing.T) {
	f := newFixture("acme")
	f.addRepo("acme/api", 150, 0)
	srv := integtest.NewServer(t, http.StripPrefix("/api/v3", f))
	f.baseURL = srv.URL + "/api/v3"
	res := integtest.Sync(t, Source(), config(srv, map[string]any{"base_url": srv.URL + "/api/v3/"}), integtest.WithStreams("issues"))
	if n := len(res.Records("issues")); n != 100 {
		t.Errorf("%d issues", n)
	}
	for _, r := range srv.Requests() {
		if !strings.HasPrefix(r.Path, "/api/v3/") || strings.Contains(r.Path, "//") {
			t.Errorf("request %s", r)
		}
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests, want the organization's repositories and two pages of issues", n)
	}
}
