package integ_test

import (
	"net/http"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// A GitHub-like source: every repository's issues are a partition with
// its own bookmark; a repository whose issues are disabled (410) or that
// was deleted (404) is skipped with a warning.
func ExamplePartitionBy() {
	type config struct {
		Org string `json:"org"`
	}
	type repo struct {
		ID       int    `json:"id"`
		FullName string `json:"full_name"`
	}
	type issue struct {
		ID        int    `json:"id"`
		UpdatedAt string `json:"updated_at"`
	}
	repos := integ.NewStream("repositories", repo{}, func(c *integ.HttpContext) error {
		var cfg config
		if err := c.Load(&cfg, nil); err != nil {
			return err
		}
		return c.EmitPages(requests.New("https://api.github.com/orgs/"+cfg.Org+"/repos").Query("per_page", "100"), requests.LinkHeader())
	}, integ.PrimaryKey("id"))
	issues := integ.NewStream("issues", issue{}, func(c *integ.HttpContext) error {
		req := requests.New("https://api.github.com/repos/"+c.Partition()+"/issues").Query("state", "all").Query("per_page", "100")
		if b := c.Bookmark(); b.Exists() { // this repository's own bookmark
			req = req.Query("since", b.String())
		}
		return c.EmitPages(req, requests.LinkHeader())
	},
		integ.ChildOf("repositories"),
		integ.PartitionBy(func(repo gjson.Result) string { return repo.Get("full_name").String() }),
		integ.PrimaryKey("id"),
		integ.Incremental("updated_at"),
		integ.OnError(integ.SkipOn(http.StatusNotFound, http.StatusGone)),
	)
	_ = integ.NewSource("github", config{}, integ.WithStreams(repos, issues), integ.WithPartitionParallelism(8))
}
