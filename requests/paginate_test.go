package requests_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/integ/integ/requests"
)

// walk follows p from first and returns the ids read, page by page.
func walk(t *testing.T, srv *httptest.Server, first *requests.Request, p requests.Paginator) ([]string, error) {
	t.Helper()
	var ids []string
	req := first
	for range 50 {
		resp, err := requests.Do(context.Background(), srv.Client(), req, 0)
		if err != nil {
			return ids, err
		}
		items := resp.Get("items").Array()
		for _, it := range items {
			ids = append(ids, it.Raw)
		}
		if req, err = p.Next(req, resp, len(items)); err != nil || req == nil {
			return ids, err
		}
	}
	t.Fatal("pagination did not stop")
	return nil, nil
}

// itemsJSON renders ids from..to-1 (clamped to total) as {"items":[...]}.
func itemsJSON(from, n, total int, extra string) string {
	var parts []string
	for i := from; i < from+n && i < total; i++ {
		parts = append(parts, strconv.Itoa(i))
	}
	return `{"items":[` + strings.Join(parts, ",") + `]` + extra + `}`
}

func ids(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, strconv.Itoa(i))
	}
	return strings.Join(parts, ",")
}

func TestOffsetAndPageNumber(t *testing.T) {
	offsetSrv := func(total int) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
			lim, _ := strconv.Atoi(r.URL.Query().Get("limit"))
			_, _ = fmt.Fprint(w, itemsJSON(off, lim, total, ""))
		}))
	}
	pageSrv := func(total, first int) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			page, err := strconv.Atoi(r.URL.Query().Get("page"))
			if err != nil {
				page = first
			}
			size, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
			_, _ = fmt.Fprint(w, itemsJSON((page-first)*size, size, total, ""))
		}))
	}
	tests := []struct {
		name  string
		srv   *httptest.Server
		first func(base string) *requests.Request
		p     requests.Paginator
		want  int
	}{
		{"offset short last page", offsetSrv(7), func(b string) *requests.Request { return requests.New(b).Query("limit", "3") },
			requests.Offset("offset", "limit", 3, requests.ShortPageEnds(3)), 7},
		{"offset short page followed", offsetSrv(7), func(b string) *requests.Request { return requests.New(b).Query("limit", "3") },
			requests.Offset("offset", "limit", 3), 7},
		{"offset exact multiple ends on empty page", offsetSrv(6), func(b string) *requests.Request { return requests.New(b).Query("limit", "3") },
			requests.Offset("offset", "limit", 3), 6},
		{"offset empty", offsetSrv(0), func(b string) *requests.Request { return requests.New(b + "?offset=0&limit=3") },
			requests.Offset("offset", "limit", 3), 0},
		{"page from 1", pageSrv(5, 1), func(b string) *requests.Request { return requests.New(b).Query("per_page", "2") },
			requests.PageNumber("page", "per_page", 2, 1), 5},
		{"page from 0 explicit", pageSrv(4, 0), func(b string) *requests.Request { return requests.New(b + "?page=0&per_page=2") },
			requests.PageNumber("page", "per_page", 2, 0), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.srv.Close()
			got, err := walk(t, tt.srv, tt.first(tt.srv.URL), tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != ids(tt.want) {
				t.Errorf("ids = %v, want %d ids", got, tt.want)
			}
		})
	}
}

func TestOffsetBadParam(t *testing.T) {
	resp := &requests.JSONResponse{Body: []byte(`{}`)}
	if _, err := requests.Offset("offset", "limit", 2).Next(requests.New("https://x/?offset=abc"), resp, 2); err == nil {
		t.Error("non-integer offset accepted")
	}
	if _, err := requests.PageNumber("page", "", 2, 1).Next(requests.New("https://x/?page=1.5"), resp, 2); err == nil {
		t.Error("non-integer page accepted")
	}
}

