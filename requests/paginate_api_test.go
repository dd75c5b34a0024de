package requests_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integ/integ/requests"
)

// follow reads every page of p from first, as EmitPages does, and returns
// the ids read at records.
func follow(t *testing.T, c *http.Client, first *requests.Request, p requests.Paginator, records string) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	req := first
	for range 100 {
		resp, err := requests.Do(ctx, c, req, 0)
		if err != nil {
			return got, err
		}
		items := resp.Get(records).Array()
		for _, it := range items {
			got = append(got, it.Get("id").String())
		}
		if req, err = p.Next(req, resp, len(items)); err != nil || req == nil {
			return got, err
		}
	}
	t.Fatal("pagination did not stop")
	return nil, nil
}

// stripeAPI serves n customers as Stripe's list endpoint does: a list
// object with data, has_more and url, paged by starting_after = the id of
// the last object of the previous page, limit records at a time.
func stripeAPI(t *testing.T, n int) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		start := 0
		if after := r.URL.Query().Get("starting_after"); after != "" {
			i, err := strconv.Atoi(strings.TrimPrefix(after, "cus_"))
			if err != nil {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error":{"type":"invalid_request_error","message":"No such customer"}}`)
				return
			}
			start = i + 1
		}
		var data []string
		for i := start; i < n && len(data) < limit; i++ {
			data = append(data, fmt.Sprintf(`{"id":"cus_%d","object":"customer"}`, i))
		}
		hasMore := start+len(data) < n
		fmt.Fprintf(w, `{"object":"list","url":"/v1/customers","has_more":%v,"data":[%s]}`, hasMore, strings.Join(data, ","))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestStripeStartingAfterStopsOnHasMore(t *testing.T) {
	for _, tt := range []struct{ n, wantRequests int }{{7, 3}, {6, 2}, {3, 1}, {0, 1}} {
		t.Run(strconv.Itoa(tt.n), func(t *testing.T) {
			srv, hits := stripeAPI(t, tt.n)
			p := requests.LastRecordCursor("data", "id", "starting_after", requests.HasMore("has_more"))
			got, err := follow(t, srv.Client(), requests.New(srv.URL+"/v1/customers").Query("limit", "3"), p, "data")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.n || tt.n > 0 && got[tt.n-1] != "cus_"+strconv.Itoa(tt.n-1) {
				t.Errorf("read %v", got)
			}
			if int(hits.Load()) != tt.wantRequests {
				t.Errorf("%d requests, want %d (no extra empty page)", hits.Load(), tt.wantRequests)
			}
		})
	}
}

