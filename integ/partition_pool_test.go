package integ_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/protocol/singer"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// TestPartitionsRunAcrossParentPages: the partitions of the first parent
// page are held until a partition of a later page has started. A sync that
// waited for a page's partitions before reading the next page would hold
// them until the hook gives up; the pool runs them together, and the
// output keeps parent order in both protocols.
func TestPartitionsRunAcrossParentPages(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			repos := []string{"acme/a", "acme/b", "acme/c", "acme/d", "acme/e", "acme/f"}
			issues := map[string]int{}
			for _, r := range repos {
				issues[r] = 4
			}
			a := newGHAPI(t, issues, repos...) // the source asks for 2 repositories a page
			later := make(chan struct{})
			var once sync.Once
			var mu sync.Mutex
			gaveUp := false
			a.setHook(func(r *http.Request) {
				switch {
				case strings.HasPrefix(r.URL.Path, "/repos/acme/a/"), strings.HasPrefix(r.URL.Path, "/repos/acme/b/"):
					select {
					case <-later:
					case <-time.After(5 * time.Second):
						mu.Lock()
						gaveUp = true
						mu.Unlock()
					}
				case strings.HasPrefix(r.URL.Path, "/repos/"):
					once.Do(func() { close(later) })
				}
			})
			out, err := ghSync(t, ghSource(t, nil), a, syncRun{catalog: ghCatalog("issues"), proto: p, every: 1})
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if gaveUp {
				t.Error("the first page's partitions waited for the next page's, which never started while they ran")
			}
			var want []int64
			for _, r := range repos {
				want = append(want, wantIssues(a, r, 1)...)
			}
			if got := p.records(t, out)["issues"]; !slices.Equal(got, want) {
				t.Fatalf("issues out of parent order\n got %v\nwant %v", got, want)
			}
			st := p.state(t, out)
			parts := gjson.GetBytes(st.Streams["issues"], "partitions")
			for _, r := range repos {
				if !parts.Get(gjson.Escape(r)).Exists() {
					t.Errorf("no state for partition %q in %s", r, parts.Raw)
				}
			}
		})
	}
}

