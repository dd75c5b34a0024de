package integ_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/airbyteschema"
	"github.com/integ/integ/protocol/airbyte"
	"github.com/integ/integ/protocol/singer"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// ghAPI answers like GitHub's REST API for one organisation: repositories
// (Link pagination), each repository's issues (since, state, per_page) and
// pull requests, and each pull request's review comments.
type ghAPI struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	repos     []string            // full names, in the API's order
	issues    map[string]int      // issues per repository
	pulls     map[string]int      // pull requests per repository
	comments  int                 // review comments per pull request
	status    map[string]int      // a status the issues endpoint answers for a repository
	fromPage  int                 // ... from this page on (0: every page)
	reposPage int                 // repositories a page, whatever per_page says (0: per_page)
	log       []string            // path?query of every request, in order
	hook      func(*http.Request) // called (without the lock) before each answer
}

var ghEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func newGHAPI(t testing.TB, issues map[string]int, repos ...string) *ghAPI {
	a := &ghAPI{t: t, repos: repos, issues: issues, pulls: map[string]int{}, status: map[string]int{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *ghAPI) repoIndex(full string) int { return slices.Index(a.repos, full) + 1 }

// issueTime differs per repository, so every repository's bookmark does.
func issueTime(repo, i int) string {
	return ghEpoch.Add(time.Duration(repo)*time.Hour + time.Duration(i)*time.Minute).Format(time.RFC3339)
}

func (a *ghAPI) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	a.log = append(a.log, r.URL.Path+"?"+q.Encode())
	hook := a.hook
	a.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var all []string
	switch {
	case len(parts) == 3 && parts[0] == "orgs" && parts[2] == "repos":
		for i, full := range a.repos {
			name := strings.SplitN(full, "/", 2)[1]
			all = append(all, fmt.Sprintf(`{"id":%d,"name":%q,"full_name":%q,"private":false,"html_url":"https://github.com/%s"}`, 100+i, name, full, full))
		}
	case len(parts) == 4 && parts[0] == "repos" && parts[3] == "issues":
		full := parts[1] + "/" + parts[2]
		if s := a.status[full]; s != 0 && a.fromPage <= max(1, atoi(q.Get("page"))) {
			w.WriteHeader(s)
			fmt.Fprint(w, `{"message":"Issues are disabled for this repo","documentation_url":"https://docs.github.com/rest/issues/issues#list-repository-issues"}`)
			return
		}
		k, since := a.repoIndex(full), q.Get("since")
		if q.Get("state") != "all" {
			a.t.Errorf("issues request without state=all: %s", r.URL)
		}
		for i := 1; i <= a.issues[full]; i++ {
			ts := issueTime(k, i)
			if since != "" && ts < since {
				continue
			}
			all = append(all, fmt.Sprintf(`{"id":%d,"number":%d,"title":"issue %d","state":"open","user":{"login":"octocat","id":1},"labels":[],"updated_at":%q,"repository_url":"%s/repos/%s"}`, k*100000+i, i, i, ts, a.srv.URL, full))
		}
	case len(parts) == 4 && parts[0] == "repos" && parts[3] == "pulls":
		full := parts[1] + "/" + parts[2]
		k := a.repoIndex(full)
		for i := 1; i <= a.pulls[full]; i++ {
			all = append(all, fmt.Sprintf(`{"id":%d,"number":%d,"state":"open","updated_at":%q,"base":{"ref":"main","repo":{"full_name":%q}}}`, k*1000+i, i, issueTime(k, i), full))
		}
	case len(parts) == 6 && parts[0] == "repos" && parts[3] == "pulls" && parts[5] == "comments":
		full := parts[1] + "/" + parts[2]
		k, n := a.repoIndex(full), parts[4]
		pr, _ := strconv.Atoi(n)
		since := q.Get("since")
		for i := 1; i <= a.comments; i++ {
			ts := issueTime(k, pr*10+i)
			if since != "" && ts < since {
				continue
			}
			all = append(all, fmt.Sprintf(`{"id":%d,"pull_request_url":"%s/repos/%s/pulls/%s","body":"comment %d","updated_at":%q}`, k*1000000+pr*100+i, a.srv.URL, full, n, i, ts))
		}
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found"}`)
		return
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	if parts[0] == "orgs" && a.reposPage > 0 {
		per = a.reposPage
	}
	if per <= 0 {
		per = 30
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	lo, hi := min((page-1)*per, len(all)), min(page*per, len(all))
	if hi < len(all) {
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next", <%s/last>; rel="last"`, a.srv.URL, next.RequestURI(), a.srv.URL))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "[%s]", strings.Join(all[lo:hi], ","))
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// requests returns the logged requests whose path ends with suffix.
func (a *ghAPI) requests(suffix string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, l := range a.log {
		path, _, _ := strings.Cut(l, "?")
		if strings.HasSuffix(path, suffix) {
			out = append(out, l)
		}
	}
	return out
}

func (a *ghAPI) setHook(h func(*http.Request)) {
	a.mu.Lock()
	a.hook = h
	a.mu.Unlock()
}

func (a *ghAPI) resetLog() {
	a.mu.Lock()
	a.log = nil
	a.mu.Unlock()
}

type ghConfig struct {
	BaseURL string `json:"base_url"`
}

type ghRepo struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Private  bool   `json:"private"`
	HTMLURL  string `json:"html_url"`
}

type ghIssue struct {
	ID            int64     `json:"id"`
	Number        int       `json:"number"`
	Title         string    `json:"title"`
	State         string    `json:"state"`
	UpdatedAt     time.Time `json:"updated_at"`
	RepositoryURL string    `json:"repository_url"`
}

type ghPull struct {
	ID        int64     `json:"id"`
	Number    int       `json:"number"`
	State     string    `json:"state"`
	UpdatedAt time.Time `json:"updated_at"`
}

type ghComment struct {
	ID             int64     `json:"id"`
	PullRequestURL string    `json:"pull_request_url"`
	Body           string    `json:"body"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func ghBase(c *integ.HttpContext) (string, error) {
	var cfg ghConfig
	err := c.Load(&cfg, nil)
	return cfg.BaseURL, err
}

// ghSource is a small GitHub connector: repositories, their issues
// (incremental per repository) and pull requests, and the pull requests'
// review comments (incremental per pull request).
func ghSource(t testing.TB, issueOpts []integ.StreamOption, opts ...integ.SourceOption) *integ.Source {
	repos := integ.NewStream("repositories", ghRepo{}, func(c *integ.HttpContext) error {
		base, err := ghBase(c)
		if err != nil {
			return err
		}
		return c.EmitPages(requests.New(base+"/orgs/acme/repos").Query("per_page", "2"), requests.LinkHeader())
	}, integ.PrimaryKey("id"))
	issues := integ.NewStream("issues", ghIssue{}, func(c *integ.HttpContext) error {
		base, err := ghBase(c)
		if err != nil {
			return err
		}
		req := requests.New(base+"/repos/"+c.Partition()+"/issues").Query("state", "all").Query("per_page", "3")
		if b := c.Bookmark(); b.Exists() {
			req = req.Query("since", b.String())
		}
		return c.EmitPages(req, requests.LinkHeader())
	}, append([]integ.StreamOption{
		integ.ChildOf("repositories"),
		integ.PartitionBy(func(repo gjson.Result) string { return repo.Get("full_name").String() }),
		integ.PrimaryKey("id"),
		integ.Incremental("updated_at"),
	}, issueOpts...)...)
	pulls := integ.NewStream("pulls", ghPull{}, func(c *integ.HttpContext) error {
		base, err := ghBase(c)
		if err != nil {
			return err
		}
		return c.EmitPages(requests.New(base+"/repos/"+c.Partition()+"/pulls").Query("state", "all").Query("per_page", "2"), requests.LinkHeader())
	}, integ.ChildOf("repositories"), integ.PrimaryKey("id"), integ.NotSelectedByDefault(),
		integ.PartitionBy(func(repo gjson.Result) string { return repo.Get("full_name").String() }))
	comments := integ.NewStream("review_comments", ghComment{}, func(c *integ.HttpContext) error {
		base, err := ghBase(c)
		if err != nil {
			return err
		}
		pr := c.Parent()
		req := requests.New(base+"/repos/"+pr.Get("base.repo.full_name").String()+"/pulls/"+c.Partition()+"/comments").Query("per_page", "2")
		if b := c.Bookmark(); b.Exists() {
			req = req.Query("since", b.String())
		}
		return c.EmitPages(req, requests.LinkHeader())
	}, integ.ChildOf("pulls"), integ.PrimaryKey("id"), integ.Incremental("updated_at"), integ.NotSelectedByDefault(),
		integ.PartitionBy(func(pr gjson.Result) string { return pr.Get("number").String() }))
	src := integ.NewSource("github", ghConfig{}, append([]integ.SourceOption{integ.WithStreams(repos, issues, pulls, comments)}, opts...)...)
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return src
}

// proto runs a sync through one real protocol and reads its output back.
type proto struct {
	name string
	new  func() driver.Protocol
	// records maps each stream to its records' "id"s, in output order.
	records func(t testing.TB, out string) map[string][]int64
	// state is the state a runner would pass to the next sync.
	state func(t testing.TB, out string) *integ.State
}

var protos = []proto{
	{
		name: "singer",
		new:  func() driver.Protocol { return singer.NewProtocol(nil) },
		records: func(t testing.TB, out string) map[string][]int64 {
			recs := map[string][]int64{}
			for _, l := range outLines(t, out) {
				if gjson.Get(l, "type").Str == "RECORD" {
					s := gjson.Get(l, "stream").Str
					recs[s] = append(recs[s], gjson.Get(l, "record.id").Int())
				}
			}
			return recs
		},
		state: func(t testing.TB, out string) *integ.State {
			last := ""
			for _, l := range outLines(t, out) {
				if gjson.Get(l, "type").Str == "STATE" {
					last = l
				}
			}
			st, err := singer.ParseState([]byte(last))
			if err != nil {
				t.Fatalf("singer state %s: %v", last, err)
			}
			return st
		},
	},
	{
		name: "airbyte",
		new:  func() driver.Protocol { return airbyte.NewProtocol(nil, func() time.Time { return ghEpoch }) },
		records: func(t testing.TB, out string) map[string][]int64 {
			recs := map[string][]int64{}
			for _, l := range outLines(t, out) {
				if gjson.Get(l, "type").Str == "RECORD" {
					s := gjson.Get(l, "record.stream").Str
					recs[s] = append(recs[s], gjson.Get(l, "record.data.id").Int())
				}
			}
			return recs
		},
		state: func(t testing.TB, out string) *integ.State {
			last := map[string]string{}
			var order []string
			for _, l := range outLines(t, out) {
				if gjson.Get(l, "type").Str != "STATE" {
					continue
				}
				if gjson.Get(l, "state.type").Str != "STREAM" || !gjson.Get(l, "state.stream.stream_state").IsObject() {
					t.Fatalf("not a valid per-stream Airbyte STATE: %s", l)
				}
				name := gjson.Get(l, "state.stream.stream_descriptor.name").Str
				if _, ok := last[name]; !ok {
					order = append(order, name)
				}
				last[name] = gjson.Get(l, "state").Raw
			}
			var msgs []string
			for _, n := range order {
				msgs = append(msgs, last[n])
			}
			st, err := airbyte.ParseState([]byte("[" + strings.Join(msgs, ",") + "]"))
			if err != nil {
				t.Fatalf("airbyte state: %v", err)
			}
			return st
		},
	},
}

// outLines checks that the output is whole JSON lines and returns them.
func outLines(t testing.TB, out string) []string {
	t.Helper()
	var ls []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		if !gjson.Valid(l) {
			t.Fatalf("output line is not JSON: %q", l)
		}
		ls = append(ls, l)
	}
	return ls
}

type syncRun struct {
	ctx     context.Context
	catalog *integ.Catalog
	state   *integ.State
	proto   proto
	logs    *bytes.Buffer
	every   int64 // CheckpointRecords
}

func ghSync(t testing.TB, src *integ.Source, a *ghAPI, r syncRun) (string, error) {
	t.Helper()
	cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"` + a.srv.URL + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.ctx == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r.ctx = ctx
	}
	if r.proto.new == nil {
		r.proto = protos[0]
	}
	var out bytes.Buffer
	logger := slog.New(slog.DiscardHandler)
	if r.logs != nil {
		logger = slog.New(slog.NewTextHandler(r.logs, nil))
	}
	err = src.Sync(r.ctx, integ.SyncOptions{
		Config: cfg, Catalog: r.catalog, State: r.state, Protocol: r.proto.new(), Output: driver.NewOutput(&out),
		Logger: logger, CheckpointRecords: r.every,
		Now:  func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) },
		HTTP: integ.HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: 1}},
	})
	return out.String(), err
}

