package rest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/integ/integ/requests"
)

// TestAuthOnlyToTheBaseURLsHost: a templated child URL or a next link on
// another host gets no credentials, whichever auth type the config chose.
func TestAuthOnlyToTheBaseURLsHost(t *testing.T) {
	seen := map[string]string{}
	handler := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			seen[name] = r.Header.Get("Authorization") + r.Header.Get("X-Api-Key") + r.URL.Query().Get("key")
		}
	}
	api := httptest.NewServer(handler("api"))
	defer api.Close()
	other := httptest.NewServer(handler("other"))
	defer other.Close()
	for _, a := range []*Auth{
		{Type: AuthBearer, Token: "tok"},
		{Type: AuthBasic, Username: "u", Password: "p"},
		{Type: AuthAPIKey, Name: "X-Api-Key", Value: "k", In: "header"},
		{Type: AuthAPIKey, Name: "key", Value: "k", In: "query"},
	} {
		clear(seen)
		d := requests.Chain(http.DefaultClient, authMiddleware(a, api.URL+"/v1"))
		for _, u := range []string{api.URL + "/v1/items", other.URL + "/items"} {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			resp, err := d.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if seen["api"] == "" || seen["other"] != "" {
			t.Errorf("%s: the API saw %q, another host %q; want credentials at the API only", a.Type, seen["api"], seen["other"])
		}
	}
}
