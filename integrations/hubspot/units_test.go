package hubspot

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

var testKinds = map[string]valueKind{"n": asNumber, "b": asBool, "d": asTyped}

func TestTypedValues(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"id":"1","properties":{"n":"12.50","b":"true","d":"2024-01-05","s":"12"}}`, `{"id":"1","properties":{"n":12.50,"b":true,"d":"2024-01-05","s":"12"}}`},
		{`{"properties":{"n":"","b":"","d":"","s":""}}`, `{"properties":{"n":null,"b":null,"d":null,"s":""}}`},
		{`{"properties":{"n":null,"b":null,"d":null}}`, `{"properties":{"n":null,"b":null,"d":null}}`},
		{`{"properties":{"n":"-1e3","b":"false"}}`, `{"properties":{"n":-1e3,"b":false}}`},
		// what does not parse stays as HubSpot sent it
		{`{"properties":{"n":"12,5","b":"yes"}}`, `{"properties":{"n":"12,5","b":"yes"}}`},
		{`{"properties":{"n":"NaN","b":"TRUE"}}`, `{"properties":{"n":"NaN","b":"TRUE"}}`},
		{`{"properties":{"n":"01"}}`, `{"properties":{"n":"01"}}`},
		{`{"properties":{"n":" 1"}}`, `{"properties":{"n":" 1"}}`},
		{`{"properties":{"n":7}}`, `{"properties":{"n":7}}`},
		{`{"properties":{"n\u0022x":"1"}}`, `{"properties":{"n\u0022x":"1"}}`},
		{`{"id":"1","properties":"x"}`, `{"id":"1","properties":"x"}`},
		{`{"id":"1"}`, `{"id":"1"}`},
	}
	for _, c := range cases {
		got := string(appendTyped(nil, gjson.Parse(c.in), testKinds))
		if got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

// The transform writes one JSON object for any record HubSpot could send,
// and changes nothing but property values.
func FuzzTypedValues(f *testing.F) {
	f.Add(`{"id":"1","properties":{"n":"12.50","b":"true","d":"","s":"x"},"archived":false}`)
	f.Add(`{"properties":{"n":"1e999","b":"false"}}`)
	f.Add(`{"properties":{"n":"-","b":null,"d":"\u0000"}}`)
	f.Fuzz(func(t *testing.T, in string) {
		rec := gjson.Parse(in)
		if !json.Valid([]byte(in)) || !rec.IsObject() {
			return
		}
		out := appendTyped(nil, rec, testKinds)
		if !json.Valid(out) || !gjson.ParseBytes(out).IsObject() {
			t.Fatalf("%s -> invalid %s", in, out)
		}
		var a, b map[string]json.RawMessage
		_ = json.Unmarshal([]byte(in), &a)
		_ = json.Unmarshal(out, &b)
		if len(a) != len(b) {
			t.Fatalf("%s -> %s: members changed", in, out)
		}
	})
}

func TestRateLimitClassifier(t *testing.T) {
	search, _ := url.Parse("https://api.hubapi.com/crm/v3/objects/deals/search")
	list, _ := url.Parse("https://api.hubapi.com/crm/v3/objects/deals")
	cases := []struct {
		name   string
		status int
		url    *url.URL
		header http.Header
		body   string
		action requests.RetryAction
		wait   time.Duration
	}{
		{"ten secondly", 429, list, nil, bodyTenSecondly, requests.AdviceRetry, 10 * time.Second},
		{"interval header", 429, list, http.Header{"X-Hubspot-Ratelimit-Interval-Milliseconds": {"2000"}}, bodyTenSecondly, requests.AdviceRetry, 2 * time.Second},
		{"secondly", 429, list, nil, bodySecondly, requests.AdviceRetry, time.Second},
		{"search without a body", 429, search, nil, "", requests.AdviceRetry, time.Second},
		{"retry-after wins", 429, search, http.Header{"Retry-After": {"3"}}, bodySecondly, requests.AdviceRetry, 3 * time.Second},
		{"daily", 429, list, nil, bodyDaily, requests.AdviceStop, 0},
		{"not a 429", 403, list, nil, bodyMissingScopes, requests.AdviceDefault, 0},
		{"5xx", 502, list, nil, "", requests.AdviceDefault, 0},
	}
	for _, c := range cases {
		resp := &http.Response{StatusCode: c.status, Header: c.header, Request: &http.Request{URL: c.url}}
		if resp.Header == nil {
			resp.Header = http.Header{}
		}
		a := RateLimits()(resp, []byte(c.body), time.Now())
		if a.Action != c.action || a.Wait != c.wait || (c.action != requests.AdviceDefault) != a.RateLimited {
			t.Errorf("%s: %+v", c.name, a)
		}
	}
}

func TestConfig(t *testing.T) {
	src := Source()
	c := integtest.DecodeConfig[Config](t, src, `{"credentials":{"auth_type":"private_app","access_token":"pat-na1-x"}}`)
	if c.BaseURL != DefaultBaseURL || c.PageSize != 100 || c.SearchRate != 4 || c.Credentials.PrivateApp == nil {
		t.Errorf("defaults: %+v", c)
	}
	integtest.RefusesConfigs(t, src,
		`{}`,
		`{"credentials":{"auth_type":"api_key","api_key":"x"}}`,
		`{"credentials":{"auth_type":"oauth2.0","client_id":"x"}}`,
		`{"credentials":{"auth_type":"private_app","access_token":"pat-na1-x"},"page_size":101}`,
		`{"credentials":{"auth_type":"private_app","access_token":"pat-na1-x"},"base_url":"api.hubapi.com"}`,
		`{"credentials":{"auth_type":"private_app","access_token":"pat-na1-x"},"start_date":"yesterday"}`,
	)
}

// An account with many properties: a full refresh reads through the
// search, whose body takes them, instead of a URL too long for HubSpot.
func TestManyProperties(t *testing.T) {
	f := newFixture(3)
	o := f.objects["companies"]
	for i := range 300 {
		o.props = append(o.props, fixtureProperty{fmt.Sprintf("custom_property_with_a_rather_long_name_%03d", i), "Custom", "string", "text"})
	}
	srv := serve(t, f)
	res := integtest.Sync(t, Source(), tokenConfig(srv), integtest.WithStreams("companies", "deals"), integtest.WithMode(integ.ModeFullRefresh))
	if len(res.Records("companies")) != 3 || len(res.Records("deals")) != 3 {
		t.Fatalf("companies %d deals %d", len(res.Records("companies")), len(res.Records("deals")))
	}
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/crm/v3/objects/companies") && (r.Method != http.MethodPost || len(r.Query) != 0) {
			t.Errorf("companies read with %s", r)
		}
		if strings.HasPrefix(r.Path, "/crm/v3/objects/deals") && r.Method != http.MethodGet {
			t.Errorf("deals read with %s", r)
		}
	}
	if body := searchBodies(f, "companies")[0]; !strings.Contains(body, `"custom_property_with_a_rather_long_name_299"`) {
		t.Errorf("search body %s", body)
	}
}

// A new window starts at the sorted property's value, in either of the
// forms HubSpot writes times, not at updatedAt.
func TestSearchWindowStart(t *testing.T) {
	for _, v := range []string{`"1704067260000"`, `"2024-01-01T00:01:00Z"`, `"2024-01-01T00:01:00.000Z"`} {
		s := &searcher{object: objects[2], url: "https://api.hubapi.com/crm/v3/objects/deals/search", limit: 100,
			cursor: requests.BodyCursor("paging.next.after", "after")}
		first := s.query(epoch)
		body := `{"total":20000,"results":[{"id":"9","properties":{"hs_lastmodifieddate":` + v + `},"updatedAt":"2030-01-01T00:00:00Z"}],"paging":{"next":{"after":"10000"}}}`
		resp, err := requests.ReadJSON(&http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		next, err := s.Next(first, resp, 1)
		if err != nil || next == nil {
			t.Fatalf("%s: %v %v", v, next, err)
		}
		hr, err := next.Build(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(hr.Body)
		if !strings.Contains(string(b), `"value":"1704067260000"`) || strings.Contains(string(b), `"after"`) {
			t.Errorf("%s: next window %s", v, b)
		}
	}
}

// BenchmarkTypedValues is the transform's cost on a record with 60
// properties, a third of them typed.
func BenchmarkTypedValues(b *testing.B) {
	kinds := map[string]valueKind{}
	props := map[string]string{}
	for i := range 60 {
		name := fmt.Sprintf("property_%02d", i)
		switch i % 6 {
		case 0:
			kinds[name], props[name] = asNumber, "1234.56"
		case 1:
			kinds[name], props[name] = asBool, "true"
		default:
			props[name] = "some text value"
		}
	}
	p, _ := json.Marshal(props)
	rec := gjson.Parse(`{"id":"512","properties":` + string(p) + `,"createdAt":"2024-01-01T00:00:00Z","updatedAt":"2024-01-02T00:00:00Z","archived":false}`)
	dst := make([]byte, 0, 4096)
	b.SetBytes(int64(len(rec.Raw)))
	b.ReportAllocs()
	for b.Loop() {
		dst = appendTyped(dst[:0], rec, kinds)
	}
}