func ghCatalog(names ...string) *integ.Catalog {
	c := &integ.Catalog{}
	for _, n := range names {
		c.Streams = append(c.Streams, integ.CatalogStream{Name: n})
	}
	return c
}

// wantIssues lists the ids of repository full's issues from number from on.
func wantIssues(a *ghAPI, full string, from int) []int64 {
	var ids []int64
	for i := from; i <= a.issues[full]; i++ {
		ids = append(ids, int64(a.repoIndex(full)*100000+i))
	}
	return ids
}

// sinceOf maps each repository to the since of its issues requests ("-"
// when a request had none).
func sinceOf(t testing.TB, reqs []string) map[string][]string {
	out := map[string][]string{}
	for _, r := range reqs {
		path, query, _ := strings.Cut(r, "?")
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		repo := strings.Join(strings.Split(strings.Trim(path, "/"), "/")[1:3], "/")
		s := q.Get("since")
		if s == "" {
			s = "-"
		}
		out[repo] = append(out[repo], s)
	}
	return out
}

func TestPartitionsBookmarkPerRepository(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			a := newGHAPI(t, map[string]int{"acme/one": 5, "acme/two": 7, "acme/three": 4}, "acme/one", "acme/two", "acme/three")
			src := ghSource(t, nil)
			out, err := ghSync(t, src, a, syncRun{proto: p})
			if err != nil {
				t.Fatal(err)
			}
			recs := p.records(t, out)
			want := slices.Concat(wantIssues(a, "acme/one", 1), wantIssues(a, "acme/two", 1), wantIssues(a, "acme/three", 1))
			if !slices.Equal(recs["issues"], want) {
				t.Fatalf("first sync issues (must be in repository order)\n got %v\nwant %v", recs["issues"], want)
			}
			for repo, s := range sinceOf(t, a.requests("/issues")) {
				for _, v := range s {
					if v != "-" {
						t.Fatalf("first sync sent since=%s for %s", v, repo)
					}
				}
			}
			st := p.state(t, out)
			parts := gjson.GetBytes(st.Stream("issues"), "partitions")
			for repo, n := range map[string]int{"acme/one": 5, "acme/two": 7, "acme/three": 4} {
				got := parts.Get(gjson.Escape(repo) + ".replication_key_value").String()
				if want := issueTime(a.repoIndex(repo), n); got != want {
					t.Errorf("state of %s: bookmark %q, want %q (state %s)", repo, got, want, st.Stream("issues"))
				}
			}

			// A second sync: every repository from its own bookmark; one
			// added since gets its full history; one gone keeps its state.
			a.mu.Lock()
			a.repos = []string{"acme/one", "acme/two", "acme/four"} // three is gone, four is new
			a.issues["acme/four"] = 3
			a.mu.Unlock()
			a.resetLog()
			out2, err := ghSync(t, src, a, syncRun{proto: p, state: st})
			if err != nil {
				t.Fatal(err)
			}
			since := sinceOf(t, a.requests("/issues"))
			wantSince := map[string][]string{
				"acme/one":  {issueTime(1, 5)},
				"acme/two":  {issueTime(2, 7)},
				"acme/four": {"-"},
			}
			for repo, w := range wantSince {
				if !slices.Equal(since[repo], w) {
					t.Errorf("second sync: %s requested with since %v, want %v", repo, since[repo], w)
				}
			}
			recs2 := p.records(t, out2)
			want2 := slices.Concat(wantIssues(a, "acme/one", 5), wantIssues(a, "acme/two", 7), wantIssues(a, "acme/four", 1))
			if !slices.Equal(recs2["issues"], want2) {
				t.Fatalf("second sync issues\n got %v\nwant %v", recs2["issues"], want2)
			}
			st2 := p.state(t, out2)
			if got := gjson.GetBytes(st2.Stream("issues"), `partitions.acme/three.replication_key_value`).String(); got != issueTime(3, 4) {
				t.Errorf("a repository not seen this run lost its state: %s", st2.Stream("issues"))
			}
			if got := gjson.GetBytes(st2.Stream("issues"), `partitions.acme/four.replication_key_value`).String(); got != issueTime(3, 3) {
				t.Errorf("new repository's bookmark %q, want %q", got, issueTime(3, 3))
			}
		})
	}
}

