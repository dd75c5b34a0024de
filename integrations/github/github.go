// Package github is the GitHub connector: repositories, and for each
// repository its issues, pull requests, issue comments, commits and
// releases, read from GitHub's REST API, version 2022-11-28 (sent as
// X-GitHub-Api-Version, with Accept: application/vnd.github+json).
//
// The repositories are the parent stream; every other stream is a child
// whose partitions are the repositories (keyed by full_name), so each
// repository keeps its own bookmark and a repository added to the config
// later gets its full history. Pages follow the Link header.
//
//   - issues: GET /repos/{owner}/{repo}/issues?state=all&sort=updated&direction=asc&since=,
//     incremental on updated_at; the endpoint also lists pull requests
//     (records with a "pull_request" key), which are dropped.
//   - pull_requests: GET /repos/{owner}/{repo}/pulls?state=all&sort=updated&direction=desc.
//     The endpoint has no since parameter, so the list is read newest
//     first and paging stops at the first page whose last pull request is
//     older than the repository's bookmark; the engine drops the older
//     ones on that page. The bookmark moves when the repository completes.
//   - issue_comments: GET /repos/{owner}/{repo}/issues/comments?sort=updated&direction=asc&since=,
//     incremental on updated_at.
//   - commits: GET /repos/{owner}/{repo}/commits?since=, incremental on the
//     nested key commit.committer.date (newest first, so the bookmark
//     moves when the repository completes).
//   - releases: GET /repos/{owner}/{repo}/releases, full refresh.
//
// A repository whose issues are disabled (410), that is gone (404), empty
// (409, for commits) or blocked (451) is skipped with a warning for that
// stream; the other repositories and streams go on. Rate limits are waited
// out: a 403 or 429 with x-ratelimit-remaining 0 until x-ratelimit-reset,
// a secondary limit after retry-after (a minute without it).
//
// Pages followed (docs.github.com): rest/using-the-rest-api/getting-started-with-the-rest-api,
// rest/using-the-rest-api/using-pagination-in-the-rest-api,
// rest/using-the-rest-api/rate-limits-for-the-rest-api,
// rest/repos/repos (list organization repositories, get a repository),
// rest/issues/issues (list repository issues), rest/pulls/pulls (list pull
// requests), rest/issues/comments (list issue comments for a repository),
// rest/commits/commits (list commits), rest/releases/releases (list
// releases), rest/authentication/authenticating-to-the-rest-api and
// apps/creating-github-apps/authenticating-with-a-github-app (installation
// access tokens).
package github

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// APIVersion is the REST API version every request asks for.
const APIVersion = "2022-11-28"

// Config is the connector's config.
type Config struct {
	Credentials  Credentials `json:"credentials" oneof:"auth_type" title:"Authentication"`
	Repositories []string    `json:"repositories,omitempty" title:"Repositories" description:"Repositories to sync, as owner/name." examples:"[\"octocat/Hello-World\"]"`
	Organization string      `json:"organization,omitempty" title:"Organization" description:"Sync every repository of this organization (with or without Repositories)." examples:"github"`
	StartDate    string      `json:"start_date,omitempty" title:"Start date" description:"Read issues, pull requests, comments and commits updated (commits: committed) from this time on (RFC 3339); empty: the whole history." format:"date-time" examples:"2024-01-01T00:00:00Z"`
	BaseURL      string      `json:"base_url" title:"API URL" description:"Root of the REST API: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server." default:"https://api.github.com" format:"uri" pattern:"^https?://"`
}

// Credentials is how the connector authenticates.
type Credentials struct {
	integ.OneOf
	Token *TokenAuth `oneof:"token" title:"Personal access token"`
	App   *AppAuth   `oneof:"app" title:"GitHub App installation"`
}

// TokenAuth is a personal access token (classic or fine-grained).
type TokenAuth struct {
	Token integ.Secret `json:"personal_access_token" title:"Personal access token" description:"Needs read access to the repositories' metadata, issues, pull requests and contents." minLength:"4"`
}

