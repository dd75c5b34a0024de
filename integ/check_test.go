package integ

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/integ/integ/requests"
)

// A refused check reads as a refused sync does: who refused what, the API's
// own words, and what to do, in the message people see.
func TestCheckExplainsRefusal(t *testing.T) {
	for _, tc := range []struct {
		status int
		kind   FailureKind
		want   string
	}{
		{http.StatusUnauthorized, ConfigFailure, "the API refused the credentials"},
		{http.StatusForbidden, ConfigFailure, "the API refused access"},
		{http.StatusNotFound, ConfigFailure, "check the config's base URL"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			w.Write([]byte(`{"errors":[{"code":"not_authenticated","detail":"Missing or invalid private key."}]}`))
		}))
		src := eventsSource(t)
		cfg, _ := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `"}`))
		err := src.Check(context.Background(), cfg, nil, HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: 1}})
		srv.Close()
		msg := UserMessage(err)
		if KindOf(err) != tc.kind || !strings.Contains(msg, `stream "events"`) || !strings.Contains(msg, tc.want) ||
			!strings.Contains(msg, "Missing or invalid private key.") || strings.Contains(msg, `{"errors"`) {
			t.Errorf("%d: %v: %q", tc.status, KindOf(err), msg)
		}
	}
}