func TestCursorNextURLLinkHeader(t *testing.T) {
	// Three pages of two items, addressed by cursor "", "c2", "c4".
	cursorSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("after") {
		case "":
			fmt.Fprint(w, itemsJSON(0, 2, 5, `,"meta":{"next":"c2"}`))
		case "c2":
			fmt.Fprint(w, itemsJSON(2, 2, 5, `,"meta":{"next":"c4"}`))
		default:
			fmt.Fprint(w, itemsJSON(4, 2, 5, `,"meta":{"next":null}`))
		}
	}))
	defer cursorSrv.Close()
	nextSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/items":
			fmt.Fprint(w, itemsJSON(0, 2, 5, `,"next":"/v1/items/p2?sig=a%2Fb"`))
		case "/v1/items/p2":
			if r.URL.RawQuery != "sig=a%2Fb" {
				http.Error(w, "bad sig "+r.URL.RawQuery, 400)
				return
			}
			fmt.Fprint(w, itemsJSON(2, 2, 5, `,"next":"p3"`))
		default:
			fmt.Fprint(w, itemsJSON(4, 2, 5, `,"next":""`))
		}
	}))
	defer nextSrv.Close()
	linkSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page < 2 {
			w.Header().Add("Link", `<https://elsewhere.test/?page=9>; rel="last"`)
			w.Header().Add("Link", fmt.Sprintf(`<%s/?page=%d>; rel="next"`, "http://"+r.Host, page+1))
		}
		fmt.Fprint(w, itemsJSON(page*2, 2, 5, ""))
	}))
	defer linkSrv.Close()

	tests := []struct {
		name string
		srv  *httptest.Server
		path string
		p    requests.Paginator
	}{
		{"cursor", cursorSrv, "/", requests.Cursor("meta.next", "after")},
		{"next url relative", nextSrv, "/v1/items", requests.NextURL("next")},
		{"link header", linkSrv, "/", requests.LinkHeader()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := walk(t, tt.srv, requests.New(tt.srv.URL+tt.path), tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != ids(5) {
				t.Errorf("ids = %v", got)
			}
		})
	}
}

func TestPaginationLoop(t *testing.T) {
	page := func(body string, hdr ...string) *requests.JSONResponse {
		h := http.Header{}
		for i := 0; i+1 < len(hdr); i += 2 {
			h.Add(hdr[i], hdr[i+1])
		}
		return &requests.JSONResponse{Status: 200, Header: h, Body: []byte(body)}
	}
	tests := []struct {
		name    string
		p       requests.Paginator
		first   string
		pages   []*requests.JSONResponse
		wantMsg string
	}{
		{"cursor repeats", requests.Cursor("next", "cursor"), "https://api.test/x",
			[]*requests.JSONResponse{page(`{"next":"a"}`), page(`{"next":"b"}`), page(`{"next":"a"}`)}, "cursor cursor=a"},
		{"cursor returns the current one", requests.Cursor("next", "cursor"), "https://api.test/x?cursor=z",
			[]*requests.JSONResponse{page(`{"next":"z"}`)}, "cursor=z"},
		{"secret-looking cursor redacted", requests.Cursor("next", "token"), "https://api.test/x",
			[]*requests.JSONResponse{page(`{"next":"s3cret"}`), page(`{"next":"s3cret"}`)}, "token=REDACTED"},
		{"next url to self", requests.NextURL("next"), "https://api.test/x?page=1&api_key=s3cret",
			[]*requests.JSONResponse{page(`{"next":"?page=1&api_key=s3cret"}`)}, "https://api.test/x?page=1&api_key=REDACTED"},
		{"link header cycle", requests.LinkHeader(), "https://api.test/x",
			[]*requests.JSONResponse{page(`[1]`, "Link", `</y>; rel=next`), page(`[1]`, "Link", `</x>; rel=next`)}, "https://api.test/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for run := range 2 { // a second run starts afresh, without Reset
				prev := requests.New(tt.first)
				var err error
				for _, pg := range tt.pages {
					if prev, err = tt.p.Next(prev, pg, 1); err != nil {
						break
					}
				}
				if !errors.Is(err, requests.ErrPaginationLoop) {
					t.Fatalf("run %d: err = %v, want ErrPaginationLoop", run, err)
				}
				if msg := err.Error(); !strings.Contains(msg, tt.wantMsg) || strings.Contains(msg, "s3cret") {
					t.Errorf("message %q: want %q and no secret", msg, tt.wantMsg)
				}
			}
		})
	}
}