// Source declares the connector.
func Source() *integ.Source {
	return integ.NewSource("github", Config{},
		integ.WithTitle("GitHub"),
		integ.WithDescription("Repositories, issues, pull requests, issue comments, commits and releases from GitHub's REST API."),
		integ.WithDocumentationURL("https://docs.github.com/rest"),
		integ.WithAuth(authenticator),
		integ.WithRetry(requests.RetryOptions{
			MaxRetryAfter: time.Hour, // the primary limit resets hourly
			Classifiers:   []requests.RetryClassifier{requests.GitHubRateLimits()},
		}),
		integ.WithStreams(
			integ.NewStream("repositories", Repository{}, repositories,
				integ.PrimaryKey("id"),
				integ.Description("The organization's repositories, then each listed one outside it."),
			),
			perRepository("issues", Issue{}, issues,
				integ.Incremental("updated_at"), integ.Sorted(),
				integ.Filter(func(rec gjson.Result) bool { return !rec.Get("pull_request").Exists() }),
				integ.Description("Each repository's issues (pull requests left out), from its own bookmark on (since).")),
			perRepository("pull_requests", PullRequest{}, pullRequests,
				integ.Incremental("updated_at"), integ.Transform(fromStartDate),
				integ.Description("Each repository's pull requests, newest first down to its own bookmark (the endpoint has no since filter).")),
			perRepository("issue_comments", IssueComment{}, issueComments,
				integ.Incremental("updated_at"), integ.Sorted(),
				integ.Description("Each repository's comments on issues and pull request conversations, from its own bookmark on (since).")),
			perRepository("commits", Commit{}, commits,
				integ.PrimaryKey("sha"), integ.Incremental("commit.committer.date"),
				integ.Description("Each repository's commits on its default branch, from its own bookmark on (since, by committer date).")),
			perRepository("releases", Release{}, releases,
				integ.Description("Each repository's releases.")),
		),
	)
}

// perRepository declares a stream read once per repository (a partition
// of the repositories stream), with the repository's full name added to
// each record. opts come after the defaults, so a PrimaryKey there wins.
func perRepository(name string, record any, list func(c *integ.HttpContext, cfg *Config, repo string) (*requests.Request, requests.Paginator), opts ...integ.StreamOption) *integ.Stream {
	run := func(c *integ.HttpContext) error {
		cfg, err := load(c)
		if err != nil {
			return err
		}
		req, pages := list(c, cfg, c.Partition())
		return c.EmitPages(req, pages)
	}
	return integ.NewStream(name, record, run, append([]integ.StreamOption{
		integ.ChildOf("repositories"),
		integ.PartitionBy(func(repo gjson.Result) string { return repo.Get("full_name").String() }),
		integ.PrimaryKey("id"),
		// Issues disabled (410), repository gone (404), empty (409),
		// blocked for legal reasons (451): that repository only.
		integ.OnError(integ.SkipOn(404, 409, 410, 451)),
	}, append(opts, // the stream's filters first: no field added to a dropped record
		integ.AddField("repository", func(c *integ.HttpContext) any { return c.Partition() }),
	)...)...)
}

// load reads (once per process) and checks the config.
func load(c *integ.HttpContext) (*Config, error) {
	cfg, err := integ.ConfigOf[Config](c)
	if err != nil {
		return nil, err
	}
	return &cfg, cfg.check()
}

func (cfg *Config) check() error {
	if len(cfg.Repositories) == 0 && cfg.Organization == "" {
		return integ.ConfigErrorf("config: set repositories (owner/name, ...) or organization (or both)")
	}
	for _, r := range cfg.Repositories {
		owner, name, ok := strings.Cut(r, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return integ.ConfigErrorf("config: repository %q is not owner/name (octocat/Hello-World, say)", r)
		}
	}
	return nil
}

// get is a GET of the API path with the headers GitHub asks for; the
// pages after it keep them.
func (cfg *Config) get(path string) *requests.Request {
	return requests.New(strings.TrimRight(cfg.BaseURL, "/")+path).
		Header("Accept", "application/vnd.github+json").
		Header("X-GitHub-Api-Version", APIVersion)
}

// repoPath is /repos/{owner}/{repo} with both parts escaped.
func repoPath(full string) string {
	owner, name, _ := strings.Cut(full, "/")
	return "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
}

