package github

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"crypto"

	"github.com/integ/integ/integtest"
)

// fixture answers like GitHub's REST API (version 2022-11-28) as its
// reference documents it: JSON arrays paged by a Link header whose URLs
// address repositories by id (/repositories/{id}/...), per_page (default
// 30, at most 100) and page, 401 "Bad credentials", 404 "Not Found", 410
// for disabled issues, 409 for an empty repository's commits, and rate-limit
// headers on every answer.
type fixture struct {
	integtest.Faults // a test answers chosen requests itself
	mu               sync.Mutex
	token            string // the personal access token it accepts
	app              *appFixture
	org              string
	repos            []*fakeRepo
	baseURL          string // set by the test once the server runs
}

type fakeRepo struct {
	id       int64
	full     string
	private  bool
	issues   []fakeItem // issues and pull requests, as the issues endpoint lists them
	comments []fakeItem
	commits  []fakeItem // committer dates
	releases int
	status   map[string]int // endpoint ("issues", "pulls", ...) -> an error status it answers
}

// fakeItem is an issue (pr: a pull request too), a comment or a commit.
type fakeItem struct {
	n       int
	pr      bool
	updated time.Time
}

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const testToken = "ghp_testtoken1234567890"

func newFixture(org string) *fixture {
	return &fixture{token: testToken, org: org}
}

// addRepo adds a repository with n issues (every third also a pull
// request), n comments, n commits and r releases, their times an hour
// apart per repository so that every repository's bookmark differs.
func (f *fixture) addRepo(full string, n, releases int) *fakeRepo {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := len(f.repos) + 1
	r := &fakeRepo{id: int64(1000 + k), full: full, releases: releases, status: map[string]int{}}
	for i := 1; i <= n; i++ {
		t := epoch.Add(time.Duration(k)*time.Hour + time.Duration(i)*time.Minute)
		r.issues = append(r.issues, fakeItem{n: i, pr: i%3 == 0, updated: t})
		r.comments = append(r.comments, fakeItem{n: i, updated: t.Add(time.Second)})
		r.commits = append(r.commits, fakeItem{n: i, updated: t.Add(2 * time.Second)})
	}
	f.repos = append(f.repos, r)
	return r
}

// touch updates issue (and pull request) number n of repo at t.
func (f *fixture) touch(repo string, n int, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.repos {
		if r.full == repo {
			r.issues[n-1].updated = t
		}
	}
}

func (f *fixture) setStatus(repo, endpoint string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.repos {
		if r.full == repo {
			r.status[endpoint] = status
		}
	}
}

