package salesforce

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
)

// accountCatalog is an Airbyte configured catalog of Account alone, for
// runs whose discover would fail.
var accountCatalog = json.RawMessage(`{"streams":[{"stream":{"name":"Account","json_schema":{"type":"object","properties":{"Id":{"type":"string"},"SystemModstamp":{"type":"string"}}},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)

// Credentials the token endpoint refuses are a config error saying what to
// do, in check and in read; nothing reaches the API.
func TestBadCredentials(t *testing.T) {
	cases := []struct {
		name, key, value, want string
	}{
		{"expired refresh token", "refresh_token", "5Aep861revoked-refresh-token", "invalid_grant: expired access/refresh token"},
		{"wrong client secret", "client_secret", "wrong-client-secret-0000", "invalid_client: invalid client credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := newOrg()
			_, instance, cfg := o.servers(t)
			cfg[c.key] = c.value
			chk := integtest.Check(t, Source(), cfg, integtest.WithExpectedFailure())
			if status, msg := chk.ConnectionStatus(); status != "FAILED" || !strings.Contains(msg, c.want) ||
				!strings.HasPrefix(msg, "Salesforce refused the configured credentials") ||
				!strings.Contains(msg, "authorise the connected app again") {
				t.Errorf("check: %s", chk.Stdout)
			}
			res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(integtest.Airbyte), integtest.WithCatalog(accountCatalog),
				integtest.WithExpectedFailure())
			if res.FailureType() != "config_error" || !strings.Contains(res.Failure(), c.want) {
				t.Errorf("read: %s %q", res.FailureType(), res.Failure())
			}
			if n := len(instance.Requests()); n != 0 {
				t.Errorf("%d API requests without a token", n)
			}
		})
	}
}

// An object the user may not read fails alone, named; the others sync.
func TestNoPermissionOnOneObject(t *testing.T) {
	both(t, func(t *testing.T, p integtest.Protocol) {
		o := newOrg()
		o.object("Opportunity").forbidden = true
		_, _, cfg := o.servers(t)
		res := integtest.Sync(t, Source(), cfg, allStreams, integtest.WithProtocol(p), integtest.WithExpectedFailure())
		if n := res.Counts(); n["Account"] != 5 || n["Contact"] != 3 || n["AccountHistory"] != 2 || n["Document__c"] != 2 || n["Opportunity"] != 0 {
			t.Errorf("records %v", n)
		}
		if msg := res.Failure() + strings.Join(res.Logs(), "\n"); !strings.Contains(msg, `"Opportunity"`) || !strings.Contains(msg, "sObject type 'Opportunity' is not supported") {
			t.Errorf("the failure does not name the object and the API's reason: %q", res.Failure())
		}
	})
}

// The org's 24-hour allowance: REQUEST_LIMIT_EXCEEDED stops the sync at
// once (a retry only spends more), and so does Sforce-Limit-Info saying the
// allowance is nearly spent, before the API refuses.
func TestDailyLimit(t *testing.T) {
	t.Run("REQUEST_LIMIT_EXCEEDED", func(t *testing.T) {
		o := newOrg()
		var queries atomic.Int32
		o.SetFault(func(r *http.Request, n int) (int, http.Header, string, bool) {
			if strings.HasSuffix(r.URL.Path, "/query") {
				queries.Add(1)
				return http.StatusForbidden, nil, `[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}]`, true
			}
			return 0, nil, "", false
		})
		_, _, cfg := o.servers(t)
		res := integtest.Sync(t, Source(), cfg, allStreams, integtest.WithProtocol(integtest.Airbyte), integtest.WithExpectedFailure())
		if queries.Load() != 1 || !strings.Contains(res.Failure(), "24-hour API request allowance is used up") {
			t.Errorf("%d queries (want 1: not retried, and the other streams not started); failure %q", queries.Load(), res.Failure())
		}
	})
	t.Run("Sforce-Limit-Info", func(t *testing.T) {
		o := newOrg()
		o.limitUsed = 14990
		_, instance, cfg := o.servers(t)
		res := integtest.Sync(t, Source(), cfg, allStreams, integtest.WithExpectedFailure())
		queries := 0
		for _, r := range instance.Requests() {
			if strings.Contains(r.Path, "/query") {
				queries++
			}
		}
		if queries != 1 || len(res.AllRecords()) != 2 || !strings.Contains(res.Failure(), "14990 of the API's 15000 requests are used") {
			t.Errorf("%d queries and %d records with the allowance nearly spent; failure %q", queries, len(res.AllRecords()), res.Failure())
		}
	})
}

// A read with a catalog of one object describes nothing: the catalog
// holds the schema.
func TestOneObjectNoDescribe(t *testing.T) {
	o := newOrg()
	_, instance, cfg := o.servers(t)
	res := integtest.Sync(t, Source(), cfg, integtest.WithProtocol(integtest.Airbyte), integtest.WithMode(integ.ModeFullRefresh),
		integtest.WithCatalog(json.RawMessage(`{"streams":[{"stream":{"name":"Opportunity","json_schema":{"type":"object","properties":{"Id":{"type":"string"},"Name":{"type":"string"},"SystemModstamp":{"type":"string","format":"date-time"}}},"supported_sync_modes":["full_refresh","incremental"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)))
	if n := len(res.Records("Opportunity")); n != 4 {
		t.Errorf("%d records", n)
	}
	var got []string
	for _, r := range instance.Requests() {
		got = append(got, r.Method+" "+r.Path)
	}
	want := "GET /services/data/v61.0/sobjects GET /services/data/v61.0/query GET /services/data/v61.0/query/01gD0000002HU6KIAW-2"
	if strings.Join(got, " ") != want {
		t.Errorf("requests %q\nwant %q", got, want)
	}
}

// An org with refresh token rotation spends the old token: the new one is
// saved (Singer rewrites the config file; Airbyte writes a CONTROL message,
// which integtest's secret check cannot tell from a leak, so Singer here).
func TestRotatedRefreshTokenIsSaved(t *testing.T) {
	o := newOrg()
	o.rotate = "5Aep861rotated-refresh-token-4321"
	_, _, cfg := o.servers(t)
	b, _ := json.Marshal(cfg)
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	integtest.Run(t, Source(), []string{"--config", path, "--discover"}, integtest.WithSecrets(accessToken, o.rotate, clientSecret))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var saved map[string]any
	json.Unmarshal(b, &saved)
	if saved["refresh_token"] != o.rotate || saved["client_secret"] != clientSecret || saved["client_id"] != clientID {
		t.Errorf("saved config: refresh_token rotated %v, client kept %v", saved["refresh_token"] == o.rotate, saved["client_secret"] == clientSecret)
	}
}

// instance_url in the config wins over the token response's: a proxy.
func TestInstanceURLOverride(t *testing.T) {
	o := newOrg()
	_, instance, cfg := o.servers(t)
	proxy := integtest.NewServer(t, http.HandlerFunc(o.api))
	o.instance = "http://127.0.0.1:1" // the token response's: not to be used
	cfg["instance_url"] = proxy.URL
	res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("Account"), integtest.WithProtocol(integtest.Airbyte))
	if n := len(res.Records("Account")); n != 5 || len(instance.Requests()) != 0 || len(proxy.Requests()) == 0 {
		t.Errorf("%d records, %d requests to the instance, %d to the proxy", n, len(instance.Requests()), len(proxy.Requests()))
	}
}