func TestPartitionErrorPolicy(t *testing.T) {
	tests := []struct {
		name     string
		opts     []integ.StreamOption
		status   int
		fromPage int // the page of acme/two that fails; 0: the first
		wantFail bool
	}{
		{"410 skipped", []integ.StreamOption{integ.OnError(integ.SkipOn(http.StatusNotFound, http.StatusGone))}, http.StatusGone, 0, false},
		{"404 skipped", []integ.StreamOption{integ.OnError(integ.SkipOn(http.StatusNotFound, http.StatusGone))}, http.StatusNotFound, 0, false},
		{"410 on page 2 skipped, page 1 kept", []integ.StreamOption{integ.OnError(integ.SkipOn(http.StatusGone))}, http.StatusGone, 2, false},
		{"source policy skips", nil, http.StatusGone, 0, false},
		{"500 fails the child only", []integ.StreamOption{integ.OnError(integ.SkipOn(http.StatusGone))}, http.StatusInternalServerError, 0, true},
		{"410 without a policy fails the child only", nil, http.StatusGone, 0, true},
	}
	for _, p := range protos {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				a := newGHAPI(t, map[string]int{"acme/one": 4, "acme/two": 4, "acme/three": 4}, "acme/one", "acme/two", "acme/three")
				a.status["acme/two"], a.fromPage = tt.status, tt.fromPage
				var srcOpts []integ.SourceOption
				if strings.HasPrefix(tt.name, "source policy") {
					srcOpts = append(srcOpts, integ.WithErrorPolicy(integ.SkipOn(http.StatusGone)))
				}
				src := ghSource(t, tt.opts, srcOpts...)
				var logs bytes.Buffer
				out, err := ghSync(t, src, a, syncRun{proto: p, logs: &logs})
				recs := p.records(t, out)
				if got := len(recs["repositories"]); got != 3 {
					t.Errorf("repositories: %d records, want 3", got)
				}
				warnings := strings.Count(logs.String(), "partition skipped")
				if !tt.wantFail {
					if err != nil {
						t.Fatalf("sync failed: %v", err)
					}
					var two []int64
					if tt.fromPage > 1 {
						two = wantIssues(a, "acme/two", 1)[:3*(tt.fromPage-1)]
					}
					want := slices.Concat(wantIssues(a, "acme/one", 1), two, wantIssues(a, "acme/three", 1))
					if !slices.Equal(recs["issues"], want) {
						t.Fatalf("issues\n got %v\nwant %v", recs["issues"], want)
					}
					if warnings != 1 {
						t.Fatalf("%d skip warnings, want 1:\n%s", warnings, logs.String())
					}
					for _, s := range []string{"stream=issues", "partition=acme/two", "status=" + strconv.Itoa(tt.status)} {
						if !strings.Contains(logs.String(), s) {
							t.Errorf("the warning does not say %s:\n%s", s, logs.String())
						}
					}
					parts := gjson.GetBytes(p.state(t, out).Stream("issues"), "partitions")
					if !parts.Get(`acme/three`).Exists() || parts.Get(`acme/two`).Exists() {
						t.Errorf("state after a skip: %s", parts.Raw)
					}
					return
				}
				if err == nil {
					t.Fatal("sync succeeded, want the issues stream to fail")
				}
				msg := integ.UserMessage(err)
				if strings.Count(msg, `stream "issues"`) != 1 || strings.Contains(err.Error(), `"repositories"`) {
					t.Errorf("error must name the issues stream once and not the parent: %s (%v)", msg, err)
				}
				if !strings.Contains(msg, `partition "acme/two"`) {
					t.Errorf("the message people read does not name the partition: %s", msg)
				}
				if !strings.Contains(msg, "acme/two") || !strings.Contains(msg, strconv.Itoa(tt.status)) {
					t.Errorf("error does not name the partition and status: %v", err)
				}
				if warnings != 0 {
					t.Errorf("unexpected skip warning:\n%s", logs.String())
				}
				if got := recs["issues"]; !slices.Equal(got[:min(4, len(got))], wantIssues(a, "acme/one", 1)) {
					t.Errorf("records written before the failure are lost: %v", got)
				}
			})
		}
	}
}

