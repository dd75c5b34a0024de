package salesforce

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/integ/integ/integ"

	"github.com/integ/integ/integtest"
)

// allStreams selects every queryable object of the fixture org: integtest
// only selects the streams a source declares, and these are listed at run
// time.
var allStreams = integtest.WithStreams("Account", "Contact", "Opportunity", "AccountHistory", "AccountShare", "Document__c")

func TestConformance(t *testing.T) {
	o := newOrg()
	_, _, cfg := o.servers(t)
	cfg["bulk_objects"] = []string{"Contact"}
	integtest.Conformance(t, Source(), cfg, allStreams, integtest.WithSecrets(accessToken))
}

// both runs f once per protocol.
func both(t *testing.T, f func(t *testing.T, p integtest.Protocol)) {
	for _, p := range integtest.Protocols() {
		t.Run(string(p), func(t *testing.T) { f(t, p) })
	}
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
	if n := res.Counts(); n["Account"] != 4 || n["Contact"] != 2 {
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
		"GET /services/data/v61.0/sobjects/AccountShare/describe",
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

// A first sync reads everything and leaves a bookmark per object; the next
// one asks only for what changed since (>=: the last record again), on
// SystemModstamp, CreatedDate for a history object, LastModifiedDate for a
// sharing object.
func TestIncremental(t *testing.T) {
	both(t, func(t *testing.T, p integtest.Protocol) {
		o := newOrg()
		_, instance, cfg := o.servers(t)
		cfg["bulk_objects"] = []string{"Contact"}
		streams := integtest.WithStreams("Account", "Contact", "AccountHistory", "AccountShare")
		first := integtest.Sync(t, Source(), cfg, streams, integtest.WithProtocol(p), integtest.WithMode(integ.ModeIncremental))
		if n := first.Counts(); n["Account"] != 5 || n["Contact"] != 3 || n["AccountHistory"] != 2 || n["AccountShare"] != 2 {
			t.Fatalf("first sync %v", n)
		}
		o.objects[0].records = 7 // two new accounts
		instance.Reset()
		next := integtest.Sync(t, Source(), cfg, streams, integtest.WithProtocol(p), integtest.WithMode(integ.ModeIncremental),
			integtest.WithState(first.FinalState()))
		if n := next.Counts(); n["Account"] != 3 || n["Contact"] != 1 || n["AccountHistory"] != 1 || n["AccountShare"] != 1 {
			t.Errorf("second sync %v, want the last record of each object again and the 2 new accounts", n)
		}
		wantWhere := map[string]string{
			"Account":        "WHERE SystemModstamp >= 2024-03-01T12:04:00.000Z ORDER BY SystemModstamp ASC",
			"AccountHistory": "WHERE CreatedDate >= 2024-03-01T12:01:00.000Z ORDER BY CreatedDate ASC",
			"AccountShare":   "WHERE LastModifiedDate >= 2024-03-01T12:01:00.000Z ORDER BY LastModifiedDate ASC",
			"Contact":        "WHERE SystemModstamp >= 2024-03-01T12:02:00.000Z",
		}
		queries := 0
		for _, r := range instance.Requests() {
			q := r.Query.Get("q")
			if r.Method == http.MethodPost {
				var body struct{ Query string }
				json.Unmarshal(r.Body, &body)
				q = body.Query
			}
			if q == "" {
				continue
			}
			queries++
			_, obj, _ := strings.Cut(q, " FROM ")
			obj, _, _ = strings.Cut(obj, " ")
			if !strings.HasSuffix(q, " FROM "+obj+" "+wantWhere[obj]) {
				t.Errorf("query %q, want it to end with %q", q, wantWhere[obj])
			}
		}
		if queries != 4 {
			t.Errorf("%d queries, want 4", queries)
		}
	})
}

// Bulk API 2.0 results come in pages of bulk_page_size rows, each naming
// the next in its Sforce-Locator header; CSV nulls, quotes and newlines
// come out as the REST API would write them.
func TestBulkPagesAndValues(t *testing.T) {
	o := newOrg()
	o.objects[0].records = 7
	_, instance, cfg := o.servers(t)
	rest := integtest.Sync(t, Source(), cfg, integtest.WithStreams("Account"))
	cfg["bulk_objects"] = []string{"Account"}
	cfg["bulk_page_size"] = 3
	instance.Reset()
	bulk := integtest.Sync(t, Source(), cfg, integtest.WithStreams("Account"))
	var locators []string
	for _, r := range instance.Requests() {
		if strings.HasSuffix(r.Path, "/results") {
			if r.Query.Get("maxRecords") != "3" {
				t.Errorf("%s: maxRecords", r)
			}
			locators = append(locators, r.Query.Get("locator"))
		}
	}
	if want := []string{"", "Mw==", "Ng=="}; !slices.Equal(locators, want) {
		t.Errorf("locators %q, want %q", locators, want)
	}
	// The same records, less BillingAddress (compound: not in bulk queries).
	a, b := rest.Records("Account"), bulk.Records("Account")
	if len(a) != 7 || len(b) != 7 {
		t.Fatalf("%d REST and %d bulk records", len(a), len(b))
	}
	for i := range a {
		var ra, rb map[string]any
		json.Unmarshal(a[i], &ra)
		json.Unmarshal(b[i], &rb)
		delete(ra, "BillingAddress")
		if !reflect.DeepEqual(ra, rb) {
			t.Errorf("record %d\nREST %s\nbulk %s", i, a[i], b[i])
		}
	}
}

// A job that fails says so, with the API's reason.
func TestBulkJobFailed(t *testing.T) {
	o := newOrg()
	_, _, cfg := o.servers(t)
	cfg["bulk_objects"] = []string{"Account"}
	o.SetFault(func(r *http.Request, n int) (int, http.Header, string, bool) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/jobs/query/") {
			return http.StatusOK, nil, `{"id":"750R0000000zlh1IAA","state":"Failed","errorMessage":"INVALID_FIELD: No such column 'Foo'"}`, true
		}
		return 0, nil, "", false
	})
	res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("Account"), integtest.WithExpectedFailure())
	if msg := res.Failure(); !strings.Contains(msg, "job 750R0000000zlh1IAA is failed: INVALID_FIELD: No such column 'Foo'") {
		t.Errorf("failure %q", msg)
	}
}

// include_deleted reads through queryAll: the REST endpoint and the bulk
// operation.
func TestIncludeDeleted(t *testing.T) {
	o := newOrg()
	_, instance, cfg := o.servers(t)
	cfg["include_deleted"] = true
	cfg["bulk_objects"] = []string{"Contact"}
	res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("Account", "Contact"), integtest.WithProtocol(integtest.Airbyte))
	if n := res.Counts(); n["Account"] != 5 || n["Contact"] != 3 {
		t.Errorf("records %v", n)
	}
	var restAll, bulkAll bool
	for _, r := range instance.Requests() {
		restAll = restAll || r.Path == apiPath+"/queryAll"
		bulkAll = bulkAll || (r.Method == http.MethodPost && strings.Contains(string(r.Body), `"operation":"queryAll"`))
		if r.Path == apiPath+"/query" {
			t.Errorf("%s: want queryAll", r)
		}
	}
	if !restAll || !bulkAll {
		t.Errorf("queryAll: REST %v, bulk %v", restAll, bulkAll)
	}
}