// The Airbyte spec offers the OAuth flow: the platform's app fills
// client_id and client_secret, the flow refresh_token, for the login_url
// the user chose.
func TestSpecAdvancedAuth(t *testing.T) {
	res := integtest.Run(t, Source(), []string{"spec"}, integtest.WithProtocol(integtest.Airbyte))
	specs := res.MessagesOf("SPEC")
	if len(specs) != 1 {
		t.Fatalf("%d SPEC messages", len(specs))
	}
	var m struct {
		Spec struct {
			AdvancedAuth struct {
				AuthFlowType string         `json:"auth_flow_type"`
				Config       map[string]any `json:"oauth_config_specification"`
			} `json:"advanced_auth"`
		} `json:"spec"`
	}
	json.Unmarshal(specs[0], &m)
	out, _ := json.Marshal(m.Spec.AdvancedAuth.Config)
	for _, want := range []string{`"client_id":{"path_in_connector_config":["client_id"]`, `"refresh_token":{"path_in_connector_config":["refresh_token"]`, `"login_url":{"path_in_connector_config":["login_url"]`} {
		if m.Spec.AdvancedAuth.AuthFlowType != "oauth2.0" || !strings.Contains(string(out), want) {
			t.Errorf("advanced_auth %s %s: want %s", m.Spec.AdvancedAuth.AuthFlowType, out, want)
		}
	}
}