func TestPaginatorsStop(t *testing.T) {
	full := &requests.JSONResponse{Status: 200, Header: http.Header{"Link": {`<https://api.test/2>; rel="next"`}},
		Body: []byte(`{"next":"https://api.test/2","cursor":"c"}`)}
	none := &requests.JSONResponse{Status: 200, Header: http.Header{}, Body: []byte(`{"next":null,"cursor":""}`)}
	all := map[string]requests.Paginator{
		"NextURL": requests.NextURL("next"), "LinkHeader": requests.LinkHeader(), "Cursor": requests.Cursor("cursor", "c"),
		"Offset": requests.Offset("offset", "limit", 10), "PageNumber": requests.PageNumber("page", "size", 10, 1),
	}
	for name, p := range all {
		prev := requests.New("https://api.test/1")
		if n, err := p.Next(prev, full, 0); n != nil || err != nil {
			t.Errorf("%s: empty page gave %v, %v", name, n, err)
		}
		if n, err := p.Next(prev, full, 10); n == nil || err != nil {
			t.Errorf("%s: full page gave %v, %v", name, n, err)
		}
		if name == "Offset" || name == "PageNumber" {
			// A short page is followed unless the author says it ends the list.
			if n, _ := p.Next(prev, full, 9); n == nil {
				t.Errorf("%s: short page ended the list without ShortPageEnds", name)
			}
			continue
		}
		if n, err := p.Next(prev, none, 10); n != nil || err != nil {
			t.Errorf("%s: missing token gave %v, %v", name, n, err)
		}
	}
}

func TestPaginatorSharedByRuns(t *testing.T) {
	// Two partitions share one paginator and see the same cursor tokens;
	// their pages interleave as with parallel streams. Neither is a loop.
	page := func(next string) *requests.JSONResponse {
		return &requests.JSONResponse{Status: 200, Body: []byte(`{"next":"` + next + `"}`)}
	}
	for name, p := range map[string]requests.Paginator{
		"Cursor":  requests.Cursor("next", "cursor"),
		"NextURL": requests.NextURL("next"),
	} {
		t.Run(name, func(t *testing.T) {
			for range 2 { // and again, reusing the paginator without Reset
				a, b := requests.New("https://api.test/a"), requests.New("https://api.test/b")
				var err error
				for _, tok := range []string{"?p=2", "?p=3"} {
					if a, err = p.Next(a, page(tok), 1); err != nil {
						t.Fatal(err)
					}
					if b, err = p.Next(b, page(tok), 1); err != nil {
						t.Fatal(err)
					}
				}
				if a.URL() == b.URL() {
					t.Fatalf("partitions merged: %s", a.URL())
				}
				if n, err := p.Next(a, page(""), 1); n != nil || err != nil {
					t.Fatalf("end of run: %v, %v", n, err)
				}
				if n, err := p.Next(b, page(""), 0); n != nil || err != nil {
					t.Fatalf("end of run: %v, %v", n, err)
				}
			}
			p.(requests.Resetter).Reset()
			// After Reset a repeat within one run is still caught.
			r := requests.New("https://api.test/c")
			r, _ = p.Next(r, page("?p=9"), 1)
			if _, err := p.Next(r, page("?p=9"), 1); !errors.Is(err, requests.ErrPaginationLoop) {
				t.Errorf("repeat after Reset: err = %v", err)
			}
		})
	}
}