func TestPartitionsKilledMidwayResumeLosesNothing(t *testing.T) {
	issues := map[string]int{"acme/one": 7, "acme/two": 8, "acme/three": 5, "acme/four": 6}
	a := newGHAPI(t, issues, "acme/one", "acme/two", "acme/three", "acme/four")
	var want []int64
	for _, r := range a.repos {
		want = append(want, wantIssues(a, r, 1)...)
	}
	// 3 repository pages and 11 issue pages in all.
	for _, p := range protos {
		for killAt := 1; killAt <= 13; killAt++ {
			t.Run(fmt.Sprintf("%s/after %d requests", p.name, killAt), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				var n int
				var mu sync.Mutex
				a.setHook(func(*http.Request) {
					mu.Lock()
					defer mu.Unlock()
					if n++; n == killAt {
						cancel()
					}
				})
				defer a.setHook(nil)
				src := ghSource(t, nil, integ.WithPartitionParallelism(2))
				out, err := ghSync(t, src, a, syncRun{ctx: ctx, proto: p})
				got := p.records(t, out)["issues"]
				if err == nil && len(got) < len(want) {
					t.Fatalf("sync killed after %d requests succeeded with %d of %d records", killAt, len(got), len(want))
				}
				a.setHook(nil)
				out2, err := ghSync(t, src, a, syncRun{proto: p, state: p.state(t, out)})
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, p.records(t, out2)["issues"]...)
				for _, id := range want {
					if !slices.Contains(got, id) {
						t.Fatalf("issue %d lost: first run %d records, both %v", id, len(p.records(t, out)["issues"]), got)
					}
				}
			})
		}
	}
}

