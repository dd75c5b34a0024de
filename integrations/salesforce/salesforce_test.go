package salesforce

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/integ/integ/integtest"
)

// allStreams selects every queryable object of the fixture org: integtest
// only selects the streams a source declares, and these are listed at run
// time.
var allStreams = integtest.WithStreams("Account", "Contact", "Opportunity", "AccountHistory", "Document__c")

func TestConformance(t *testing.T) {
	o := newOrg()
	_, _, cfg := o.servers(t)
	cfg["bulk_objects"] = []string{"Contact"}
	integtest.Conformance(t, Source(), cfg, allStreams, integtest.WithSecrets(accessToken))
}

// both runs f once per protocol.
func both(t *testing.T, f func(t *testing.T, p integtest.Protocol)) {
	for _, p := range []integtest.Protocol{integtest.Singer, integtest.Airbyte} {
		t.Run(string(p), func(t *testing.T) { f(t, p) })
	}
}

func count(res *integtest.Result) map[string]int {
	n := map[string]int{}
	for _, r := range res.AllRecords() {
		n[r.Stream]++
	}
	return n
}

// The requests are exactly those the vendor documents: a refresh-token
// grant at the login server, then every API call at the instance_url the
// token response named, with the bearer token.
func TestRequests(t *testing.T) {
	o := newOrg()
	login, instance, cfg := o.servers(t)
	cfg["bulk_objects"] = []string{"Contact"}
	cfg["bulk_page_size"] = 2
	cfg["start_date"] = "2024-03-01T12:01:00Z"
	res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("Account", "Contact"), integtest.WithSecrets(accessToken))
	if n := count(res); n["Account"] != 4 || n["Contact"] != 2 {
		t.Errorf("records %v, want 4 Account and 2 Contact since start_date", n)
	}

	// Two processes: the discover that builds the catalog, then the sync.
	tok := login.Requests()
	if len(tok) != 2 {
		t.Fatalf("%d token requests, want 2: %v", len(tok), tok)
	}
	form, err := url.ParseQuery(string(tok[0].Body))
	if err != nil || tok[0].Method != http.MethodPost || tok[0].Path != "/services/oauth2/token" ||
		form.Get("grant_type") != "refresh_token" || form.Get("client_id") != clientID ||
		form.Get("client_secret") != clientSecret || form.Get("refresh_token") != refreshToken ||
		!strings.HasPrefix(tok[0].Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		t.Errorf("token request %s %s %v", tok[0].Method, tok[0].Path, form.Has("grant_type"))
	}

	var got []string
	for _, r := range instance.Requests() {
		if !r.HeaderIs("Authorization", "Bearer "+accessToken) {
			t.Errorf("%s: no bearer token", r)
		}
		line := r.Method + " " + r.Path
		if q := r.Query.Encode(); q != "" {
			line += "?" + q
		}
		if len(r.Body) > 0 {
			var body map[string]string // compared decoded: JSON may escape > as \u003e
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Errorf("%s: body %q: %v", r, r.Body, err)
			}
			line += fmt.Sprintf(" operation=%s query=%s", body["operation"], body["query"])
		}
		got = append(got, line)
	}
	slices.Sort(got) // the streams run in either order
	want := []string{
		// discover, for the catalog: the list and every queryable object's describe
		"GET /services/data/v61.0/sobjects",
		"GET /services/data/v61.0/sobjects/Account/describe",
		"GET /services/data/v61.0/sobjects/AccountHistory/describe",
		"GET /services/data/v61.0/sobjects/Contact/describe",
		"GET /services/data/v61.0/sobjects/Document__c/describe",
		"GET /services/data/v61.0/sobjects/Opportunity/describe",
		// the sync: the list, no describe (the catalog has the schemas), the queries
		"GET /services/data/v61.0/jobs/query/750R0000000zlh1IAA",
		"GET /services/data/v61.0/jobs/query/750R0000000zlh1IAA",
		"GET /services/data/v61.0/jobs/query/750R0000000zlh1IAA",
		"GET /services/data/v61.0/jobs/query/750R0000000zlh1IAA/results?maxRecords=2",
		"GET /services/data/v61.0/query/01gD0000002HU6KIAW-2",
		"GET /services/data/v61.0/query?q=" + url.QueryEscape("SELECT AnnualRevenue,BillingAddress,CreatedDate,Description,Id,IsDeleted,LastActivityDate,Name,NumberOfEmployees,SystemModstamp,Type,Website FROM Account WHERE SystemModstamp >= 2024-03-01T12:01:00.000Z ORDER BY SystemModstamp ASC"),
		"GET /services/data/v61.0/sobjects",
		"POST /services/data/v61.0/jobs/query operation=query query=SELECT AccountId,CreatedDate,Email,HasOptedOutOfEmail,Id,IsDeleted,LastName,Phone,SystemModstamp FROM Contact WHERE SystemModstamp >= 2024-03-01T12:01:00.000Z",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range instance.Requests() {
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q", r, r.Header.Get("Content-Type"))
		}
	}
}
