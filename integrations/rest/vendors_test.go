package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integtest"
)

// Fixture servers shaped like the Stripe, GitHub and Klaviyo APIs, as their
// reference documentation describes them: the list envelopes, the
// parameters each endpoint accepts (an unknown or malformed one is refused
// the way the vendor refuses it), the pagination, and the records' shapes.
// Each serves a small data set that a test can change between syncs.

// vendorTime is the fixtures' clock: record i is created at vendorTime + i
// hours.
var vendorTime = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

func vendorJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ---- Stripe ----

const stripeKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"

type stripeObject struct {
	ID      string
	Created int64
	Fields  map[string]any
}

type stripeAPI struct {
	mu      sync.Mutex
	objects map[string][]stripeObject // by list path: customers, charges
}

func newStripeAPI(n int) *stripeAPI {
	api := &stripeAPI{objects: map[string][]stripeObject{}}
	for i := 1; i <= n; i++ {
		api.add("customers", i)
		api.add("charges", i)
	}
	return api
}

// add appends object i of a list, created i hours after vendorTime.
func (a *stripeAPI) add(list string, i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	created := vendorTime.Add(time.Duration(i) * time.Hour).Unix()
	o := stripeObject{Created: created}
	switch list {
	case "customers":
		o.ID = fmt.Sprintf("cus_%04d", i)
		o.Fields = map[string]any{"object": "customer", "email": fmt.Sprintf("c%d@example.com", i), "balance": 0, "livemode": false, "metadata": map[string]any{}}
	case "charges":
		o.ID = fmt.Sprintf("ch_%04d", i)
		o.Fields = map[string]any{"object": "charge", "amount": 100 * i, "currency": "usd", "status": "succeeded", "paid": true}
	}
	a.objects[list] = append(a.objects[list], o)
}

var stripeParams = []string{"limit", "starting_after", "ending_before", "created[gte]", "created[gt]", "created[lte]", "created[lt]", "expand[]"}

func (a *stripeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		vendorJSON(w, status, map[string]any{"error": map[string]any{"type": "invalid_request_error", "message": msg}})
	}
	if r.Header.Get("Authorization") != "Bearer "+stripeKey {
		fail(401, "Invalid API Key provided: "+strings.Repeat("*", 8))
		return
	}
	list := strings.TrimPrefix(r.URL.Path, "/v1/")
	a.mu.Lock()
	objs := slices.Clone(a.objects[list])
	a.mu.Unlock()
	if objs == nil || r.Method != "GET" {
		fail(404, "Unrecognized request URL ("+r.Method+": "+r.URL.Path+").")
		return
	}
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains(stripeParams, k) {
			fail(400, "Received unknown parameter: "+k)
			return
		}
	}
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			fail(400, "Invalid limit: must be an integer between 1 and 100")
			return
		}
		limit = n
	}
	if v := q.Get("created[gte]"); v != "" {
		gte, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fail(400, "Invalid integer: "+v)
			return
		}
		objs = slices.DeleteFunc(objs, func(o stripeObject) bool { return o.Created < gte })
	}
	// Newest first, as Stripe lists.
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].Created > objs[j].Created })
	if after := q.Get("starting_after"); after != "" {
		i := slices.IndexFunc(objs, func(o stripeObject) bool { return o.ID == after })
		if i < 0 {
			fail(400, "No such object: '"+after+"'")
			return
		}
		objs = objs[i+1:]
	}
	hasMore := len(objs) > limit
	if hasMore {
		objs = objs[:limit]
	}
	data := make([]map[string]any, len(objs))
	for i, o := range objs {
		rec := map[string]any{"id": o.ID, "created": o.Created}
		for k, v := range o.Fields {
			rec[k] = v
		}
		data[i] = rec
	}
	vendorJSON(w, 200, map[string]any{"object": "list", "url": r.URL.Path, "has_more": hasMore, "data": data})
}

// ---- GitHub ----

const githubToken = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"