// since is where an incremental read starts: the repository's bookmark,
// else the config's start_date ("" for everything).
func since(c *integ.HttpContext, cfg *Config) string {
	if b := c.Bookmark(); b.Exists() {
		return b.String()
	}
	return cfg.StartDate
}

// repositories lists the organization's repositories, then fetches each
// listed one that the organization's list did not already give.
func repositories(c *integ.HttpContext) error {
	cfg, err := load(c)
	if err != nil {
		return err
	}
	if org := cfg.Organization; org != "" {
		req := cfg.get("/orgs/"+url.PathEscape(org)+"/repos").Query("per_page", "100")
		if err := c.EmitPages(req, requests.LinkHeader()); err != nil {
			return err
		}
	}
	for _, full := range cfg.Repositories {
		owner, _, _ := strings.Cut(full, "/")
		if cfg.Organization != "" && strings.EqualFold(owner, cfg.Organization) {
			continue // listed with the organization's repositories
		}
		if err := c.EmitObject(cfg.get(repoPath(full))); err != nil {
			return fmt.Errorf("repository %q: %w", full, err)
		}
	}
	return nil
}

func issues(c *integ.HttpContext, cfg *Config, repo string) (*requests.Request, requests.Paginator) {
	req := cfg.get(repoPath(repo)+"/issues").
		Query("state", "all").Query("sort", "updated").Query("direction", "asc").Query("per_page", "100")
	if s := since(c, cfg); s != "" {
		req = req.Query("since", s)
	}
	return req, requests.LinkHeader()
}

func pullRequests(c *integ.HttpContext, cfg *Config, repo string) (*requests.Request, requests.Paginator) {
	req := cfg.get(repoPath(repo)+"/pulls").
		Query("state", "all").Query("sort", "updated").Query("direction", "desc").Query("per_page", "100")
	return req, untilOlder(since(c, cfg), "updated_at", requests.LinkHeader())
}

func issueComments(c *integ.HttpContext, cfg *Config, repo string) (*requests.Request, requests.Paginator) {
	req := cfg.get(repoPath(repo)+"/issues/comments").
		Query("sort", "updated").Query("direction", "asc").Query("per_page", "100")
	if s := since(c, cfg); s != "" {
		req = req.Query("since", s)
	}
	return req, requests.LinkHeader()
}

func commits(c *integ.HttpContext, cfg *Config, repo string) (*requests.Request, requests.Paginator) {
	req := cfg.get(repoPath(repo)+"/commits").Query("per_page", "100")
	if s := since(c, cfg); s != "" {
		req = req.Query("since", s)
	}
	return req, requests.LinkHeader()
}

func releases(_ *integ.HttpContext, cfg *Config, repo string) (*requests.Request, requests.Paginator) {
	return cfg.get(repoPath(repo)+"/releases").Query("per_page", "100"), requests.LinkHeader()
}

// fromStartDate drops pull requests older than start_date on a first
// sync (later ones start at the bookmark, and the engine drops older
// records itself): the endpoint has no since parameter, and the last page
// read runs past the start.
func fromStartDate(rec gjson.Result, c *integ.HttpContext, dst []byte) ([]byte, bool) {
	if !c.Bookmark().Exists() {
		if cfg, err := integ.ConfigOf[Config](c); err == nil && cfg.StartDate != "" {
			if from, err := time.Parse(time.RFC3339, cfg.StartDate); err == nil && rec.Get("updated_at").Time().Before(from) {
				return dst, false
			}
		}
	}
	return append(dst, rec.Raw...), true
}

// untilOlder follows next while a page's last record (the list is newest
// first) is not older than since: the pages after it are older still.
func untilOlder(since, field string, next requests.Paginator) requests.Paginator {
	from, err := time.Parse(time.RFC3339, since)
	if since == "" || err != nil {
		return next
	}
	return requests.PaginatorFunc(func(prev *requests.Request, resp *requests.JSONResponse, n int) (*requests.Request, error) {
		if n > 0 {
			last, err := time.Parse(time.RFC3339, resp.Get(strconv.Itoa(n-1)+"."+field).String())
			if err == nil && last.Before(from) {
				return nil, nil
			}
		}
		return next.Next(prev, resp, n)
	})
}
