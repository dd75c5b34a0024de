package odata

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/integ/integ/requests"
)

func TestEncode(t *testing.T) {
	since := time.Date(2024, 5, 1, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	filter, err := Cmp("Updated", "ge", since)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		q    Query
		want string
	}{
		{"empty", Query{}, ""},
		{"all options", Query{
			Select:  []string{"Id", "OrderNo"},
			Expand:  []string{"Items($select=Id,PartNo)"},
			Filter:  filter,
			OrderBy: []string{"Updated", "Id desc"},
			Top:     10,
			Skip:    20,
		}, "$select=Id,OrderNo&$expand=Items($select%3DId,PartNo)&$filter=Updated%20ge%202024-05-01T00:00:00Z&$orderby=Updated,Id%20desc&$top=10&$skip=20"},
		{"a string literal with a quote, an ampersand and a plus", Query{Filter: "Name eq " + String("O'Brien & Co+")},
			"$filter=Name%20eq%20'O''Brien%20%26%20Co%2B'"},
		{"offset times are written in UTC", Query{Filter: "Updated ge " + DateTimeOffset(time.Date(2024, 5, 1, 0, 0, 0, 500, time.FixedZone("", -3600)))},
			"$filter=Updated%20ge%202024-05-01T01:00:00.0000005Z"},
		{"non-ASCII", Query{Filter: "City eq " + String("Göteborg")}, "$filter=City%20eq%20'G%C3%B6teborg'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.q.Encode(); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	q := Query{Select: []string{"Id"}, Filter: "Id gt 5"}
	for base, want := range map[string]string{
		"https://query.storm.io/Query/2.0/Orders/Orders":      "https://query.storm.io/Query/2.0/Orders/Orders?$select=Id&$filter=Id%20gt%205",
		"https://x.example/svc/Orders?api-version=2":          "https://x.example/svc/Orders?api-version=2&$select=Id&$filter=Id%20gt%205",
		"https://x.example/svc/Orders?sap-client=100&x=a%20b": "https://x.example/svc/Orders?sap-client=100&x=a%20b&$select=Id&$filter=Id%20gt%205",
	} {
		if got := q.Request(base).URL(); got != want {
			t.Errorf("%s:\ngot  %s\nwant %s", base, got, want)
		}
	}
	if got := (Query{}).Request("https://x.example/svc/A").URL(); got != "https://x.example/svc/A" {
		t.Errorf("empty query: %s", got)
	}
	r := MaxPageSize(q.Request("https://x.example/svc/A"), 500)
	req, err := r.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("Prefer"); got != "odata.maxpagesize=500" {
		t.Errorf("Prefer %q", got)
	}
	if req.Header.Get("Accept") != "application/json" || req.Header.Get("OData-MaxVersion") != "4.0" {
		t.Errorf("headers %v", req.Header)
	}
	if got := req.URL.Query().Get("$filter"); got != "Id gt 5" {
		t.Errorf("the server reads $filter=%q", got)
	}
}

func TestLiteral(t *testing.T) {
	ts := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	good := []struct {
		v    any
		want string
	}{
		{nil, "null"}, {true, "true"}, {false, "false"},
		{"", "''"}, {"it's", "'it''s'"}, {"''", "''''''"},
		{ts, "2024-05-01T00:00:00Z"},
		{42, "42"}, {int32(-7), "-7"}, {int64(9007199254740993), "9007199254740993"},
		{uint32(7), "7"}, {uint64(math.MaxUint64), "18446744073709551615"},
		{1.5, "1.5"}, {1e21, "1e+21"},
	}
	for _, c := range good {
		got, err := Literal(c.v)
		if err != nil || got != c.want {
			t.Errorf("Literal(%#v) = %q, %v; want %q", c.v, got, err, c.want)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), []string{"a"}, struct{}{}, float32(1)} {
		if got, err := Literal(bad); err == nil {
			t.Errorf("Literal(%#v) = %q, want an error", bad, got)
		}
	}
}

func TestCmpAndJoin(t *testing.T) {
	ts := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	ge, err := Cmp("Updated", "ge", ts)
	if err != nil || ge != "Updated ge 2024-05-01T00:00:00Z" {
		t.Fatalf("%q %v", ge, err)
	}
	null, _ := Cmp("Updated", "eq", nil)
	created, _ := Cmp("Created", "ge", ts)
	got := Or(ge, And(null, created))
	want := "(Updated ge 2024-05-01T00:00:00Z) or ((Updated eq null) and (Created ge 2024-05-01T00:00:00Z))"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if And("", "a eq 1", "") != "a eq 1" || Or() != "" {
		t.Error("empty expressions must be skipped")
	}
	nested, err := Cmp("Customer/Name", "eq", "x")
	if err != nil || nested != "Customer/Name eq 'x'" {
		t.Errorf("%q %v", nested, err)
	}
	for _, c := range []struct{ prop, op string }{
		{"", "eq"}, {"1abc", "eq"}, {"a b", "eq"}, {"a/", "eq"}, {"a) or (1 eq 1", "eq"}, {"Id", "like"}, {"Id", "eq 1 or Id"},
	} {
		if s, err := Cmp(c.prop, c.op, 1); err == nil {
			t.Errorf("Cmp(%q, %q) = %q, want an error", c.prop, c.op, s)
		}
	}
}

// NextLink follows @odata.nextLink to the end, keeps the Prefer header and
// requests each link as the service wrote it.
func TestNextLinkPaging(t *testing.T) {
	var got []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RawQuery+" | "+r.Header.Get("Prefer")+" | "+r.Header.Get("OData-MaxVersion"))
		page := r.URL.Query().Get("$skiptoken")
		switch page {
		case "":
			fmt.Fprintf(w, `{"@odata.context":"x","value":[{"Id":1},{"Id":2}],"@odata.nextLink":%q}`, srv.URL+"/Orders?$select=Id&$skiptoken=Id-2")
		case "Id-2":
			fmt.Fprint(w, `{"value":[{"Id":3}],"@odata.nextLink":"Orders?$select=Id&$skiptoken=Id-3"}`) // relative
		default:
			fmt.Fprint(w, `{"value":[{"Id":4}]}`)
		}
	}))
	defer srv.Close()
	req := MaxPageSize(Query{Select: []string{"Id"}}.Request(srv.URL+"/Orders"), 2)
	p := NextLink()
	ids := 0
	for pages := 0; req != nil; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		resp, err := requests.Do(context.Background(), http.DefaultClient, req, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		n := len(resp.Get(ValuePath).Array())
		ids += n
		req, err = p.Next(req, resp, n)
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"$select=Id | odata.maxpagesize=2 | 4.0",
		"$select=Id&$skiptoken=Id-2 | odata.maxpagesize=2 | 4.0",
		"$select=Id&$skiptoken=Id-3 | odata.maxpagesize=2 | 4.0",
	}
	if ids != 4 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%d records; requests\n%s\nwant\n%s", ids, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNextLinkLoopIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"value":[{"Id":1}],"@odata.nextLink":"Orders?$skiptoken=same"}`)
	}))
	defer srv.Close()
	req := requests.New(srv.URL + "/Orders")
	p := NextLink()
	for i := 0; i < 5; i++ {
		resp, err := requests.Do(context.Background(), http.DefaultClient, req, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		req, err = p.Next(req, resp, 1)
		if errors.Is(err, requests.ErrPaginationLoop) {
			return
		}
		if err != nil || req == nil {
			t.Fatalf("%v %v", req, err)
		}
	}
	t.Fatal("a repeated nextLink was followed")
}