type githubItem struct {
	ID      int
	Number  int
	Updated time.Time
}

type githubAPI struct {
	mu       sync.Mutex
	perPage  int                     // the most records the fixture puts on a page, whatever per_page asks
	issues   map[string][]githubItem // by owner/repo
	pulls    []githubItem            // of acme/app
	commits  []githubItem            // of acme/app; Updated is the committer date
	repos    []string                // of the acme org
	lastSeen time.Time
}

func newGitHubAPI(n int) *githubAPI {
	a := &githubAPI{perPage: 4, issues: map[string][]githubItem{}, repos: []string{"app", "lib", "docs"}}
	for i := 1; i <= n; i++ {
		at := vendorTime.Add(time.Duration(i) * time.Hour)
		for r, repo := range a.repos {
			a.issues["acme/"+repo] = append(a.issues["acme/"+repo], githubItem{ID: 1000*(r+1) + i, Number: i, Updated: at})
		}
		a.pulls = append(a.pulls, githubItem{ID: 5000 + i, Number: 100 + i, Updated: at})
		a.commits = append(a.commits, githubItem{ID: i, Updated: at})
	}
	return a
}

// touch updates issue number of repo (and a pull, and adds a commit) at t.
func (a *githubAPI) touch(repo string, number int, t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.issues[repo] {
		if a.issues[repo][i].Number == number {
			a.issues[repo][i].Updated = t
		}
	}
}