func TestPartitionsThreeLevels(t *testing.T) {
	tests := []struct {
		name    string
		catalog []string
	}{
		{"only the grand-child", []string{"review_comments"}},
		{"every level", []string{"repositories", "pulls", "review_comments"}},
		{"grand-child listed first", []string{"review_comments", "repositories"}},
	}
	for _, p := range protos {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				a := newGHAPI(t, map[string]int{}, "acme/one", "acme/two", "acme/three")
				a.pulls = map[string]int{"acme/one": 3, "acme/two": 0, "acme/three": 2}
				a.comments = 3
				src := ghSource(t, nil)
				out, err := ghSync(t, src, a, syncRun{proto: p, catalog: ghCatalog(tt.catalog...)})
				if err != nil {
					t.Fatal(err)
				}
				recs := p.records(t, out)
				var want []int64
				for _, repo := range []string{"acme/one", "acme/three"} {
					for pr := 1; pr <= a.pulls[repo]; pr++ {
						for i := 1; i <= 3; i++ {
							want = append(want, int64(a.repoIndex(repo)*1000000+pr*100+i))
						}
					}
				}
				if !slices.Equal(recs["review_comments"], want) {
					t.Fatalf("review comments\n got %v\nwant %v", recs["review_comments"], want)
				}
				for _, s := range []string{"repositories", "pulls"} {
					if slices.Contains(tt.catalog, s) != (len(recs[s]) > 0) {
						t.Errorf("stream %s: %d records, selected %v", s, len(recs[s]), slices.Contains(tt.catalog, s))
					}
				}
				st := p.state(t, out)
				parts := gjson.GetBytes(st.Stream("review_comments"), "partitions")
				key := `["acme/one","2"]`
				if got := parts.Get(gjson.Escape(key) + ".replication_key_value").String(); got != issueTime(1, 23) {
					t.Fatalf("grand-child partition %s: %q, want %q (state %s)", key, got, issueTime(1, 23), parts.Raw)
				}
				a.resetLog()
				if _, err := ghSync(t, src, a, syncRun{proto: p, catalog: ghCatalog(tt.catalog...), state: st}); err != nil {
					t.Fatal(err)
				}
				for _, r := range a.requests("/comments") {
					// /repos/acme/one/pulls/2/comments: since from its own bookmark
					parts := strings.Split(strings.Trim(strings.SplitN(r, "?", 2)[0], "/"), "/")
					k, _ := strconv.Atoi(parts[4])
					q, _ := url.ParseQuery(strings.SplitN(r, "?", 2)[1])
					if w := issueTime(a.repoIndex(parts[1]+"/"+parts[2]), k*10+3); q.Get("since") != w {
						t.Errorf("second sync %s: since %q, want %q", r, q.Get("since"), w)
					}
				}
			})
		}
	}
}

