package requests_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/integ/integ/requests"
)

func ExampleNew() {
	r := requests.New("https://api.example.com/v1/orders?status=open").
		Query("updated_since", "2024-01-01T00:00:00Z").
		Query("expand", "lines").
		Header("Accept", "application/json")
	fmt.Println(r.URL())

	// Relative next links resolve against the request's URL.
	fmt.Println(r.Resolve("?page=2&status=open").URL())
	// Output:
	// https://api.example.com/v1/orders?status=open&updated_since=2024-01-01T00%3A00%3A00Z&expand=lines
	// https://api.example.com/v1/orders?page=2&status=open
}

func ExampleDo() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"data":[{"id":9007199254740993,"name":"a"}]}`)
	}))
	defer srv.Close()

	doer := requests.Chain(srv.Client(),
		requests.Authorize(requests.Bearer("tok")),
		requests.Retry(requests.RetryOptions{MaxAttempts: 3}),
		// 30 s for each attempt, of which at most 10 s waiting for the headers.
		requests.Timeout(30*time.Second, requests.HeaderTimeout(10*time.Second)),
	)
	resp, err := requests.Do(context.Background(), doer, requests.New(srv.URL+"/items"), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, rec := range resp.Get("data").Array() {
		fmt.Println(rec.Get("id").Raw, rec.Get("name").String())
	}

	// Without the token: a *StatusError naming the request.
	_, err = requests.Do(context.Background(), srv.Client(), requests.New(srv.URL+"/items?api_key=s3cret"), 0)
	var se *requests.StatusError
	if errors.As(err, &se) {
		fmt.Println(se.Status, requests.RedactURL("/items?api_key=s3cret"), se.BodyExcerpt)
	}
	// Output:
	// 9007199254740993 a
	// 401 /items?api_key=REDACTED {"error":"unauthorized"}
}

func ExampleCursor() {
	pages := map[string]string{
		"":   `{"items":[1,2],"next_cursor":"c2"}`,
		"c2": `{"items":[3],"next_cursor":null}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, pages[r.URL.Query().Get("cursor")])
	}))
	defer srv.Close()

	p := requests.Cursor("next_cursor", "cursor") // one per stream run
	req := requests.New(srv.URL+"/items").Query("limit", "2")
	for req != nil {
		resp, err := requests.Do(context.Background(), srv.Client(), req, 0)
		if err != nil {
			fmt.Println(err)
			return
		}
		items := resp.Get("items").Array()
		fmt.Println("page", req.QueryValue("cursor"), "items", len(items))
		if req, err = p.Next(req, resp, len(items)); err != nil {
			fmt.Println(err)
			return
		}
	}
	// Output:
	// page  items 2
	// page c2 items 1
}

func ExampleOffset() {
	// This API fills every page but the last, so a short page ends the list.
	p := requests.Offset("offset", "limit", 100, requests.ShortPageEnds(100))
	req := requests.New("https://api.example.com/v1/contacts").Query("limit", "100")
	for _, count := range []int{100, 100, 42} {
		next, _ := p.Next(req, nil, count)
		if next == nil {
			fmt.Println("done")
			break
		}
		fmt.Println(next.URL())
		req = next
	}
	// Output:
	// https://api.example.com/v1/contacts?limit=100&offset=100
	// https://api.example.com/v1/contacts?limit=100&offset=200
	// done
}

func ExamplePageNumber() {
	p := requests.PageNumber("page", "per_page", 50, 1)
	req := requests.New("https://api.example.com/v1/users?per_page=50")
	next, _ := p.Next(req, nil, 50)
	fmt.Println(next.URL())
	// Output:
	// https://api.example.com/v1/users?per_page=50&page=2
}

func ExampleLinkHeader() {
	resp := &requests.JSONResponse{Header: http.Header{
		"Link": {`<https://api.github.com/repos/o/r/issues?page=2>; rel="next", <https://api.github.com/repos/o/r/issues?page=9>; rel="last"`},
	}, Body: []byte(`[{"id":1}]`)}
	next, _ := requests.LinkHeader().Next(requests.New("https://api.github.com/repos/o/r/issues"), resp, 1)
	fmt.Println(next.URL())
	// Output:
	// https://api.github.com/repos/o/r/issues?page=2
}

func ExampleNextURL() {
	resp := &requests.JSONResponse{Body: []byte(`{"results":[{}],"paging":{"next":"/v3/objects?after=MTA%3D"}}`)}
	next, _ := requests.NextURL("paging.next").Next(requests.New("https://api.example.com/v3/objects?limit=10"), resp, 1)
	fmt.Println(next.URL())
	// Output:
	// https://api.example.com/v3/objects?after=MTA%3D
}

func ExampleParseLinkHeader() {
	for _, l := range requests.ParseLinkHeader(`</p2>; rel="next", </p9>; rel=last`) {
		fmt.Println(l.Rel, l.URL)
	}
	// Output:
	// next /p2
	// last /p9
}

func ExampleRedactURL() {
	fmt.Println(requests.RedactURL("https://user:pw@api.example.com/x?api_key=abc&page=2&Signature=xyz"))
	fmt.Println(requests.Redact("token abc123 leaked", "abc123"))
	// Output:
	// https://user:REDACTED@api.example.com/x?api_key=REDACTED&page=2&Signature=REDACTED
	// token REDACTED leaked
}

func ExampleRetry() {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer srv.Close()

	doer := requests.Chain(srv.Client(), requests.Retry(requests.RetryOptions{
		// Tests inject Sleep; in production leave it nil.
		Sleep: func(ctx context.Context, d time.Duration) error { fmt.Println("waiting", d); return nil },
	}))
	resp, err := requests.Do(context.Background(), doer, requests.New(srv.URL), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Get("ok").Bool(), "after", resp.Header.Get(requests.AttemptsHeader), "attempts")
	// Output:
	// waiting 2s
	// waiting 2s
	// true after 3 attempts
}

func ExampleNewLimiter() {
	// One limiter for the whole run: 10 requests/s, bursts of 20.
	limiter := requests.NewLimiter(10, 20)
	doer := requests.Chain(http.DefaultClient,
		requests.Retry(requests.RetryOptions{}),
		requests.RateLimit(limiter), // inside Retry: every attempt takes a token
	)
	_, _ = requests.Do(context.Background(), doer, requests.New("https://api.example.com/v1/items"), 0)
}
