package requests_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/integ/integ/requests"
)

func TestParseLinkHeader(t *testing.T) {
	tests := []struct {
		in   string
		want []requests.Link
	}{
		{`<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"`, []requests.Link{
			{URL: "https://api.github.com/x?page=2", Rel: "next", Params: map[string]string{"rel": "next"}},
			{URL: "https://api.github.com/x?page=5", Rel: "last", Params: map[string]string{"rel": "last"}},
		}},
		{`<a,b;c>;REL=next;title="x, \"y\"; z" , </p>;rel=prev`, []requests.Link{
			{URL: "a,b;c", Rel: "next", Params: map[string]string{"rel": "next", "title": `x, "y"; z`}},
			{URL: "/p", Rel: "prev", Params: map[string]string{"rel": "prev"}},
		}},
		{`<x>; rel="prev next"; rel=last`, []requests.Link{
			{URL: "x", Rel: "prev next", Params: map[string]string{"rel": "prev next"}},
		}},
		{`garbage, <y>; rel=next`, []requests.Link{{URL: "y", Rel: "next", Params: map[string]string{"rel": "next"}}}},
		{`<unterminated; rel=next`, nil},
		{``, nil},
	}
	for _, tt := range tests {
		if got := requests.ParseLinkHeader(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseLinkHeader(%q) =\n%#v\nwant\n%#v", tt.in, got, tt.want)
		}
	}
	if l := requests.ParseLinkHeader(`<x>; rel="prev NEXT"`)[0]; !l.HasRel("next") || l.HasRel("last") {
		t.Errorf("HasRel wrong for %+v", l)
	}
}

func FuzzParseLinkHeader(f *testing.F) {
	for _, s := range []string{
		`<https://api/x?page=2>; rel="next", <https://api/x?page=5>; rel="last"`,
		`<a,b>;rel=next;title="q\"uo,te"`, `<`, `<>`, `;;,,<x>;=;a=`, `<x>; a="\`, "<x>;\trel = next ,",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		links := requests.ParseLinkHeader(h)
		var parts []string
		for _, l := range links {
			if strings.Contains(l.URL, ">") {
				t.Fatalf("URL %q contains '>'", l.URL)
			}
			if l.Rel != l.Params["rel"] {
				t.Fatalf("Rel %q != rel param %q", l.Rel, l.Params["rel"])
			}
			parts = append(parts, l.String())
		}
		// Formatting and parsing again is lossless.
		again := requests.ParseLinkHeader(strings.Join(parts, ", "))
		if len(links) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(links, again) {
			t.Fatalf("round trip of %q:\n%#v\n%#v", h, links, again)
		}
	})
}