func TestPartitionsOrderedWithBoundedLookAhead(t *testing.T) {
	// acme/one's first page waits until acme/two has read ahead as far as
	// it may (4 queued pages, then one body waiting for the writer and the
	// next one fetched on its word): two's records must still come out after
	// one's, and two must not read further until one is done.
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			a := newGHAPI(t, map[string]int{"acme/one": 6, "acme/two": 60}, "acme/one", "acme/two")
			var mu sync.Mutex
			twoPages, onePages, seen := 0, 0, -1
			ahead := make(chan struct{})
			a.setHook(func(r *http.Request) {
				mu.Lock()
				switch r.URL.Path {
				case "/repos/acme/two/issues":
					if twoPages++; twoPages == 6 {
						close(ahead)
					}
					mu.Unlock()
				case "/repos/acme/one/issues":
					onePages++
					first := onePages == 1
					mu.Unlock()
					if first {
						select { // a reader held back sooner fails the count below
						case <-ahead:
						case <-time.After(10 * time.Second):
						}
						return
					}
					// Give an unbounded reader the time to run away.
					deadline := time.After(300 * time.Millisecond)
					for {
						mu.Lock()
						n := twoPages
						mu.Unlock()
						if n >= 20 {
							break
						}
						select {
						case <-deadline:
						case <-time.After(5 * time.Millisecond):
							continue
						}
						break
					}
					mu.Lock()
					seen = twoPages
					mu.Unlock()
				default:
					mu.Unlock()
				}
			})
			out, err := ghSync(t, ghSource(t, nil), a, syncRun{proto: p})
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Concat(wantIssues(a, "acme/one", 1), wantIssues(a, "acme/two", 1))
			if got := p.records(t, out)["issues"]; !slices.Equal(got, want) {
				t.Fatalf("issues out of parent order\n got %v\nwant %v", got, want)
			}
			if seen != 6 {
				t.Fatalf("acme/two had read %d pages when acme/one was on its last page, want 6 (4 queued and 2 read ahead)", seen)
			}
		})
	}
}

func TestPartitionsResumeFromCheckpointedProgress(t *testing.T) {
	// Killed as acme/one's fifth page is requested (on the word of the
	// fourth, read while the third waits for the writer and the second is
	// written, so page 1 is out for sure, and pages up to the fourth may go
	// out before the cancel is seen): an unsorted partition starts again
	// from its old bookmark (none), a Sorted one from the progress
	// checkpointed as its pages went out.
	for _, sorted := range []bool{false, true} {
		for _, p := range protos {
			t.Run(fmt.Sprintf("%s/sorted=%v", p.name, sorted), func(t *testing.T) {
				a := newGHAPI(t, map[string]int{"acme/one": 20, "acme/two": 2}, "acme/one", "acme/two")
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				a.setHook(func(r *http.Request) {
					if r.URL.Path == "/repos/acme/one/issues" && r.URL.Query().Get("page") == "5" {
						cancel()
					}
				})
				var opts []integ.StreamOption
				if sorted {
					opts = append(opts, integ.Sorted())
				}
				src := ghSource(t, opts, integ.WithPartitionParallelism(1))
				out, err := ghSync(t, src, a, syncRun{ctx: ctx, proto: p, every: 1})
				if !errors.Is(err, integ.ErrInterrupted) {
					t.Fatalf("killed sync: %v, want ErrInterrupted", err)
				}
				first := p.records(t, out)["issues"]
				a.setHook(nil)
				a.resetLog()
				out2, err := ghSync(t, src, a, syncRun{proto: p, state: p.state(t, out)})
				if err != nil {
					t.Fatal(err)
				}
				wantSince := []string{"-"}
				if sorted { // the last record of page 1, or of a later one that went out
					wantSince = []string{issueTime(1, 3), issueTime(1, 6), issueTime(1, 9), issueTime(1, 12)}
				}
				if got := sinceOf(t, a.requests("/issues"))["acme/one"]; len(got) == 0 || !slices.Contains(wantSince, got[0]) {
					t.Fatalf("resumed acme/one with since %v, want one of %s first", got, wantSince)
				}
				all := append(first, p.records(t, out2)["issues"]...)
				for _, id := range slices.Concat(wantIssues(a, "acme/one", 1), wantIssues(a, "acme/two", 1)) {
					if !slices.Contains(all, id) {
						t.Fatalf("issue %d lost: %v", id, all)
					}
				}
			})
		}
	}
}