func ghError(w http.ResponseWriter, status int, msg, doc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q,"documentation_url":"https://docs.github.com/rest/%s","status":"%d"}`, msg, doc, status)
}

func (f *fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "4999")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	h.Set("Content-Type", "application/json; charset=utf-8")
	if f.Answer(w, r) {
		return
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/app/installations/") {
		f.app.serveToken(w, r)
		return
	}
	if r.Method != http.MethodGet {
		ghError(w, http.StatusNotFound, "Not Found", "")
		return
	}
	auth := r.Header.Get("Authorization")
	if auth != "Bearer "+f.token && (f.app == nil || !f.app.valid(auth)) {
		ghError(w, http.StatusUnauthorized, "Bad credentials", "")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	switch {
	case len(parts) == 3 && parts[0] == "orgs" && parts[2] == "repos":
		if !strings.EqualFold(parts[1], f.org) {
			ghError(w, http.StatusNotFound, "Not Found", "repos/repos#list-organization-repositories")
			return
		}
		var all []string
		for _, repo := range f.repos {
			if owner, _, _ := strings.Cut(repo.full, "/"); strings.EqualFold(owner, f.org) {
				all = append(all, repo.json(f.baseURL))
			}
		}
		f.page(w, r, "/orgs/"+parts[1]+"/repos", len(all), func(i int) string { return all[i] })
		return
	case len(parts) >= 3 && parts[0] == "repos":
		f.serveRepo(w, r, f.repo(parts[1]+"/"+parts[2]), parts[3:], q)
		return
	case len(parts) >= 2 && parts[0] == "repositories":
		id, _ := strconv.ParseInt(parts[1], 10, 64)
		for _, repo := range f.repos {
			if repo.id == id {
				f.serveRepo(w, r, repo, parts[2:], q)
				return
			}
		}
	}
	ghError(w, http.StatusNotFound, "Not Found", "")
}

func (f *fixture) repo(full string) *fakeRepo {
	for _, r := range f.repos {
		if strings.EqualFold(r.full, full) {
			return r
		}
	}
	return nil
}

func (repo *fakeRepo) json(base string) string {
	owner, name, _ := strings.Cut(repo.full, "/")
	return fmt.Sprintf(`{"id":%d,"node_id":"R_%d","name":%q,"full_name":%q,"owner":{"login":%q,"id":1,"type":"Organization"},"private":%t,"html_url":"https://github.com/%s","description":null,"fork":false,"url":"%s/repos/%s","default_branch":"main","archived":false,"has_issues":true,"created_at":"2020-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z","pushed_at":null,"topics":["go"],"visibility":"public"}`,
		repo.id, repo.id, name, repo.full, owner, repo.private, repo.full, base, repo.full)
}

func (f *fixture) serveRepo(w http.ResponseWriter, r *http.Request, repo *fakeRepo, rest []string, q url.Values) {
	if repo == nil {
		ghError(w, http.StatusNotFound, "Not Found", "repos/repos#get-a-repository")
		return
	}
	endpoint := strings.Join(rest, "/")
	if s := repo.status[endpoint]; s != 0 {
		switch s {
		case http.StatusGone:
			ghError(w, s, "Issues are disabled for this repo", "issues/issues#list-repository-issues")
		case http.StatusConflict:
			ghError(w, s, "Git Repository is empty.", "commits/commits#list-commits")
		case http.StatusForbidden:
			ghError(w, s, "Resource not accessible by personal access token", "pulls/pulls#list-pull-requests")
		default:
			ghError(w, s, http.StatusText(s), "")
		}
		return
	}
	base := fmt.Sprintf("/repositories/%d/%s", repo.id, endpoint)
	since := time.Time{}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed", "")
			return
		}
		since = t
	}
	var items []fakeItem
	var render func(fakeItem) string
	url := f.baseURL + "/repos/" + repo.full
	switch endpoint {
	case "":
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprint(w, repo.json(f.baseURL))
		return
	case "issues":
		for _, it := range repo.issues {
			if it.updated.Before(since) {
				continue
			}
			items = append(items, it)
		}
		render = func(it fakeItem) string {
			pr := ""
			if it.pr {
				pr = fmt.Sprintf(`,"pull_request":{"url":"%s/pulls/%d","merged_at":null}`, url, it.n)
			}
			return fmt.Sprintf(`{"id":%d,"node_id":"I_%d","url":"%s/issues/%d","repository_url":%q,"number":%d,"title":"issue %d","state":"open","user":{"login":"octocat","id":1,"type":"User"},"labels":[{"id":208045946,"name":"bug","color":"f29513","default":true}],"assignee":null,"assignees":[],"milestone":null,"locked":false,"comments":0,"body":null,"author_association":"OWNER","created_at":"2023-01-01T00:00:00Z","updated_at":%q,"closed_at":null%s}`,
				repo.id*100000+int64(it.n), it.n, url, it.n, url, it.n, it.n, it.updated.Format(time.RFC3339), pr)
		}
	case "pulls":
		for _, it := range repo.issues {
			if it.pr {
				items = append(items, it)
			}
		}
		render = func(it fakeItem) string {
			return fmt.Sprintf(`{"id":%d,"node_id":"PR_%d","url":"%s/pulls/%d","number":%d,"state":"open","locked":false,"title":"pull %d","user":{"login":"octocat","id":1,"type":"User"},"body":"Please pull these awesome changes","labels":[],"draft":false,"head":{"label":"octocat:new-topic","ref":"new-topic","sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e"},"base":{"label":"octocat:main","ref":"main","sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e"},"created_at":"2023-01-01T00:00:00Z","updated_at":%q,"closed_at":null,"merged_at":null}`,
				repo.id*10000+int64(it.n), it.n, url, it.n, it.n, it.n, it.updated.Format(time.RFC3339))
		}
	case "issues/comments":
		for _, it := range repo.comments {
			if !it.updated.Before(since) {
				items = append(items, it)
			}
		}
		render = func(it fakeItem) string {
			return fmt.Sprintf(`{"id":%d,"node_id":"IC_%d","url":"%s/issues/comments/%d","html_url":"https://github.com/%s/issues/%d#issuecomment-%d","issue_url":"%s/issues/%d","body":"Me too","user":{"login":"octocat","id":1,"type":"User"},"created_at":"2023-01-01T00:00:00Z","updated_at":%q,"author_association":"COLLABORATOR"}`,
				repo.id*1000000+int64(it.n), it.n, url, it.n, repo.full, it.n, it.n, url, it.n, it.updated.Format(time.RFC3339))
		}
	case "commits":
		if len(repo.commits) == 0 {
			ghError(w, http.StatusConflict, "Git Repository is empty.", "commits/commits#list-commits")
			return
		}
		for _, it := range repo.commits {
			if !it.updated.Before(since) {
				items = append(items, it)
			}
		}
		slices.Reverse(items) // newest first
		render = func(it fakeItem) string {
			sha := fmt.Sprintf("%040x", repo.id*1000000+int64(it.n))
			d := it.updated.Format(time.RFC3339)
			return fmt.Sprintf(`{"url":"%s/commits/%s","sha":%q,"node_id":"C_%s","html_url":"https://github.com/%s/commit/%s","commit":{"url":"%s/git/commits/%s","author":{"name":"Monalisa Octocat","email":"support@github.com","date":%q},"committer":{"name":"Monalisa Octocat","email":"support@github.com","date":%q},"message":"Fix all the bugs","tree":{"url":"%s/tree/6dcb09b5","sha":"6dcb09b5"},"comment_count":0,"verification":{"verified":false,"reason":"unsigned","signature":null,"payload":null}},"author":{"login":"octocat","id":1,"type":"User"},"committer":null,"parents":[]}`,
				url, sha, sha, sha, repo.full, sha, url, sha, d, d, url)
		}
	case "releases":
		for i := 1; i <= repo.releases; i++ {
			items = append(items, fakeItem{n: i, updated: epoch.Add(time.Duration(i) * time.Hour)})
		}
		render = func(it fakeItem) string {
			return fmt.Sprintf(`{"url":"%s/releases/%d","id":%d,"node_id":"RE_%d","tag_name":"v1.0.%d","target_commitish":"main","name":"v1.0.%d","body":"Description of the release","draft":false,"prerelease":false,"created_at":%q,"published_at":%q,"author":{"login":"octocat","id":1,"type":"User"},"assets":[]}`,
				url, it.n, repo.id*100+int64(it.n), it.n, it.n, it.n, it.updated.Format(time.RFC3339), it.updated.Format(time.RFC3339))
		}
	default:
		ghError(w, http.StatusNotFound, "Not Found", "")
		return
	}
	if endpoint != "commits" && endpoint != "releases" {
		key := func(it fakeItem) int64 { return int64(it.n) } // created: by number
		if q.Get("sort") == "updated" {
			key = func(it fakeItem) int64 { return it.updated.UnixNano() }
		}
		desc := q.Get("direction") == "desc" || (q.Get("direction") == "" && endpoint != "issues/comments")
		sort.SliceStable(items, func(i, j int) bool {
			if desc {
				return key(items[i]) > key(items[j])
			}
			return key(items[i]) < key(items[j])
		})
	}
	f.page(w, r, base, len(items), func(i int) string { return render(items[i]) })
}

// page writes one page of n items, rendering only those, with GitHub's
// Link header.
func (f *fixture) page(w http.ResponseWriter, r *http.Request, path string, n int, render func(i int) string) {
	q := r.URL.Query()
	per := 30
	if v := q.Get("per_page"); v != "" {
		per, _ = strconv.Atoi(v)
		per = min(max(per, 1), 100)
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	last := max((n+per-1)/per, 1)
	link := func(p int) string {
		nq := r.URL.Query()
		nq.Set("page", strconv.Itoa(p))
		return fmt.Sprintf("<%s%s?%s>", f.baseURL, path, nq.Encode())
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1)+`; rel="prev"`)
	}
	if page < last {
		links = append(links, link(page+1)+`; rel="next"`, link(last)+`; rel="last"`)
	}
	if page > 1 {
		links = append(links, link(1)+`; rel="first"`)
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	var out []string
	for i := min((page-1)*per, n); i < min(page*per, n); i++ {
		out = append(out, render(i))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintf(w, "[%s]", strings.Join(out, ","))
}

// appFixture is GitHub's side of GitHub App authentication: it checks the
// JWT's signature and claims and hands out installation tokens.
type appFixture struct {
	key          *rsa.PublicKey
	appID        string
	installation string
	mu           sync.Mutex
	issued       []string
	requests     int
	now          func() time.Time // default time.Now
}

func (a *appFixture) valid(auth string) bool {
	if a == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Contains(a.issued, strings.TrimPrefix(auth, "Bearer "))
}

func (a *appFixture) serveToken(w http.ResponseWriter, r *http.Request) {
	if a == nil || r.URL.Path != "/app/installations/"+a.installation+"/access_tokens" {
		ghError(w, http.StatusNotFound, "Not Found", "apps/apps#create-an-installation-access-token-for-an-app")
		return
	}
	if err := a.checkJWT(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); err != nil {
		ghError(w, http.StatusUnauthorized, "A JSON web token could not be decoded: "+err.Error(), "")
		return
	}
	a.mu.Lock()
	a.requests++
	tok := fmt.Sprintf("ghs_installationtoken%04d", a.requests)
	a.issued = append(a.issued, tok)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"token":%q,"expires_at":%q,"permissions":{"issues":"read","contents":"read"},"repository_selection":"all"}`,
		tok, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
}

func (a *appFixture) checkJWT(tok string) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	var head struct{ Alg, Typ string }
	var claims struct {
		Iat, Exp int64
		Iss      string
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if json.Unmarshal(hb, &head) != nil || head.Alg != "RS256" || json.Unmarshal(cb, &claims) != nil {
		return fmt.Errorf("bad header or claims")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(a.key, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("bad signature")
	}
	clock := time.Now
	if a.now != nil {
		clock = a.now
	}
	now := clock().Unix()
	if claims.Iss != a.appID || claims.Iat > now || claims.Exp <= now || claims.Exp-claims.Iat > 600 {
		return fmt.Errorf("bad claims iss=%s iat=%d exp=%d", claims.Iss, claims.Iat, claims.Exp)
	}
	return nil
}
