package integtest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/integ/integ/integtest"
)

func TestServerRecordsWithSecretsMasked(t *testing.T) {
	srv := integtest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{}`))
	}))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/items?api_key=k-123&page_token=p2&limit=5", strings.NewReader(`{"q":1}`))
	req.Header.Set("Authorization", "Bearer tok-123")
	req.Header.Set("X-Api-Key", "k-456")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	checks := []struct {
		name, got, want string
	}{
		{"method", r.Method, "POST"},
		{"path", r.Path, "/v1/items"},
		{"body", string(r.Body), `{"q":1}`},
		{"authorization", r.Header.Get("Authorization"), "Bearer " + integtest.Masked},
		{"api key header", r.Header.Get("X-Api-Key"), integtest.Masked},
		{"accept", r.Header.Get("Accept"), "application/json"},
		{"api key param", r.Query.Get("api_key"), integtest.Masked},
		{"page token", r.Query.Get("page_token"), "p2"},
		{"limit", r.Query.Get("limit"), "5"},
		{"string", r.String(), "POST /v1/items?api_key=%2A%2A%2A%2A&limit=5&page_token=p2"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
	if !r.HeaderIs("Authorization", "Bearer tok-123") || r.HeaderIs("Authorization", "Bearer other") {
		t.Error("HeaderIs does not compare the unmasked value")
	}
	if !r.QueryIs("api_key", "k-123") {
		t.Error("QueryIs does not compare the unmasked value")
	}
	srv.Reset()
	if len(srv.Requests()) != 0 {
		t.Error("Reset kept requests")
	}
}