func TestPartitionsStateFromOlderRunsAndBadState(t *testing.T) {
	a := newGHAPI(t, map[string]int{"acme/one": 2, "acme/two": 2}, "acme/one", "acme/two")
	src := ghSource(t, nil)
	p := protos[0]
	// An older integ kept one bookmark for all partitions: it must not be
	// applied to any of them.
	old, err := singer.ParseState([]byte(`{"bookmarks":{"issues":{"replication_key":"updated_at","replication_key_value":"2024-01-01T05:00:00Z","mine":1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := ghSync(t, src, a, syncRun{proto: p, state: old})
	if err != nil {
		t.Fatal(err)
	}
	for repo, s := range sinceOf(t, a.requests("/issues")) {
		if !slices.Equal(s, []string{"-"}) {
			t.Errorf("%s requested with since %v after an old shared bookmark", repo, s)
		}
	}
	got := string(p.state(t, out).Stream("issues"))
	if strings.Contains(got, "05:00:00") || !strings.Contains(got, `"mine":1`) || !strings.Contains(got, `"partitions":{"acme/one":`) {
		t.Errorf("state after an old shared bookmark: %s", got)
	}

	a.resetLog()
	bad, err := singer.ParseState([]byte(`{"bookmarks":{"issues":{"partitions":{"acme/one":{"replication_key":"created_at","replication_key_value":"x"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ghSync(t, src, a, syncRun{proto: p, state: bad})
	if integ.KindOf(err) != integ.ConfigFailure || !errors.Is(err, integ.ErrState) || !strings.Contains(err.Error(), `"acme/one"`) {
		t.Fatalf("bad partition state: %v", err)
	}
	if n := len(a.requests("")); n != 0 {
		t.Fatalf("%d requests made with a bad state", n)
	}
}

func TestPartitionEmptyKeyFailsTheIncrementalChild(t *testing.T) {
	a := newGHAPI(t, map[string]int{"acme/one": 2}, "acme/one")
	src := ghSource(t, []integ.StreamOption{integ.PartitionBy(func(r gjson.Result) string { return r.Get("fullname").String() })})
	out, err := ghSync(t, src, a, syncRun{})
	if integ.KindOf(err) != integ.SystemFailure || !strings.Contains(err.Error(), "partition key of parent record") {
		t.Fatalf("empty partition key: %v", err)
	}
	if n := len(protos[0].records(t, out)["repositories"]); n != 1 {
		t.Fatalf("the parent stream must not fail: %d records", n)
	}
	if n := len(a.requests("/issues")); n != 0 {
		t.Fatalf("%d issues requests with an empty partition key", n)
	}
}

// TestPartitionsGolden pins both protocols' output for a sync with every
// level, a skipped partition and per-partition state (one partition at a
// time, so that the streams' lines interleave the same way every run).
func TestPartitionsGolden(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			a := newGHAPI(t, map[string]int{"acme/one": 4, "acme/three": 2}, "acme/one", "acme/two", "acme/three")
			a.status["acme/two"] = http.StatusGone
			a.pulls = map[string]int{"acme/one": 2, "acme/two": 1}
			a.comments = 2
			src := ghSource(t, []integ.StreamOption{integ.OnError(integ.SkipOn(http.StatusGone))}, integ.WithPartitionParallelism(1))
			cat := ghCatalog("repositories", "issues", "pulls", "review_comments")
			old, err := singer.ParseState([]byte(`{"bookmarks":{"issues":{"partitions":{"acme/gone":{"replication_key":"updated_at","replication_key_value":"2023-01-01T00:00:00Z"}}}}}`))
			if err != nil {
				t.Fatal(err)
			}
			out, err := ghSync(t, src, a, syncRun{proto: p, catalog: cat, state: old})
			if err != nil {
				t.Fatal(err)
			}
			if p.name == "airbyte" { // every line, partition states included, is a valid AirbyteMessage
				if _, err := airbyteschema.ValidateStdout([]byte(out)); err != nil {
					t.Fatal(err)
				}
			}
			got := strings.ReplaceAll(out, a.srv.URL, "http://api.test")
			path := "testdata/partitions_" + p.name + ".jsonl"
			if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs (go test -update rewrites it)\n got:\n%s", path, got)
			}
		})
	}
}

func TestPartitionsWithTransforms(t *testing.T) {
	// A transform in a child's partition sees the partition's context.
	a := newGHAPI(t, map[string]int{"acme/one": 2, "acme/two": 1}, "acme/one", "acme/two")
	src := ghSource(t, []integ.StreamOption{
		integ.AddField("repository", func(c *integ.HttpContext) any { return c.Partition() }),
		integ.AddField("repo_id", func(c *integ.HttpContext) any { return c.Parent().Get("id") }),
	})
	out, err := ghSync(t, src, a, syncRun{catalog: ghCatalog("issues")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range outLines(t, out) {
		if gjson.Get(l, "type").Str == "RECORD" {
			got = append(got, gjson.Get(l, "record.repository").Str+"#"+gjson.Get(l, "record.repo_id").Raw)
		}
	}
	if want := []string{"acme/one#100", "acme/one#100", "acme/two#101"}; !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
}

func TestPartitionParallelismIsUsedAndBounded(t *testing.T) {
	// The first issues requests are held until `bound` of them are in
	// flight, and then a little longer, so that a run reading more at once
	// shows it.
	// The repositories come in one page: a parent page's records are what
	// can run at once, since the parent's checkpoint covers its children.
	for _, bound := range []int{1, 3} {
		t.Run(strconv.Itoa(bound), func(t *testing.T) {
			repos := []string{"acme/a", "acme/b", "acme/c", "acme/d", "acme/e", "acme/f"}
			issues := map[string]int{}
			for _, r := range repos {
				issues[r] = 2
			}
			a := newGHAPI(t, issues, repos...)
			a.reposPage = len(repos)
			var mu sync.Mutex
			inflight, peak := 0, 0
			full := make(chan struct{}) // closed once the first `bound` requests are in flight
			var once sync.Once
			a.setHook(func(r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/issues") {
					return
				}
				mu.Lock()
				inflight++
				peak = max(peak, inflight)
				if inflight == bound {
					once.Do(func() { close(full) })
				}
				mu.Unlock()
				defer func() {
					mu.Lock()
					inflight--
					mu.Unlock()
				}()
				select {
				case <-full:
					// The first batch stays a little longer: time for a
					// request over the bound to show up.
					time.Sleep(20 * time.Millisecond)
				case <-time.After(5 * time.Second):
				}
			})
			out, err := ghSync(t, ghSource(t, nil, integ.WithPartitionParallelism(bound)), a, syncRun{catalog: ghCatalog("issues")})
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for _, r := range repos {
				want = append(want, wantIssues(a, r, 1)...)
			}
			if got := protos[0].records(t, out)["issues"]; !slices.Equal(got, want) {
				t.Fatalf("issues\n got %v\nwant %v", got, want)
			}
			mu.Lock()
			defer mu.Unlock()
			if peak != bound {
				t.Fatalf("%d partitions read at once, want %d", peak, bound)
			}
		})
	}
}

func TestPartitionRefusedCredentialsAbortTheSync(t *testing.T) {
	a := newGHAPI(t, map[string]int{"acme/one": 4, "acme/two": 4, "acme/three": 4}, "acme/one", "acme/two", "acme/three")
	a.status["acme/two"] = http.StatusUnauthorized
	src := ghSource(t, []integ.StreamOption{integ.OnError(integ.SkipOn(http.StatusGone))})
	_, err := ghSync(t, src, a, syncRun{catalog: ghCatalog("issues")})
	if err == nil || integ.KindOf(err) != integ.ConfigFailure || !strings.Contains(integ.UserMessage(err), "credentials") {
		t.Fatalf("a 401 in a partition: %v, want the sync to end on refused credentials", err)
	}
}

func TestPartitionsConformance(t *testing.T) {
	// Resuming from every checkpoint of a partitioned sync, in both
	// protocols, loses no record; every Airbyte message is valid.
	a := newGHAPI(t, map[string]int{"acme/one": 4, "acme/two": 2, "acme/three": 3}, "acme/one", "acme/two", "acme/three")
	a.pulls = map[string]int{"acme/one": 2, "acme/three": 1}
	a.comments = 3
	integtest.Conformance(t, ghSource(t, nil), ghConfig{BaseURL: a.srv.URL},
		integtest.WithStreams("repositories", "issues", "pulls", "review_comments"))
}