// TestParentStateNeverCoversUnwrittenChildren: an incremental parent
// checkpoints after every page while its children (slow, read on the pool)
// are still running. Each parent STATE may only cover parents whose
// children are all written before it.
func TestParentStateNeverCoversUnwrittenChildren(t *testing.T) {
	const parents, perPage, childrenEach = 12, 2, 3
	day := func(i int) string { return time.Date(2024, 1, i, 0, 0, 0, 0, time.UTC).Format(time.RFC3339) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := strings.CutPrefix(r.URL.Path, "/children/"); ok {
			n, _ := strconv.Atoi(id)
			time.Sleep(time.Duration(n%3) * 10 * time.Millisecond) // later children often finish first
			var recs []string
			for k := 1; k <= childrenEach; k++ {
				recs = append(recs, fmt.Sprintf(`{"id":%d,"parent":%d}`, n*100+k, n))
			}
			fmt.Fprintf(w, "[%s]", strings.Join(recs, ","))
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		var recs []string
		for i := page*perPage + 1; i <= min(parents, (page+1)*perPage); i++ {
			recs = append(recs, fmt.Sprintf(`{"id":%d,"updated_at":%q}`, i, day(i)))
		}
		next := "null"
		if (page+1)*perPage < parents {
			next = strconv.Quote(fmt.Sprintf("http://%s/parents?page=%d", r.Host, page+1))
		}
		fmt.Fprintf(w, `{"next":%s,"results":[%s]}`, next, strings.Join(recs, ","))
	}))
	defer srv.Close()
	type config struct {
		BaseURL string `json:"base_url"`
	}
	type parent struct {
		ID        int    `json:"id"`
		UpdatedAt string `json:"updated_at" format:"date-time"`
	}
	type child struct {
		ID     int `json:"id"`
		Parent int `json:"parent"`
	}
	src := integ.NewSource("ordered", config{}, integ.WithStreams(
		integ.NewStream("parents", parent{}, func(c *integ.HttpContext) error {
			return c.EmitPages(requests.New(srv.URL+"/parents").Query("page", "0"), requests.NextURL("next"), "results")
		}, integ.PrimaryKey("id"), integ.Incremental("updated_at"), integ.Sorted()),
		integ.NewStream("children", child{}, func(c *integ.HttpContext) error {
			return c.EmitPages(requests.New(srv.URL+"/children/"+c.Parent().Get("id").String()), requests.LinkHeader())
		}, integ.ChildOf("parents"), integ.PrimaryKey("id")),
	))
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"unused"}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out strings.Builder
	err = src.Sync(ctx, integ.SyncOptions{
		Config: cfg, Protocol: singer.NewProtocol(nil), Output: driver.NewOutput(&out), CheckpointRecords: 1,
		Catalog: &integ.Catalog{Streams: []integ.CatalogStream{{Name: "parents", Mode: integ.ModeIncremental}, {Name: "children"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	written := map[int]int{} // children written per parent
	states := 0
	for _, l := range outLines(t, out.String()) {
		switch gjson.Get(l, "type").Str {
		case "RECORD":
			if gjson.Get(l, "stream").Str == "children" {
				written[int(gjson.Get(l, "record.parent").Int())]++
			}
		case "STATE":
			bm := gjson.Get(l, "value.bookmarks.parents.replication_key_value").Str
			if bm == "" {
				continue
			}
			states++
			for i := 1; i <= parents && day(i) <= bm; i++ {
				if written[i] != childrenEach {
					t.Fatalf("a parent STATE at %s covers parent %d, of whose children %d of %d are written", bm, i, written[i], childrenEach)
				}
			}
		}
	}
	if states < 2 {
		t.Fatalf("%d parent STATE messages: the test needs checkpoints while children run", states)
	}
	for i := 1; i <= parents; i++ {
		if written[i] != childrenEach {
			t.Errorf("parent %d: %d children written, want %d", i, written[i], childrenEach)
		}
	}
}

// TestPoolKilledAtRandomPointsResumeLosesNothing cancels a sync (as
// SIGTERM does) after k requests while partitions of several parent pages
// run at once with uneven latencies, then resumes from the last state it
// wrote: every issue arrives, in either run.
func TestPoolKilledAtRandomPointsResumeLosesNothing(t *testing.T) {
	var repos []string
	issues := map[string]int{}
	for i := range 10 {
		r := fmt.Sprintf("acme/r%02d", i)
		repos = append(repos, r)
		issues[r] = 2 + i%5 // 1 or 2 pages of 3
	}
	a := newGHAPI(t, issues, repos...) // 5 repository pages
	var want []int64
	for _, r := range repos {
		want = append(want, wantIssues(a, r, 1)...)
	}
	for _, p := range protos {
		for _, killAt := range []int{2, 5, 8, 11, 14, 17, 20} {
			t.Run(fmt.Sprintf("%s/after %d requests", p.name, killAt), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				var mu sync.Mutex
				n := 0
				a.setHook(func(r *http.Request) {
					mu.Lock()
					n++
					k := n
					if k == killAt {
						cancel()
					}
					mu.Unlock()
					time.Sleep(time.Duration(k%4) * time.Millisecond) // later requests often answer first
				})
				defer a.setHook(nil)
				src := ghSource(t, nil)
				out, err := ghSync(t, src, a, syncRun{ctx: ctx, proto: p, catalog: ghCatalog("issues"), every: 1})
				first := p.records(t, out)["issues"]
				if err == nil && len(first) < len(want) {
					t.Fatalf("a sync cancelled after %d requests succeeded with %d of %d records", killAt, len(first), len(want))
				}
				a.setHook(nil)
				out2, err := ghSync(t, src, a, syncRun{proto: p, catalog: ghCatalog("issues"), state: p.state(t, out)})
				if err != nil {
					t.Fatal(err)
				}
				got := append(first, p.records(t, out2)["issues"]...)
				for _, id := range want {
					if !slices.Contains(got, id) {
						t.Fatalf("issue %d lost: first run %v, resumed run %v", id, first, p.records(t, out2)["issues"])
					}
				}
			})
		}
	}
}

// TestMaxConcurrentRequestsBoundsTheSync: the config's
// max_concurrent_requests bounds the requests in flight over the parent's
// pages and every partition together, and the sync does use them.
func TestMaxConcurrentRequestsBoundsTheSync(t *testing.T) {
	for _, limit := range []int{1, 3} {
		t.Run(strconv.Itoa(limit), func(t *testing.T) {
			repos := []string{"acme/a", "acme/b", "acme/c", "acme/d", "acme/e", "acme/f", "acme/g"}
			issues := map[string]int{}
			for _, r := range repos {
				issues[r] = 4
			}
			a := newGHAPI(t, issues, repos...)
			var mu sync.Mutex
			inFlight, peak := 0, 0
			a.setHook(func(*http.Request) {
				mu.Lock()
				inFlight++
				peak = max(peak, inFlight)
				mu.Unlock()
				time.Sleep(3 * time.Millisecond) // time for a request over the bound to show up
				mu.Lock()
				inFlight--
				mu.Unlock()
			})
			src := ghSource(t, nil)
			cfg, err := src.ParseConfig(json.RawMessage(fmt.Sprintf(`{"base_url":%q,"max_concurrent_requests":%d}`, a.srv.URL, limit)))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out strings.Builder
			err = src.Sync(ctx, integ.SyncOptions{Config: cfg, Catalog: ghCatalog("repositories", "issues"), Protocol: singer.NewProtocol(nil), Output: driver.NewOutput(&out)})
			if err != nil {
				t.Fatal(err)
			}
			if got := protos[0].records(t, out.String())["issues"]; len(got) != 4*len(repos) {
				t.Fatalf("%d issues, want %d", len(got), 4*len(repos))
			}
			mu.Lock()
			defer mu.Unlock()
			if peak != limit {
				t.Errorf("%d requests in flight at once, want %d", peak, limit)
			}
		})
	}
}
