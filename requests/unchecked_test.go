package requests_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/integ/integ/requests"
)

// TestFetchUncheckedThenCheckPage: a body read without its check is the
// server's bytes, and CheckPage then refuses or accepts it exactly as
// DoPage does.
func TestFetchUncheckedThenCheckPage(t *testing.T) {
	bodies := map[string]struct {
		ctype, body string
	}{
		"/page":    {"application/json", `{"next":"/two","results":[{"id":1},{"id":2}]}`},
		"/cut":     {"application/json", `{"next":"/two","results":[{"id":1},{"id":`},
		"/html":    {"text/html", `<html>maintenance</html>`},
		"/empty":   {"application/json", ``},
		"/nested":  {"application/json", `{"data":{"items":[{"id":1}]}}`},
		"/notfull": {"application/json", `{"results":[{"id":1}] x`},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := bodies[r.URL.Path]
		w.Header().Set("Content-Type", b.ctype)
		_, _ = w.Write([]byte(b.body))
	}))
	defer srv.Close()
	ctx := context.Background()
	for _, c := range []struct {
		path, key string
		wantErr   bool
		records   []string
		noPage    bool
	}{
		{path: "/page", key: "results", records: []string{`{"id":1}`, `{"id":2}`}},
		{path: "/cut", key: "results", wantErr: true},
		{path: "/html", key: "results", wantErr: true},
		{path: "/notfull", key: "results", wantErr: true},
		{path: "/empty", key: ""},
		{path: "/nested", key: "data.items", noPage: true}, // not a page key: validated only
	} {
		t.Run(c.path, func(t *testing.T) {
			req := requests.New(srv.URL + c.path + "?api_key=s3cret")
			r, err := requests.FetchUnchecked(ctx, srv.Client(), req, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := bodies[c.path].body; want != "" && string(r.Body) != want {
				t.Fatalf("unchecked body = %q, want the server's bytes %q", r.Body, want)
			}
			err = r.CheckPage(c.key)
			_, doErr := requests.DoPage(ctx, srv.Client(), req, 0, c.key)
			if c.wantErr {
				if !errors.Is(err, requests.ErrNotJSON) {
					t.Fatalf("CheckPage = %v, want ErrNotJSON", err)
				}
				if doErr == nil || err.Error() != doErr.Error() {
					t.Fatalf("CheckPage says %q, DoPage %q: they must refuse alike", err, doErr)
				}
				if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "GET ") {
					t.Fatalf("error %q must name the request without its secret", err)
				}
				if r.Body != nil {
					t.Fatal("a refused body was not released")
				}
				return
			}
			if err != nil || doErr != nil {
				t.Fatalf("CheckPage = %v, DoPage = %v", err, doErr)
			}
			if c.noPage != (r.Page() == nil) {
				t.Fatalf("Page() = %+v, want a page: %v", r.Page(), !c.noPage)
			}
			if pg := r.Page(); pg != nil && !slices.Equal(pg.Records, c.records) {
				t.Fatalf("records = %q, want %q", pg.Records, c.records)
			}
			if err := r.CheckPage("other"); err != nil || (r.Page() != nil && r.Page().Key != c.key) {
				t.Fatalf("a second CheckPage changed the checked response: %v", err)
			}
		})
	}
	t.Run("status", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"detail":"gone"}`, http.StatusGone)
		}))
		defer srv.Close()
		_, err := requests.FetchUnchecked(ctx, srv.Client(), requests.New(srv.URL), 0)
		var se *requests.StatusError
		if !errors.As(err, &se) || se.Status != http.StatusGone {
			t.Fatalf("err = %v, want a StatusError 410", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		_, err := requests.FetchUnchecked(ctx, srv.Client(), requests.New(srv.URL+"/page"), 8)
		if !errors.Is(err, requests.ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
}

func TestCountsRecords(t *testing.T) {
	stop := func(*requests.JSONResponse, int) bool { return false }
	for _, c := range []struct {
		name string
		p    requests.Paginator
		want bool
	}{
		{"next url", requests.NextURL("next"), false},
		{"link header", requests.LinkHeader(), false},
		{"cursor", requests.Cursor("meta.next", "cursor"), false},
		{"page number", requests.PageNumber("page", "per_page", 100, 1), false},
		{"body cursor", requests.BodyCursor("paging.next.after", "after"), false},
		{"next url, has more and a page cap", requests.NextURL("next", requests.HasMore("has_more"), requests.MaxPages(10)), false},
		{"offset", requests.Offset("offset", "limit", 100), true},
		{"last record", requests.LastRecordCursor("data", "id", "starting_after"), true},
		{"short page ends", requests.NextURL("next", requests.ShortPageEnds(100)), true},
		{"stop when", requests.Cursor("next", "c", requests.StopWhen(stop)), true},
		{"a paginator of your own", requests.PaginatorFunc(func(*requests.Request, *requests.JSONResponse, int) (*requests.Request, error) { return nil, nil }), true},
		{"yours, with rules", requests.Paginate(requests.PaginatorFunc(func(*requests.Request, *requests.JSONResponse, int) (*requests.Request, error) { return nil, nil }), requests.MaxPages(3)), true},
	} {
		if got := requests.CountsRecords(c.p); got != c.want {
			t.Errorf("%s: CountsRecords = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestRequestSafe(t *testing.T) {
	r := requests.New("https://api.test/x")
	for _, c := range []struct {
		req  *requests.Request
		want bool
	}{
		{r, true},
		{r.Method(http.MethodHead), true},
		{r.Method(http.MethodPost), false},
		{r.JSONBody(map[string]int{"a": 1}).Method(http.MethodPost), false},
		{r.Method(http.MethodDelete), false},
	} {
		if got := c.req.Safe(); got != c.want {
			t.Errorf("%s: Safe = %v, want %v", c.req, got, c.want)
		}
	}
}
