package integ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/requests"
)

func TestPeekRecords(t *testing.T) {
	for _, c := range []struct {
		body, key    string
		nonEmpty, ok bool
	}{
		{`{"count":3,"next":"/p2","results":[{"id":1}]}`, "results", true, true},
		{`{"next":null,"results":[]}`, "results", false, true},
		{`{"results" : [ ] }`, "results", false, true},
		{"{\n  \"results\": [\n    {\"id\": 1}\n  ]\n}", "results", true, true},
		{`{"results":null}`, "results", false, true},
		{`{"a":{"results":[1]},"b":"results","results":[{"x":1}]}`, "results", true, true}, // nested and string look-alikes skipped
		{`{"res\u0075lts":[{"x":1}]}`, "results", true, true},                              // an escaped key means the same
		{`[{"id":1}]`, "", true, true},
		{` [] `, "", false, true},
		{`{"other":[1]}`, "results", false, false},
		{`{"results":{"id":1}}`, "results", false, false},
		{`{"results":`, "results", false, false},
		{`{"results":[`, "results", false, false},
		{`<html>busy</html>`, "results", false, false},
		{``, "results", false, false},
		{`{"results`, "results", false, false},
		{`{"a":"x`, "results", false, false},
	} {
		nonEmpty, ok := peekRecords(c.body, c.key)
		if nonEmpty != c.nonEmpty || ok != c.ok {
			t.Errorf("peekRecords(%q, %q) = %v, %v; want %v, %v", c.body, c.key, nonEmpty, ok, c.nonEmpty, c.ok)
		}
	}
}

// FuzzPeekRecords: the look before the check never panics on any body,
// and on a page the check accepts, it says what the check finds.
func FuzzPeekRecords(f *testing.F) {
	f.Add(`{"next":"/p2","results":[{"id":1}]}`, "results")
	f.Add(`{"results":[]}`, "results")
	f.Add(`[{"a":"\\"},{}]`, "")
	f.Add(`{"a":"x\"]","results":null}`, "results")
	f.Add(`{"results`, "results")
	f.Fuzz(func(t *testing.T, body, key string) {
		if !requests.PageKey(key) {
			return
		}
		seen := body
		if seen == "" {
			seen = "null" // as the fetcher reads an empty body
		}
		nonEmpty, ok := peekRecords(seen, key)
		resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)),
			Request: &http.Request{Method: http.MethodGet, URL: mustURL(t, "https://api.test/")}}
		r, err := requests.ReadPage(resp, 0, key)
		if err != nil {
			return // not JSON: the check fails the page whatever the look said
		}
		s := splitRecords("s", r, strings.Split(key, "."), nil)
		if s.err != nil {
			return
		}
		// Not ok only sends the next request after the check; an object
		// page (or the body as the array) must be seen, and seen right.
		page := key == "" || strings.HasPrefix(strings.TrimLeft(seen, " \t\r\n"), "{")
		if ok && nonEmpty != (len(s.recs) > 0) || !ok && page {
			t.Fatalf("peekRecords(%q, %q) = %v, %v; the check found %d records", body, key, nonEmpty, ok, len(s.recs))
		}
	})
}

