package rest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integtest"
)

// TestBadConfigsBeforeAnyRequest: every config mistake the issue lists
// (and their kin) is a config error naming the key, where it is and what
// to write instead, before any request is sent.
func TestBadConfigsBeforeAnyRequest(t *testing.T) {
	srv := integtest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[]`))
	}))
	tests := []struct {
		name   string
		config string // with BASE for the server's URL
		want   []string
	}{
		{"a typo'd replication_key",
			`{"base_url": "BASE", "streams": [{"name": "issues", "path": "/i", "replcation_key": "updated_at"}]}`,
			[]string{`streams[0] ("issues"): unknown key "replcation_key"; did you mean "replication_key"?`}},
		{"record_path for records_path",
			`{"base_url": "BASE", "streams": [{"name": "issues", "path": "/i", "record_path": "data"}]}`,
			[]string{`streams[0] ("issues"): unknown key "record_path"; did you mean "records_path"?`}},
		{"cursor_path in a pagination block",
			`{"base_url": "BASE", "streams": [{"name": "c", "path": "/c", "pagination": {"type": "cursor", "param": "after", "cursor_path": "next"}}]}`,
			[]string{`streams[0] ("c").pagination: unknown key "cursor_path"; did you mean "path"?`}},
		{"a typo at the top and in auth",
			`{"base_url": "BASE", "start_data": "2024-01-01", "auth": {"type": "bearer", "tokn": "x"}, "streams": [{"name": "s", "path": "/s"}]}`,
			[]string{`unknown key "start_data"; did you mean "start_date"?`, `auth: unknown key "tokn"; did you mean "token"?`}},
		{"jq indexing in a cursor path",
			`{"base_url": "BASE", "streams": [{"name": "c", "path": "/c", "pagination": {"type": "cursor", "param": "starting_after", "path": "data[-1].id"}}]}`,
			[]string{`stream "c": pagination.path "data[-1].id" is not a valid gjson path: [-1] is jq or JavaScript indexing`, "pagination.type last_record"}},
		{"JSONPath records_path",
			`{"base_url": "BASE", "streams": [{"name": "c", "path": "/c", "records_path": "$.data"}]}`,
			[]string{`stream "c": records_path "$.data" is not a valid gjson path: it starts with $ (JSONPath): a gjson path has no root symbol, write "data"`}},
		{"an unknown template value",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/s", "replication_key": "u", "params": {"since": "{{bookmrk}}"}}]}`,
			[]string{`stream "s": params.since: the placeholder {{bookmrk}} names an unknown value "bookmrk"; did you mean "bookmark"?`}},
		{"an unknown template format",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/s", "replication_key": "u", "params": {"created[gte]": "{{bookmark | unixtime}}"}}]}`,
			[]string{`stream "s": params.created[gte]: the placeholder {{bookmark | unixtime}} has an unknown format "unixtime"; did you mean "unix"?`}},
		{"an unclosed placeholder",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/s", "replication_key": "u", "params": {"since": "{{bookmark"}}]}`,
			[]string{`stream "s": params.since: the placeholder at "{{bookmark" is not closed with }}`}},
		{"the bookmark without a replication_key",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/s", "params": {"since": "{{bookmark}}"}}]}`,
			[]string{`stream "s": {{bookmark}} (or incremental_param) needs a replication_key`}},
		{"a parent field without a parent",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/repos/{{parent.name}}/issues"}]}`,
			[]string{`stream "s": {{parent.<field>}} is used, but the stream has no parent`}},
		{"a typo'd parent",
			`{"base_url": "BASE", "streams": [{"name": "repositories", "path": "/r"}, {"name": "s", "parent": "repository", "path": "/repos/{{parent.name}}/issues"}]}`,
			[]string{`stream "s": parent "repository" is not a stream of the config; did you mean "repositories"?`}},
		{"short_page_ends without size",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/s", "pagination": {"type": "page", "short_page_ends": true}}]}`,
			[]string{`stream "s": pagination.short_page_ends needs pagination.size`}},
		{"a start_date that is no date",
			`{"base_url": "BASE", "start_date": "yesterday", "streams": [{"name": "s", "path": "/s"}]}`,
			[]string{`start_date "yesterday" is not an RFC 3339 date-time or a YYYY-MM-DD date`}},
		{"a nested replication key the schema lacks",
			`{"base_url": "BASE", "streams": [{"name": "p", "path": "/p", "replication_key": "attributes.updatd", "schema": {"type": "object", "properties": {"attributes": {"type": "object", "properties": {"updated": {"type": "string"}}}}}}]}`,
			[]string{`stream "p": replication_key "attributes.updatd" is not a property of the stream's schema ("attributes" has no field "updatd"); did you mean "updated"?`}},
		{"a body with GET",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/s", "body": {"q": 1}}]}`,
			[]string{`stream "s": body is only sent with method POST`}},
		{"a body cursor without POST",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/s", "pagination": {"type": "body_cursor", "path": "paging.next.after", "field": "after"}}]}`,
			[]string{`stream "s": pagination.type "body_cursor" needs method POST`}},
		{"an unknown format",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/s", "format": "jsonlines"}]}`,
			[]string{`stream "s": format "jsonlines" is unknown (use json or jsonl)`}},
		{"a pagination type typo",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/s", "pagination": {"type": "link"}}]}`,
			[]string{`stream "s": pagination.type "link" is unknown`}},
		{"an OpenAPI placeholder in the path",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/repos/{owner}/{repo}/issues"}]}`,
			[]string{`stream "s": path "/repos/{owner}/{repo}/issues" has {owner}, an OpenAPI placeholder tap-rest does not fill`}},
		{"Airbyte low-code template habits",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/s", "replication_key": "u", "params": {"since": "{{ stream_state.updated_at }}", "from": "{{ config.start_date }}"}}]}`,
			[]string{`params.since: the placeholder {{ stream_state.updated_at }} names an unknown value "stream_state.updated_at"; did you mean "bookmark"?`, `params.from: the placeholder {{ config.start_date }} names an unknown value "config.start_date"; did you mean "start_date"?`}},
		{"a template in the path other than parent",
			`{"base_url": "BASE", "streams": [{"name": "s", "path": "/s/{{now}}"}]}`,
			[]string{`stream "s": path "/s/{{now}}": only {{parent.<field>}} may be used in a path`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Reset()
			_, _, err := resolve(t, strings.ReplaceAll(tt.config, "BASE", srv.URL))
			mustContain(t, err, tt.want...)
			if k := integ.KindOf(err); k != integ.ConfigFailure {
				t.Errorf("kind = %v, want a config error", k)
			}
			for _, w := range tt.want {
				if msg := integ.UserMessage(err); !strings.Contains(msg, w) {
					t.Errorf("user message %q lacks %q", msg, w)
				}
			}
			if n := len(srv.Requests()); n > 0 {
				t.Errorf("%d requests were sent before the error", n)
			}
		})
	}
}