var githubIssuesPath = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/(issues|pulls|commits)$`)

func (a *githubAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		vendorJSON(w, status, map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)})
	}
	if r.Header.Get("Authorization") != "Bearer "+githubToken {
		fail(401, "Bad credentials")
		return
	}
	if acc := r.Header.Get("Accept"); acc != "" && acc != "*/*" && !strings.Contains(acc, "json") {
		fail(406, "Unsupported 'Accept' header: "+acc)
		return
	}
	q := r.URL.Query()
	perPage := 30
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail(422, "Validation Failed")
			return
		}
		perPage = min(n, 100)
	}
	perPage = min(perPage, a.perPage)
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail(422, "Validation Failed")
			return
		}
		page = n
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			fail(422, "Validation Failed: since is not an ISO 8601 timestamp")
			return
		}
		since = t
	}
	a.mu.Lock()
	var records []map[string]any
	switch m := githubIssuesPath.FindStringSubmatch(r.URL.Path); {
	case r.URL.Path == "/orgs/acme/repos":
		for i, name := range a.repos {
			records = append(records, map[string]any{"id": 100 + i, "name": name, "full_name": "acme/" + name, "private": false, "owner": map[string]any{"login": "acme", "id": 1, "type": "Organization"}})
		}
	case m != nil && m[3] == "issues":
		items, ok := a.issues[m[1]+"/"+m[2]]
		if !ok {
			a.mu.Unlock()
			fail(404, "Not Found")
			return
		}
		items = slices.Clone(items)
		items = slices.DeleteFunc(items, func(it githubItem) bool { return !since.IsZero() && it.Updated.Before(since) })
		sortItems(items, q.Get("sort"), q.Get("direction"))
		for _, it := range items {
			records = append(records, map[string]any{"id": it.ID, "number": it.Number, "title": fmt.Sprintf("Issue %d", it.Number), "state": "open",
				"user": map[string]any{"login": "octocat", "id": 1}, "labels": []any{}, "created_at": vendorTime.Format(time.RFC3339), "updated_at": it.Updated.Format(time.RFC3339),
				"repository_url": "https://api.github.com/repos/" + m[1] + "/" + m[2]})
		}
	case m != nil && m[1]+"/"+m[2] == "acme/app" && m[3] == "pulls":
		items := slices.Clone(a.pulls) // no since: GitHub's pulls list has none
		sortItems(items, q.Get("sort"), q.Get("direction"))
		for _, it := range items {
			records = append(records, map[string]any{"id": it.ID, "number": it.Number, "state": "open", "title": fmt.Sprintf("PR %d", it.Number),
				"head": map[string]any{"ref": "feature", "sha": "abc"}, "created_at": vendorTime.Format(time.RFC3339), "updated_at": it.Updated.Format(time.RFC3339)})
		}
	case m != nil && m[1]+"/"+m[2] == "acme/app" && m[3] == "commits":
		items := slices.Clone(a.commits)
		items = slices.DeleteFunc(items, func(it githubItem) bool { return !since.IsZero() && it.Updated.Before(since) })
		sortItems(items, "updated", "desc") // newest first
		for _, it := range items {
			date := it.Updated.Format(time.RFC3339)
			records = append(records, map[string]any{"sha": fmt.Sprintf("%040x", it.ID), "url": "https://api.github.com/repos/acme/app/commits/x",
				"commit": map[string]any{"message": fmt.Sprintf("commit %d", it.ID), "author": map[string]any{"name": "Mona", "date": date}, "committer": map[string]any{"name": "GitHub", "date": date}}})
		}
	default:
		a.mu.Unlock()
		fail(404, "Not Found")
		return
	}
	a.mu.Unlock()
	from := (page - 1) * perPage
	if from > len(records) {
		from = len(records)
	}
	to := min(from+perPage, len(records))
	if to < len(records) {
		next := *r.URL
		next.Scheme, next.Host = "http", r.Host
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, next.String()))
	}
	out := records[from:to]
	if out == nil {
		out = []map[string]any{}
	}
	vendorJSON(w, 200, out)
}

func sortItems(items []githubItem, by, dir string) {
	if by != "updated" {
		sort.SliceStable(items, func(i, j int) bool { return items[i].ID > items[j].ID }) // created, newest first
		return
	}
	sort.SliceStable(items, func(i, j int) bool {
		if dir == "asc" {
			return items[i].Updated.Before(items[j].Updated)
		}
		return items[i].Updated.After(items[j].Updated)
	})
}

// ---- Klaviyo ----

const klaviyoKey = "pk_3f5a9b0c1d2e4f6a7b8c9d0e1f2a3b4c5d"

type klaviyoAPI struct {
	mu       sync.Mutex
	profiles []githubItem // ID, Updated
	events   []githubItem // ID, Updated is the datetime
}

func newKlaviyoAPI(n int) *klaviyoAPI {
	a := &klaviyoAPI{}
	for i := 1; i <= n; i++ {
		at := vendorTime.Add(time.Duration(i) * time.Hour)
		a.profiles = append(a.profiles, githubItem{ID: i, Updated: at})
		a.events = append(a.events, githubItem{ID: i, Updated: at})
	}
	return a
}

var klaviyoFilter = regexp.MustCompile(`^greater-than\((updated|datetime),([^)]+)\)$`)

func (a *klaviyoAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, detail string) {
		vendorJSON(w, status, map[string]any{"errors": []any{map[string]any{"id": "e1", "status": status, "code": code, "title": http.StatusText(status), "detail": detail, "source": map[string]any{"pointer": "/data/"}}}})
	}
	if r.Header.Get("Authorization") != "Klaviyo-API-Key "+klaviyoKey {
		fail(401, "not_authenticated", "Missing or invalid private key.")
		return
	}
	if rev := r.Header.Get("revision"); !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(rev) {
		fail(400, "invalid", "Missing or invalid revision header: set revision to an API revision date such as 2024-10-15.")
		return
	}
	var kind, field string
	var items []githubItem
	a.mu.Lock()
	switch r.URL.Path {
	case "/api/profiles":
		kind, field, items = "profile", "updated", slices.Clone(a.profiles)
	case "/api/events":
		kind, field, items = "event", "datetime", slices.Clone(a.events)
	}
	a.mu.Unlock()
	if kind == "" {
		fail(404, "not_found", "Not found.")
		return
	}
	q := r.URL.Query()
	size := 20
	if v := q.Get("page[size]"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			fail(400, "invalid", "page[size] must be an integer between 1 and 100.")
			return
		}
		size = n
	}
	size = min(size, 3) // the fixture's pages are short, to page often
	if f := q.Get("filter"); f != "" {
		m := klaviyoFilter.FindStringSubmatch(f)
		if m == nil || m[1] != field {
			fail(400, "invalid", "Invalid filter provided: "+f)
			return
		}
		t, err := time.Parse(time.RFC3339, m[2])
		if err != nil {
			fail(400, "invalid", "Invalid datetime in filter: "+m[2])
			return
		}
		items = slices.DeleteFunc(items, func(it githubItem) bool { return !it.Updated.After(t) })
	}
	switch q.Get("sort") {
	case "", field:
		sort.SliceStable(items, func(i, j int) bool { return items[i].Updated.Before(items[j].Updated) })
	case "-" + field:
		sort.SliceStable(items, func(i, j int) bool { return items[i].Updated.After(items[j].Updated) })
	default:
		fail(400, "invalid", "Invalid sort field: "+q.Get("sort"))
		return
	}
	from := 0
	if c := q.Get("page[cursor]"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "bmV4d"))
		if err != nil {
			fail(400, "invalid", "Invalid page cursor.")
			return
		}
		from = min(n, len(items))
	}
	to := min(from+size, len(items))
	data := []any{}
	for _, it := range items[from:to] {
		id := fmt.Sprintf("01HX%06d", it.ID)
		attrs := map[string]any{}
		if kind == "profile" {
			attrs = map[string]any{"email": fmt.Sprintf("p%d@example.com", it.ID), "first_name": "Pat", "created": vendorTime.Format("2006-01-02T15:04:05+00:00"), "updated": it.Updated.Format("2006-01-02T15:04:05+00:00"), "location": map[string]any{"city": "Boston"}}
		} else {
			attrs = map[string]any{"timestamp": it.Updated.Unix(), "datetime": it.Updated.Format("2006-01-02T15:04:05+00:00"), "event_properties": map[string]any{"value": it.ID}, "uuid": id}
		}
		data = append(data, map[string]any{"type": kind, "id": id, "attributes": attrs, "links": map[string]any{"self": "https://a.klaviyo.com/api/" + kind + "s/" + id + "/"}})
	}
	self := "http://" + r.Host + r.URL.RequestURI()
	links := map[string]any{"self": self, "next": nil, "prev": nil}
	if to < len(items) {
		nq := r.URL.Query()
		nq.Set("page[cursor]", "bmV4d"+strconv.Itoa(to))
		links["next"] = "http://" + r.Host + r.URL.Path + "?" + nq.Encode()
	}
	vendorJSON(w, 200, map[string]any{"data": data, "links": links})
}

// exampleConfig reads a worked example of the README
// (testdata/examples/<name>.json, shown verbatim in the README) and points
// it at the fixture server.
func exampleConfig(t *testing.T, name, fixtureURL, realBase string) string {
	t.Helper()
	raw := readFile(t, "testdata/examples/"+name+".json")
	if !strings.Contains(raw, realBase) {
		t.Fatalf("example %s does not use base_url %s", name, realBase)
	}
	return strings.ReplaceAll(raw, realBase, fixtureURL)
}

// idsOf returns a field of every record, as text.
func idsOf(recs []json.RawMessage, field string) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		var m map[string]json.RawMessage
		_ = json.Unmarshal(r, &m)
		s := string(m[field])
		if u, err := strconv.Unquote(s); err == nil {
			s = u
		}
		out[i] = s
	}
	return out
}

// queries lists the recorded requests to a path, as decoded query strings.
func queries(srv *integtest.Server, path string) []string {
	var out []string
	for _, r := range srv.Requests() {
		if r.Path == path {
			q, _ := url.QueryUnescape(r.Query.Encode())
			out = append(out, q)
		}
	}
	return out
}