// hubspotSearch serves HubSpot's CRM search: POST with a JSON body
// {"filterGroups":..., "limit":n, "after":"..."}; the response has
// total, results and, but on the last page, paging.next.after.
func hubspotSearch(t *testing.T, n int) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		var body struct {
			FilterGroups json.RawMessage `json:"filterGroups"`
			Limit        int             `json:"limit"`
			After        string          `json:"after"`
		}
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || json.Unmarshal(b, &body) != nil || len(body.FilterGroups) == 0 {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"status":"error","message":"bad search request %s %s"}`, r.Method, b)
			return
		}
		start, _ := strconv.Atoi(body.After)
		var results []string
		for i := start; i < n && len(results) < body.Limit; i++ {
			results = append(results, fmt.Sprintf(`{"id":"%d","properties":{"dealname":"d%d"},"archived":false}`, 100+i, i))
		}
		paging := ""
		if end := start + len(results); end < n {
			paging = fmt.Sprintf(`,"paging":{"next":{"after":"%d","link":"?after=%d"}}`, end, end)
		}
		fmt.Fprintf(w, `{"total":%d,"results":[%s]%s}`, n, strings.Join(results, ","), paging)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestHubSpotSearchPostsTheBodyCursor(t *testing.T) {
	srv, hits := hubspotSearch(t, 5)
	first := requests.New(srv.URL + "/crm/v3/objects/deals/search").Method(http.MethodPost).
		JSONBody(map[string]any{"filterGroups": []any{map[string]any{"filters": []any{}}}, "limit": 2})
	before := first.Fingerprint()
	got, err := follow(t, srv.Client(), first, requests.BodyCursor("paging.next.after", "after"), "results")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "100,101,102,103,104" || hits.Load() != 3 {
		t.Errorf("read %v in %d requests, want 5 deals in 3", got, hits.Load())
	}
	if first.Fingerprint() != before {
		t.Errorf("the paginator changed the first request: %s", first.Fingerprint())
	}
}

func TestHasMoreStopsEvenWithAToken(t *testing.T) {
	// Some APIs keep handing out a cursor on the last page; has_more says no.
	srv, _ := serve(t, jsonBody(`{"items":[{"id":1}],"has_more":true,"next":"b"}`), jsonBody(`{"items":[{"id":2}],"has_more":false,"next":"c"}`))
	got, err := follow(t, srv.Client(), requests.New(srv.URL), requests.Cursor("next", "cursor", requests.HasMore("has_more")), "items")
	if err != nil || len(got) != 2 {
		t.Errorf("read %v, %v", got, err)
	}
}

func TestMaxPagesFailsLoudly(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		fmt.Fprintf(w, `{"items":[{"id":%d}],"next":"?page=%d"}`, n, n+1)
	}))
	defer srv.Close()
	p := requests.NextURL("next", requests.MaxPages(4))
	for run := range 2 { // the cap is per run, and a shared paginator starts afresh
		hits.Store(0)
		got, err := follow(t, srv.Client(), requests.New(srv.URL), p, "items")
		if !errors.Is(err, requests.ErrTooManyPages) || len(got) != 4 || hits.Load() != 4 {
			t.Fatalf("run %d: read %v in %d requests: %v", run, got, hits.Load(), err)
		}
		if !strings.Contains(err.Error(), "read 4 pages") {
			t.Errorf("message %q", err)
		}
	}
}

func TestShortPageEndsOnlyWhenAsked(t *testing.T) {
	// An API that caps pages at 2 whatever limit is asked: the short page
	// is not the last.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		fmt.Fprint(w, itemsJSON(off, 2, 7, ""))
	}))
	defer srv.Close()
	read := func(p requests.Paginator) int {
		got, err := walk(t, srv, requests.New(srv.URL).Query("limit", "3"), p)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := read(requests.Offset("offset", "limit", 3)); n != 7 {
		t.Errorf("read %d of 7 when short pages are followed", n)
	}
	if n := read(requests.Offset("offset", "limit", 3, requests.ShortPageEnds(3))); n != 2 {
		t.Errorf("read %d, want 2: the author said a short page ends the list", n)
	}
}

func TestSetBodyField(t *testing.T) {
	tests := []struct{ body, value, want string }{
		{`{"limit":2,"after":"1","sorts":["x"]}`, `"3"`, `{"limit":2,"after":"3","sorts":["x"]}`},
		{`{"limit":2}`, `7`, `{"limit":2,"after":7}`},
		{``, `"a"`, `{"after":"a"}`},
	}
	for _, tt := range tests {
		r := requests.New("https://api.test/s").Method("POST").Body([]byte(tt.body))
		n := r.Clone().SetBodyField("after", json.RawMessage(tt.value))
		hr, err := n.Build(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(hr.Body)
		if string(b) != tt.want {
			t.Errorf("%s + after=%s = %s, want %s", tt.body, tt.value, b, tt.want)
		}
		if orig, _ := r.Build(context.Background()); orig != nil {
			if b, _ := io.ReadAll(orig.Body); tt.body != "" && string(b) != tt.body {
				t.Errorf("the original changed: %s", b)
			}
		}
	}
	for _, bad := range []string{`[1]`, `"s"`, `{`} {
		if _, err := requests.New("https://api.test").Body([]byte(bad)).SetBodyField("after", json.RawMessage(`1`)).Build(context.Background()); err == nil {
			t.Errorf("body %s accepted", bad)
		}
	}
}

func TestStopWhenTheTotalIsRead(t *testing.T) {
	// An offset API that reports its total and, past the end, answers an
	// error rather than an empty page (as some do): the list ends at the
	// total, without the request that would fail.
	var requested []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requested = append(requested, r.URL.Query().Get("offset"))
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		if off >= 7 {
			http.Error(w, `{"error":"offset out of range"}`, http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, itemsJSON(off, 3, 7, fmt.Sprintf(`,"offset":%d,"total":7`, off)))
	}))
	defer srv.Close()
	pastTotal := requests.StopWhen(func(r *requests.JSONResponse, count int) bool {
		return r.Get("offset").Int()+int64(count) >= r.Get("total").Int()
	})
	got, err := walk(t, srv, requests.New(srv.URL).Query("offset", "0").Query("limit", "3"), requests.Offset("offset", "limit", 3, pastTotal))
	if err != nil || len(got) != 7 {
		t.Fatalf("read %d records, %v", len(got), err)
	}
	if strings.Join(requested, ",") != "0,3,6" {
		t.Errorf("offsets requested %v, want 0,3,6", requested)
	}
}
