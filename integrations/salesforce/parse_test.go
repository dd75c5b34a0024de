package salesforce

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/integ/integ/integtest"
	"github.com/tidwall/gjson"
)

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"attributes":{"type":"Account","url":"/x"},"Id":"001","SystemModstamp":"2024-03-01T12:00:00.000+0000"}`,
			`{"Id":"001","SystemModstamp":"2024-03-01T12:00:00.000Z"}`},
		{`{"Id":"001","Name":"2024-03-01T12:00:00.000+0000 "}`, `{"Id":"001","Name":"2024-03-01T12:00:00.000+0000 "}`},
		{`{"CloseDate":"2024-03-01","SystemModstamp":"2024-03-01T12:00:00.000Z","n":1.5,"b":null}`,
			`{"CloseDate":"2024-03-01","SystemModstamp":"2024-03-01T12:00:00.000Z","n":1.5,"b":null}`},
		{`{"BillingAddress":{"city":"SF"},"attributes":null}`, `{"BillingAddress":{"city":"SF"}}`},
		{`{}`, `{}`},
	}
	for _, c := range cases {
		out, ok := normalize(gjson.Parse(c.in), nil, nil)
		if !ok || string(out) != c.want {
			t.Errorf("normalize(%s) = %s, want %s", c.in, out, c.want)
		}
	}
}

// FuzzNormalize: any JSON object comes out a JSON object with the same
// members, less attributes, datetimes written with a Z.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{`{"attributes":{"type":"A"},"Id":"1"}`, `{"a":"2024-03-01T12:00:00.000+0000"}`, `{"a":[1,{"b":2}],"c":"\u00e9\n"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var m map[string]any
		if json.Unmarshal([]byte(in), &m) != nil || !gjson.Valid(in) {
			return
		}
		if strings.Count(in, `"`) > 0 && hasDuplicateKeys(in) {
			return
		}
		out, _ := normalize(gjson.Parse(in), nil, nil)
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("normalize(%s) = %s: %v", in, out, err)
		}
		delete(m, "attributes")
		if len(got) != len(m) {
			t.Fatalf("normalize(%s) = %s: members differ", in, out)
		}
		for k, v := range m {
			if s, ok := v.(string); ok && isSalesforceDateTime(s) {
				v = strings.TrimSuffix(s, "+0000") + "Z"
			}
			if a, b := mustJSON(v), mustJSON(got[k]); a != b {
				t.Fatalf("member %q: %s became %s", k, a, b)
			}
		}
	})
}

func hasDuplicateKeys(in string) bool {
	seen := map[string]bool{}
	dup := false
	gjson.Parse(in).ForEach(func(k, _ gjson.Result) bool {
		dup = dup || seen[k.String()]
		seen[k.String()] = true
		return true
	})
	return dup
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var soqlSince = regexp.MustCompile(`^ WHERE SystemModstamp >= \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func TestWhereSince(t *testing.T) {
	cases := []struct{ from, want string }{
		{"", ""},
		{"2024-03-01T12:00:00Z", " WHERE SystemModstamp >= 2024-03-01T12:00:00.000Z"},
		{"2024-03-01T14:00:00.123456+02:00", " WHERE SystemModstamp >= 2024-03-01T12:00:00.123Z"},
		{"2024-03-01T12:00:00.000+0000", "error"}, // the API's own form: normalize writes it with a Z first
		{"2024-03-01 OR Name != null", "error"},
		{"yesterday", "error"},
	}
	for _, c := range cases {
		got, err := whereSince("SystemModstamp", c.from)
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("whereSince(%q) = %q, want %q", c.from, got, c.want)
		}
	}
}

// FuzzWhereSince: a bookmark from a state file never puts anything but a
// datetime literal into SOQL.
func FuzzWhereSince(f *testing.F) {
	for _, s := range []string{"2024-03-01T12:00:00Z", "2024-03-01T12:00:00.000Z' OR 1=1", "0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, from string) {
		got, err := whereSince("SystemModstamp", from)
		if err != nil || from == "" {
			return
		}
		if !soqlSince.MatchString(got) {
			t.Fatalf("whereSince(%q) = %q", from, got)
		}
	})
}

// A state whose bookmark is not a datetime is a config error, and no query
// carries it.
func TestBadBookmark(t *testing.T) {
	o := newOrg()
	_, instance, cfg := o.servers(t)
	state := json.RawMessage(`{"bookmarks":{"Account":{"replication_key":"SystemModstamp","replication_key_value":"2024-01-01T00:00:00Z OR Name != null"}}}`)
	res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("Account"), integtest.WithState(state), integtest.WithExpectedFailure())
	if !strings.Contains(res.Failure(), "is not an RFC 3339 datetime") {
		t.Errorf("failure %q", res.Failure())
	}
	for _, r := range instance.Requests() {
		if strings.Contains(r.Query.Get("q"), "OR") {
			t.Errorf("the bookmark reached a query: %s", r)
		}
	}
}

// BenchmarkNormalize: the per-record cost of dropping attributes and
// rewriting datetimes, on an Account-sized record.
func BenchmarkNormalize(b *testing.B) {
	rec := gjson.Parse(`{"attributes":{"type":"Account","url":"/services/data/v61.0/sobjects/Account/001000000000001"},"Id":"001000000000001","IsDeleted":false,"Name":"Acme","Type":"Customer","Website":"https://acme.example","AnnualRevenue":1500000.5,"NumberOfEmployees":120,"BillingAddress":{"city":"San Francisco","country":"US"},"Description":"A customer","CreatedDate":"2024-03-01T12:00:00.000+0000","LastModifiedDate":"2024-03-02T12:00:00.000+0000","SystemModstamp":"2024-03-02T12:00:00.000+0000","LastActivityDate":"2024-03-02"}`)
	var dst []byte
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = normalize(rec, nil, dst[:0])
	}
}
