package requests_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/integ/integ/requests"
)

func TestRequestURL(t *testing.T) {
	tests := []struct {
		name string
		req  *requests.Request
		want string
	}{
		{"plain", requests.New("https://api.test/v1/items"), "https://api.test/v1/items"},
		{"query order kept", requests.New("https://api.test/x").Query("z", "1").Query("a", "2").Query("z", "3"),
			"https://api.test/x?z=1&a=2&z=3"},
		{"escaping", requests.New("https://api.test/x").Query("q", "a b&c=d/é").Query("k+", "%"),
			"https://api.test/x?q=a+b%26c%3Dd%2F%C3%A9&k%2B=%25"},
		{"raw query kept byte for byte", requests.New("https://api.test/x?sig=AbC%2f%2B&b=1").Query("c", "2"),
			"https://api.test/x?sig=AbC%2f%2B&b=1&c=2"},
		{"set replaces raw and added", requests.New("https://api.test/x?page=1&a=1").Query("page", "2").SetQuery("page", "3"),
			"https://api.test/x?page=3&a=1"},
		{"fragment dropped", requests.New("https://api.test/x?a=1#frag"), "https://api.test/x?a=1"},
		{"empty segments dropped", requests.New("https://api.test/x?&a=1&&"), "https://api.test/x?a=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.req.URL(); got != tt.want {
				t.Errorf("URL() = %q, want %q", got, tt.want)
			}
			req, err := tt.req.Build(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := req.URL.String(); got != tt.want {
				t.Errorf("built URL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestQueryValue(t *testing.T) {
	r := requests.New("https://api.test/x?cursor=a%20b&n=1").Query("n", "2")
	if got := r.QueryValue("cursor"); got != "a b" {
		t.Errorf("cursor = %q", got)
	}
	if got := r.QueryValue("n"); got != "1" {
		t.Errorf("n = %q, want first value", got)
	}
	if got := r.QueryValue("missing"); got != "" {
		t.Errorf("missing = %q", got)
	}
}

func TestResolve(t *testing.T) {
	base := requests.New("https://api.test/v1/items?page=1").Header("Accept", "application/vnd.x+json").
		Method(http.MethodPost).Body([]byte("{}"))
	tests := []struct{ ref, want string }{
		{"?page=2", "https://api.test/v1/items?page=2"},
		{"/v2/items?after=x", "https://api.test/v2/items?after=x"},
		{"more?p=3", "https://api.test/v1/more?p=3"},
		{"https://other.test/a?b=c", "https://other.test/a?b=c"},
		{"//cdn.test/p", "https://cdn.test/p"},
	}
	for _, tt := range tests {
		n := base.Resolve(tt.ref)
		if got := n.URL(); got != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.ref, got, tt.want)
		}
		req, err := n.Build(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if req.Method != http.MethodGet || req.Body != nil && req.Body != http.NoBody {
			t.Errorf("Resolve(%q): method %s with body, want bodiless GET", tt.ref, req.Method)
		}
		if got := req.Header.Get("Accept"); got != "application/vnd.x+json" {
			t.Errorf("Resolve(%q): Accept = %q, want carried over", tt.ref, got)
		}
	}
	if _, err := base.Resolve("http://[::1").Build(context.Background()); err == nil {
		t.Error("Resolve of an invalid URL: Build succeeded")
	}
}

func TestJSONBodyReplayable(t *testing.T) {
	r := requests.New("https://api.test/x").Method(http.MethodPost).JSONBody(map[string]any{"a": 1, "b": []string{"x"}})
	req, err := r.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	const want = `{"a":1,"b":["x"]}`
	if req.ContentLength != int64(len(want)) {
		t.Errorf("ContentLength = %d, want %d", req.ContentLength, len(want))
	}
	for i := range 3 {
		body := req.Body
		if i > 0 {
			if req.GetBody == nil {
				t.Fatal("GetBody is nil")
			}
			if body, err = req.GetBody(); err != nil {
				t.Fatal(err)
			}
		}
		b, _ := io.ReadAll(body)
		if string(b) != want {
			t.Errorf("read %d: body = %s, want %s", i, b, want)
		}
	}
}

func TestJSONBodyMarshalError(t *testing.T) {
	_, err := requests.New("https://api.test/x").JSONBody(math.Inf(1)).Query("a", "b").Build(context.Background())
	var ue *json.UnsupportedValueError
	if !errors.As(err, &ue) {
		t.Fatalf("Build error = %v, want the wrapped marshal error", err)
	}
}

func TestCloneIsDeep(t *testing.T) {
	a := requests.New("https://api.test/x").Query("a", "1").Header("X-A", "1").Body([]byte("body"))
	b := a.Clone().SetQuery("a", "2").Header("X-A", "2").Query("b", "3")
	if a.URL() != "https://api.test/x?a=1" || a.QueryValue("a") != "1" {
		t.Errorf("original changed: %s", a.URL())
	}
	if b.URL() != "https://api.test/x?a=2&b=3" || b.Fingerprint() != "GET https://api.test/x?a=2&b=3\nbody" {
		t.Errorf("clone's URL %q, fingerprint %q: the URL must follow every setter", b.URL(), b.Fingerprint())
	}
	ra, _ := a.Build(context.Background())
	rb, _ := b.Build(context.Background())
	if ra.Header.Get("X-A") != "1" || rb.Header.Get("X-A") != "2" {
		t.Errorf("headers shared: %q %q", ra.Header.Get("X-A"), rb.Header.Get("X-A"))
	}
}

func TestBuildBadURL(t *testing.T) {
	_, err := requests.New("://nope?api_key=s3cret").Build(context.Background())
	if err == nil {
		t.Fatal("Build succeeded for an invalid URL")
	}
	if got := err.Error(); strings.Contains(got, "s3cret") {
		t.Errorf("error leaks secret: %s", got)
	}
}
