package requests_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/integ/integ/requests"
)

func TestChainOrder(t *testing.T) {
	var order []string
	mark := func(name string) requests.Middleware {
		return func(next requests.Doer) requests.Doer {
			return requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
				order = append(order, name+">")
				resp, err := next.Do(r)
				order = append(order, "<"+name)
				return resp, err
			})
		}
	}
	base := requests.DoerFunc(func(*http.Request) (*http.Response, error) {
		order = append(order, "base")
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	req, _ := http.NewRequest(http.MethodGet, "https://api.test/", nil)
	if _, err := requests.Chain(base, mark("a"), mark("b")).Do(req); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(order, " "), "a> b> base <b <a"; got != want {
		t.Errorf("order = %q, want %q", got, want)
	}
}

// echo returns a Doer reporting the request it received.
func echo(got **http.Request) requests.Doer {
	return requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
		*got = r
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
}

func TestAuthMiddleware(t *testing.T) {
	tests := []struct {
		name    string
		mw      requests.Middleware
		rawURL  string
		check   func(*http.Request) string // returns what was sent
		want    string
		wantURL string
	}{
		{name: "bearer", mw: requests.Authorize(requests.Bearer("tok")), rawURL: "https://api.test/x",
			check: func(r *http.Request) string { return r.Header.Get("Authorization") }, want: "Bearer tok"},
		{name: "basic", mw: requests.Authorize(requests.Basic("u", "p")), rawURL: "https://api.test/x",
			check: func(r *http.Request) string { return r.Header.Get("Authorization") }, want: "Basic dTpw"},
		{name: "header", mw: requests.Header("X-Api-Key", "k"), rawURL: "https://api.test/x",
			check: func(r *http.Request) string { return r.Header.Get("X-Api-Key") }, want: "k"},
		{name: "user agent", mw: requests.UserAgent("integ/1"), rawURL: "https://api.test/x",
			check: func(r *http.Request) string { return r.Header.Get("User-Agent") }, want: "integ/1"},
		{name: "api key appended", mw: requests.Authorize(requests.APIKeyInQuery("api_key", "a b")), rawURL: "https://api.test/x?z=%2f&a=1",
			check: func(r *http.Request) string { return r.URL.String() }, want: "https://api.test/x?z=%2f&a=1&api_key=a+b"},
		{name: "api key alone", mw: requests.Authorize(requests.APIKeyInQuery("key", "k")), rawURL: "https://api.test/x",
			check: func(r *http.Request) string { return r.URL.String() }, want: "https://api.test/x?key=k"},
		{name: "api key replaced", mw: requests.Authorize(requests.APIKeyInQuery("key", "k")), rawURL: "https://api.test/x?key=old&b=2",
			check: func(r *http.Request) string { return r.URL.String() }, want: "https://api.test/x?b=2&key=k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent *http.Request
			req, _ := http.NewRequest(http.MethodGet, tt.rawURL, nil)
			if _, err := requests.Chain(echo(&sent), tt.mw).Do(req); err != nil {
				t.Fatal(err)
			}
			if got := tt.check(sent); got != tt.want {
				t.Errorf("sent %q, want %q", got, tt.want)
			}
			if req.Header.Get("Authorization") != "" || req.URL.String() != tt.rawURL || len(req.Header) != 0 {
				t.Errorf("caller's request mutated: %v %v", req.URL, req.Header)
			}
		})
	}
}

func TestTimeoutLastsUntilBodyClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var reqCtx context.Context
		base := requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
			reqCtx = r.Context()
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}"))}, nil
		})
		req, _ := http.NewRequest(http.MethodGet, "https://api.test/", nil)
		resp, err := requests.Chain(base, requests.Timeout(time.Minute)).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if reqCtx.Err() != nil {
			t.Fatal("context canceled before the body was read")
		}
		if _, ok := reqCtx.Deadline(); !ok {
			t.Error("no deadline on the request context")
		}
		resp.Body.Close()
		if !errors.Is(reqCtx.Err(), context.Canceled) {
			t.Errorf("after Close, ctx.Err() = %v, want Canceled", reqCtx.Err())
		}
	})
}

func TestTimeoutFires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		})
		req, _ := http.NewRequest(http.MethodGet, "https://api.test/", nil)
		start := time.Now()
		_, err := requests.Chain(hang, requests.Timeout(10*time.Second)).Do(req)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 10*time.Second {
			t.Errorf("err %v after %v, want DeadlineExceeded after 10s", err, time.Since(start))
		}
	})
}

func TestDefaultClient(t *testing.T) {
	c := requests.DefaultClient()
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T", c.Transport)
	}
	if c.Timeout != 0 || tr.ResponseHeaderTimeout != time.Minute || tr.TLSHandshakeTimeout != 10*time.Second ||
		!tr.ForceAttemptHTTP2 || tr.MaxIdleConnsPerHost < 4 {
		t.Errorf("unexpected settings: client timeout %v, transport %+v", c.Timeout, tr)
	}
}

// TestHeaderSetAlready: a request with exactly the header goes on as it
// is; one with another value, or two values, gets a copy with the one
// value, and the caller's keeps its own.
func TestHeaderSetAlready(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		same   bool // the same request reaches the next layer
	}{
		{"exactly it", []string{"integ-test/1"}, true},
		{"another value", []string{"curl/8"}, false},
		{"it and another", []string{"integ-test/1", "curl/8"}, false},
		{"absent", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, "https://api.test/x", nil)
			if tt.values != nil {
				req.Header["User-Agent"] = slices.Clone(tt.values)
			}
			var got *http.Request
			d := requests.Chain(requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
				got = r
				return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
			}), requests.UserAgent("integ-test/1"))
			if _, err := d.Do(req); err != nil {
				t.Fatal(err)
			}
			if vs := got.Header["User-Agent"]; len(vs) != 1 || vs[0] != "integ-test/1" {
				t.Errorf("the request sent has User-Agent %q", vs)
			}
			if (got == req) != tt.same {
				t.Errorf("the next layer got the caller's request: %v, want %v", got == req, tt.same)
			}
			if !slices.Equal(req.Header["User-Agent"], tt.values) {
				t.Errorf("the caller's User-Agent became %q, was %q", req.Header["User-Agent"], tt.values)
			}
		})
	}
}

// TestHeaderLeavesTheRequestAlone: Header copies the request it changes,
// so a retried request, and layers further down that add headers or edit
// the URL, never change the caller's.
func TestHeaderLeavesTheRequestAlone(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://api.test/x?a=1", nil)
	req.Header["Accept"] = make([]string, 1, 4) // room to append in place
	req.Header["Accept"][0] = "application/json"
	var got *http.Request
	d := requests.Chain(requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	}), requests.Header("user-agent", "integ-test/1"), func(next requests.Doer) requests.Doer {
		return requests.DoerFunc(func(r *http.Request) (*http.Response, error) {
			r.Header.Add("Accept", "text/csv")
			r.URL.RawQuery += "&b=2"
			return next.Do(r)
		})
	})
	if _, err := d.Do(req); err != nil {
		t.Fatal(err)
	}
	if ua := got.Header.Get("User-Agent"); ua != "integ-test/1" {
		t.Errorf("User-Agent = %q", ua)
	}
	if req.Header.Get("User-Agent") != "" || len(req.Header["Accept"]) != 1 || req.Header["Accept"][:2][1] != "" || req.URL.RawQuery != "a=1" {
		t.Errorf("the caller's request changed: header %v, query %q", req.Header, req.URL.RawQuery)
	}
}