// A login_url that is no Salesforce login server is a config error naming
// the token endpoint and its answer.
func TestWrongLoginURL(t *testing.T) {
	o := newOrg()
	login, _, cfg := o.servers(t)
	cfg["login_url"] = login.URL + "/not-a-login-server"
	res := integtest.Sync(t, Source(), cfg, integtest.WithCatalog(accountCatalog), integtest.WithProtocol(integtest.Airbyte), integtest.WithExpectedFailure())
	if res.FailureType() != "config_error" || !strings.Contains(res.Failure(), "could not get an access token from login_url") ||
		!strings.Contains(res.Failure(), "/not-a-login-server/services/oauth2/token: 404") {
		t.Errorf("%s %q", res.FailureType(), res.Failure())
	}
}

// A query too long for a URL is refused before it is sent, saying how to
// read the object; through Bulk API 2.0 the same object reads.
func TestQueryTooLongForAURL(t *testing.T) {
	o := newOrg()
	wide := &object{name: "Wide__c", queryable: true, records: 2, fields: slices.Clone(common)}
	for i := range 500 {
		wide.fields = append(wide.fields, field{fmt.Sprintf("Some_Rather_Long_Field_Name_%03d__c", i), "string", "Field", true})
	}
	o.objects = append(o.objects, wide)
	_, instance, cfg := o.servers(t)
	res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("Wide__c"), integtest.WithExpectedFailure())
	if !strings.Contains(res.Failure(), "add Wide__c to bulk_objects") {
		t.Errorf("failure %q", res.Failure())
	}
	for _, r := range instance.Requests() {
		if strings.HasSuffix(r.Path, "/query") {
			t.Errorf("sent %s", r.Path)
		}
	}
	cfg["bulk_objects"] = []string{"Wide__c"}
	if n := len(integtest.Sync(t, Source(), cfg, integtest.WithStreams("Wide__c")).Records("Wide__c")); n != 2 {
		t.Errorf("bulk: %d records", n)
	}
}

// An object with none of the replication keys the connector knows is left
// out of discover, named in an error; the others are discovered.
func TestObjectWithoutAKnownKey(t *testing.T) {
	o := newOrg()
	o.objects = append(o.objects, &object{name: "LoginGeo", queryable: true, records: 1,
		fields: []field{{"Id", "id", "Login Geo ID", false}, {"LoginTime", "datetime", "Login Time", false}}})
	_, _, cfg := o.servers(t)
	res := integtest.Discover(t, Source(), cfg, integtest.WithProtocol(integtest.Airbyte))
	names := res.CatalogStreams()
	traces := res.MessagesOf("TRACE")
	if len(names) != 6 || slices.Contains(names, "LoginGeo") || len(traces) != 1 ||
		!strings.Contains(string(traces[0]), `stream \"LoginGeo\": replication key \"SystemModstamp\" is not a property of its schema`) {
		t.Errorf("streams %v, traces %s", names, traces)
	}
}
