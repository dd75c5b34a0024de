package integ_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// Issue 10: a connector keeps one base request and derives every
// partition's pages from it while partitions run concurrently. Each
// partition must send only its own parameters, every record must arrive
// once, and the base must come out as it went in. Run with -race.
func TestSharedBaseRequestAcrossPartitions(t *testing.T) {
	const repos, pages, perPage = 8, 3, 2
	var (
		mu   sync.Mutex
		sent []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		sent = append(sent, r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/repos" {
			var items []string
			for i := range repos {
				items = append(items, fmt.Sprintf(`{"name":"r%d"}`, i))
			}
			fmt.Fprintf(w, `{"items":[%s]}`, strings.Join(items, ","))
			return
		}
		// One repo and one page a request, as the API documents; anything
		// else is a request assembled from another partition's parameters.
		if len(q["repo"]) != 1 || len(q["page"]) != 1 || q.Get("per_page") != strconv.Itoa(perPage) {
			http.Error(w, `{"message":"bad query `+r.URL.RawQuery+`"}`, http.StatusBadRequest)
			return
		}
		page, _ := strconv.Atoi(q.Get("page"))
		var items []string
		if page <= pages {
			for i := range perPage {
				items = append(items, fmt.Sprintf(`{"id":"%s-%d-%d","repo":%q}`, q.Get("repo"), page, i, q.Get("repo")))
			}
		}
		fmt.Fprintf(w, `{"items":[%s]}`, strings.Join(items, ","))
	}))
	defer srv.Close()

	base := requests.New(srv.URL+"/issues").Query("per_page", strconv.Itoa(perPage)).Header("Accept", "application/json")
	before := base.URL() + " " + base.HeaderValue("Accept")

	type rec struct {
		ID   string `json:"id"`
		Repo string `json:"repo"`
	}
	parent := integ.NewStream("repos", struct {
		Name string `json:"name"`
	}{}, func(c *integ.HttpContext) error {
		return c.EmitBatch(requests.New(srv.URL+"/repos"), nil, "items")
	}, integ.PrimaryKey("name"))
	child := integ.NewStream("issues", rec{}, func(c *integ.HttpContext) error {
		first := base.SetQuery("repo", c.Partition()).Query("page", "1").Header("X-Partition", c.Partition())
		return c.EmitPages(first, requests.PageNumber("page", "", 0, 0), "items")
	},
		integ.ChildOf("repos"),
		integ.PartitionBy(func(p gjson.Result) string { return p.Get("name").String() }),
		integ.PrimaryKey("id"),
	)
	src := integ.NewSource("shared", struct{}{}, integ.WithStreams(parent, child), integ.WithPartitionParallelism(4))
	res := integtest.Sync(t, src, map[string]any{})

	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, r := range res.Records("issues") {
		got = append(got, gjson.GetBytes(r, "id").String())
	}
	var want []string
	for r := range repos {
		for p := 1; p <= pages; p++ {
			for i := range perPage {
				want = append(want, fmt.Sprintf("r%d-%d-%d", r, p, i))
			}
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("records:\n got %q\nwant %q\nrequests: %q", got, want, sent)
	}
	if after := base.URL() + " " + base.HeaderValue("Accept"); after != before {
		t.Errorf("the shared base changed: %s, was %s", after, before)
	}
	if n := len(sent); n != 1+repos*(pages+1) {
		t.Errorf("%d requests, want %d: %q", n, 1+repos*(pages+1), sent)
	}
}
