package github

import "time"

// The record types list the fields most syncs use; every other field of
// the API's answer passes through unchanged. Pointers are the fields the
// API documents as nullable.

// User is the short user object GitHub embeds in other records.
type User struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Type  string `json:"type" description:"User, Bot or Organization."`
}

// Label is an issue or pull request label.
type Label struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Color string `json:"color"`
}

// Repository is a record of the repositories stream.
type Repository struct {
	ID            int64      `json:"id"`
	NodeID        string     `json:"node_id"`
	Name          string     `json:"name"`
	FullName      string     `json:"full_name" description:"owner/name: the key of each repository's state in the child streams."`
	Owner         User       `json:"owner"`
	Private       bool       `json:"private"`
	HTMLURL       string     `json:"html_url" format:"uri"`
	Description   *string    `json:"description"`
	Fork          bool       `json:"fork"`
	DefaultBranch string     `json:"default_branch"`
	Archived      bool       `json:"archived"`
	HasIssues     bool       `json:"has_issues"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	PushedAt      *time.Time `json:"pushed_at"`
}

// Issue is a record of the issues stream (pull requests left out).
type Issue struct {
	ID         int64      `json:"id"`
	NodeID     string     `json:"node_id"`
	Number     int        `json:"number"`
	Title      string     `json:"title"`
	State      string     `json:"state" description:"open or closed."`
	User       *User      `json:"user"`
	Labels     []Label    `json:"labels"`
	Assignees  []User     `json:"assignees"`
	Comments   int        `json:"comments"`
	Body       *string    `json:"body"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ClosedAt   *time.Time `json:"closed_at"`
	Repository string     `json:"repository" description:"The repository's full name (added by the connector)."`
}

// PullRequest is a record of the pull_requests stream.
type PullRequest struct {
	ID         int64      `json:"id"`
	NodeID     string     `json:"node_id"`
	Number     int        `json:"number"`
	Title      string     `json:"title"`
	State      string     `json:"state" description:"open or closed."`
	Draft      bool       `json:"draft"`
	User       *User      `json:"user"`
	Body       *string    `json:"body"`
	Labels     []Label    `json:"labels"`
	Head       Ref        `json:"head"`
	Base       Ref        `json:"base"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ClosedAt   *time.Time `json:"closed_at"`
	MergedAt   *time.Time `json:"merged_at"`
	Repository string     `json:"repository" description:"The repository's full name (added by the connector)."`
}

// Ref is a pull request's head or base branch.
type Ref struct {
	Label string `json:"label"`
	Ref   string `json:"ref"`
	SHA   string `json:"sha"`
}

// IssueComment is a record of the issue_comments stream: a comment on an
// issue or a pull request's conversation.
type IssueComment struct {
	ID         int64     `json:"id"`
	NodeID     string    `json:"node_id"`
	IssueURL   string    `json:"issue_url" format:"uri"`
	User       *User     `json:"user"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Repository string    `json:"repository" description:"The repository's full name (added by the connector)."`
}

// Commit is a record of the commits stream.
type Commit struct {
	SHA    string `json:"sha"`
	NodeID string `json:"node_id"`
	Commit struct {
		Author    GitActor `json:"author"`
		Committer GitActor `json:"committer"`
		Message   string   `json:"message"`
	} `json:"commit"`
	Author    *User  `json:"author" description:"The GitHub user of the commit's author, when GitHub knows one."`
	Committer *User  `json:"committer"`
	HTMLURL   string `json:"html_url" format:"uri"`
	Parents   []struct {
		SHA string `json:"sha"`
	} `json:"parents"`
	Repository string `json:"repository" description:"The repository's full name (added by the connector)."`
}

// GitActor is a commit's author or committer as git records them.
type GitActor struct {
	Name  string    `json:"name"`
	Email string    `json:"email"`
	Date  time.Time `json:"date"`
}

// Release is a record of the releases stream.
type Release struct {
	ID          int64      `json:"id"`
	NodeID      string     `json:"node_id"`
	TagName     string     `json:"tag_name"`
	Name        *string    `json:"name"`
	Draft       bool       `json:"draft"`
	Prerelease  bool       `json:"prerelease"`
	Author      User       `json:"author"`
	Body        *string    `json:"body"`
	CreatedAt   time.Time  `json:"created_at"`
	PublishedAt *time.Time `json:"published_at"`
	Repository  string     `json:"repository" description:"The repository's full name (added by the connector)."`
}
