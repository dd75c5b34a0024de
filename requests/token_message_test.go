package requests_test

import (
	"testing"
	"time"

	"github.com/integ/integ/requests"
)

// A token endpoint that answers in its API's own error shape, not RFC
// 6749's (HubSpot: {"status":"BAD_REFRESH_TOKEN","message":...}), still
// has its text reported.
func TestTokenErrorMessageField(t *testing.T) {
	cases := []struct{ body, want string }{
		{`{"status":"BAD_REFRESH_TOKEN","message":"missing or unknown refresh token","correlationId":"c-1"}`, "missing or unknown refresh token"},
		{`{"error":"invalid_grant","error_description":"expired","message":"ignored"}`, "expired"},
		{`{"error":"invalid_grant"}`, ""},
	}
	for _, c := range cases {
		_, te := requests.ParseTokenResponse(400, []byte(c.body), time.Now())
		if te == nil || te.Description != c.want {
			t.Errorf("%s: %+v", c.body, te)
		}
	}
}
