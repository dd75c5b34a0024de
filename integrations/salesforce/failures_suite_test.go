package salesforce

import (
	"net/http"
	"strings"
	"testing"

	"github.com/integ/integ/integtest"
)

// The org's objects are listed and described before any stream runs (a
// failure there has its own tests): the faults hit the queries, REST
// (Account, ...) and Bulk 2.0 (Contact).
func TestFailures(t *testing.T) {
	o := newOrg()
	integtest.Failures(t, Source(), http.HandlerFunc(o.api), func(srv *integtest.Server) any {
		o.instance = srv.URL
		login := integtest.NewServer(t, http.HandlerFunc(o.token))
		return map[string]any{
			"client_id": clientID, "client_secret": clientSecret, "refresh_token": refreshToken,
			"login_url": login.URL, "bulk_poll_interval": 0, "bulk_objects": []string{"Contact"},
		}
	}, integtest.WithFaultsOn(func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/query") }))
}