// TestNextRequestBeforeTheCheck: a paginator that only asks whether a page
// was empty has the next page requested before the page is checked; one
// that counts, or a request that is not a GET, waits for the check. Page 2
// proves invalid at its very end: every paginator must fail the stream
// with its records unwritten.
func TestNextRequestBeforeTheCheck(t *testing.T) {
	var big strings.Builder // a long page: its check takes a while
	big.WriteString(`{"next":"/items?page=3","after":"3","results":[`)
	for i := range 20000 {
		fmt.Fprintf(&big, `{"id":%d,"name":"pokemon-%d"},`, 100+i, i)
	}
	big.WriteString(`{"id":]}`) // invalid
	for _, c := range []struct {
		name  string
		first func(base string) *requests.Request
		p     requests.Paginator
		early bool
	}{
		{"next url", func(b string) *requests.Request { return requests.New(b + "/items?page=1") }, requests.NextURL("next"), true},
		{"offset counts", func(b string) *requests.Request { return requests.New(b+"/items").Query("offset", "0") }, requests.Offset("offset", "", 0), false},
		{"post", func(b string) *requests.Request {
			return requests.New(b + "/items").Method(http.MethodPost).JSONBody(map[string]string{"after": "1"})
		}, requests.BodyCursor("after", "after"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var pages []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				page, _ := strconv.Atoi(r.URL.Query().Get("page"))
				if off := r.URL.Query().Get("offset"); off != "" {
					n, _ := strconv.Atoi(off)
					page = 1 + min(n, 1) // offset 0 is page 1, any other page 2
					if n > 1 {
						page = 3
					}
				}
				if r.Method == http.MethodPost {
					var b struct{ After string }
					_ = json.NewDecoder(r.Body).Decode(&b)
					page, _ = strconv.Atoi(b.After)
				}
				switch page {
				case 1:
					_, _ = io.WriteString(w, `{"next":"/items?page=2","after":"2","results":[{"id":1,"name":"a"}]}`)
				case 2:
					_, _ = io.WriteString(w, big.String())
				default:
					_, _ = io.WriteString(w, `{"next":null,"results":[]}`)
				}
			}))
			src := NewSource("early", eventsConfig{}, WithStreams(NewStream("items", item{},
				RunnerFunc(func(hc *HttpContext) error {
					cfg, err := ConfigOf[eventsConfig](hc)
					if err != nil {
						return err
					}
					return hc.EmitPages(c.first(cfg.BaseURL), c.p, "results")
				}))))
			if err := src.Err(); err != nil {
				t.Fatal(err)
			}
			// What the client sends, counted as it goes to the transport:
			// final once Sync returns, whether the server read it or not.
			sent := requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
				q := r.URL.Query()
				page := q.Get("page")
				if off := q.Get("offset"); off != "" {
					page = "offset=" + off
				}
				if r.Method == http.MethodPost {
					b, _ := r.GetBody()
					raw, _ := io.ReadAll(b)
					page = string(raw)
				}
				mu.Lock()
				pages = append(pages, page)
				mu.Unlock()
				return srv.Client().Do(r)
			})
			cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			err = src.Sync(context.Background(), SyncOptions{
				Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&buf), CheckpointRecords: 1,
				HTTP: HTTPOptions{Doer: sent, Retry: requests.RetryOptions{MaxAttempts: 1}},
			})
			srv.Close()
			out := buf.String()
			if !errors.Is(err, requests.ErrNotJSON) {
				t.Fatalf("sync: %v, want ErrNotJSON for page 2", err)
			}
			if recs := lines(out, "REC "); len(recs) != 1 || !strings.Contains(recs[0], `"id":1,`) {
				t.Fatalf("records written: %q, want page 1's only", recs)
			}
			if got := len(pages) > 2; got != c.early {
				t.Fatalf("pages requested: %v; page 3 requested on invalid page 2's word: %v, want %v", pages, got, c.early)
			}
		})
	}
}

type item struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPageLoopUserAgent: every request of a page loop carries the source's
// user agent, the first one's and those the paginator derives from it,
// whether or not the connector set one (the source's wins, as for any
// request).
func TestPageLoopUserAgent(t *testing.T) {
	for _, c := range []struct {
		name  string
		first func(base string) *requests.Request
		p     requests.Paginator
	}{
		{"next url", func(b string) *requests.Request { return requests.New(b + "/items?page=1") }, requests.NextURL("next")},
		{"page number", func(b string) *requests.Request { return requests.New(b+"/items").Query("page", "1") }, requests.PageNumber("page", "", 0, 1)},
		{"the connector's own", func(b string) *requests.Request {
			return requests.New(b+"/items?page=1").Header("User-Agent", "curl/8")
		}, requests.NextURL("next")},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var agents []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				agents = append(agents, r.Header.Get("User-Agent"))
				mu.Unlock()
				switch r.URL.Query().Get("page") {
				case "1":
					_, _ = io.WriteString(w, `{"next":"/items?page=2","results":[{"id":1}]}`)
				case "2":
					_, _ = io.WriteString(w, `{"next":"/items?page=3","results":[{"id":2}]}`)
				default:
					_, _ = io.WriteString(w, `{"next":null,"results":[]}`)
				}
			}))
			defer srv.Close()
			src := NewSource("agent", eventsConfig{}, WithVersion("1.2.3"), WithStreams(NewStream("items", item{},
				RunnerFunc(func(hc *HttpContext) error {
					cfg, err := ConfigOf[eventsConfig](hc)
					if err != nil {
						return err
					}
					return hc.EmitPages(c.first(cfg.BaseURL), c.p, "results")
				}))))
			cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := src.Sync(context.Background(), SyncOptions{Config: cfg, Protocol: lineProtocol{}, Output: driver.NewOutput(&buf)}); err != nil {
				t.Fatal(err)
			}
			if len(agents) != 3 {
				t.Fatalf("%d requests, want 3", len(agents))
			}
			for i, a := range agents {
				if a != "integ-agent/1.2.3" {
					t.Errorf("request %d: User-Agent %q, want integ-agent/1.2.3", i+1, a)
				}
			}
		})
	}
}