// unquote reads an OData string literal the way a service does.
func unquote(lit string) (string, bool) {
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return "", false
	}
	var b strings.Builder
	body := lit[1 : len(lit)-1]
	for i := 0; i < len(body); i++ {
		if body[i] == '\'' {
			if i+1 >= len(body) || body[i+1] != '\'' {
				return "", false // a lone quote ends the literal early: an injection
			}
			i++
		}
		b.WriteByte(body[i])
	}
	return b.String(), true
}

// Any string, quoted, reads back as itself: a quote in it cannot end the
// literal early; and the encoded query gives the server the same $filter.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "'", "''", "O'Brien", "a) or (1 eq 1", "x' or 'a' eq 'a", "%27", "a+b&c=d#e", "Göteborg", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lit := String(s)
		back, ok := unquote(lit)
		if !ok || back != s {
			t.Fatalf("String(%q) = %s reads back as %q (ok %v)", s, lit, back, ok)
		}
		filter := "Name eq " + lit
		enc := Query{Filter: filter, Select: []string{"Id"}}.Encode()
		vals, err := url.ParseQuery(enc)
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		if got := vals.Get("$filter"); got != filter || len(vals) != 2 || vals.Get("$select") != "Id" {
			t.Fatalf("%q encoded as %s reads back as %v", filter, enc, vals)
		}
		if strings.ContainsAny(enc, " +#") {
			t.Fatalf("unescaped space, plus or hash in %s", enc)
		}
		if utf8.ValidString(s) && !strings.Contains(lit, s) && !strings.Contains(s, "'") {
			t.Fatalf("%q changed without a quote in it: %s", s, lit)
		}
	})
}

// A DateTimeOffset literal is RFC 3339 in UTC, for any instant.
func FuzzDateTimeOffset(f *testing.F) {
	f.Add(int64(0), int64(0), int32(0))
	f.Add(int64(1714521600), int64(999999999), int32(7200))
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int32) {
		ts := time.Unix(sec%253402300799, nsec%1e9).In(time.FixedZone("", int(offset%(14*3600))))
		if ts.UTC().Year() < 1 || ts.UTC().Year() > 9999 {
			return
		}
		lit := DateTimeOffset(ts)
		back, err := time.Parse(time.RFC3339Nano, lit)
		if err != nil || !back.Equal(ts) || !strings.HasSuffix(lit, "Z") {
			t.Fatalf("%v written %s reads back %v (%v)", ts, lit, back, err)
		}
		if _, err := strconv.Unquote(`"` + lit + `"`); err != nil {
			t.Fatal(err)
		}
	})
}
