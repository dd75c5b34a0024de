package rest

import (
	"strings"
	"testing"

	"github.com/integ/integ/integtest"
)

// TestServerRefusalsSayTheServerRefused: a request the server refuses (a
// missing revision header, a bad Accept) is reported as the server's
// refusal, with the status and the body's message, not as invalid stream
// declarations; in discover and in a sync, in both protocols.
func TestServerRefusalsSayTheServerRefused(t *testing.T) {
	klaviyo := integtest.NewServer(t, newKlaviyoAPI(3))
	noRevision := strings.Replace(klaviyoConfig(t, klaviyo), `"revision": "2024-10-15", `, "", 1)
	github := integtest.NewServer(t, newGitHubAPI(3))
	badAccept := strings.Replace(githubConfig(t, github), `"Accept": "application/vnd.github+json"`, `"Accept": "text/html"`, 1)
	tests := []struct {
		name   string
		config string
		cmd    string
		want   []string
	}{
		{"discover, Airbyte", noRevision, "discover",
			[]string{`the server refused the request that reads records to infer the schema: GET ` + klaviyo.URL + `/api/profiles?`, `answered 400 Bad Request: Missing or invalid revision header`}},
		{"check, Airbyte", badAccept, "check",
			[]string{`406 Not Acceptable: Unsupported 'Accept' header: text/html`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := integtest.Check
			if tt.cmd == "discover" {
				run = integtest.Discover
			}
			res := run(t, Source(), tt.config, integtest.WithProtocol(integtest.Airbyte), integtest.WithExpectedFailure())
			out := res.Failure() + "\n" + strings.Join(res.Logs(), "\n")
			for _, m := range res.MessagesOf("CONNECTION_STATUS") {
				out += "\n" + string(m)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "stream declarations are invalid") {
				t.Errorf("a server's refusal is reported as a config declaration error:\n%s", out)
			}
		})
	}
	t.Run("sync, Singer", func(t *testing.T) {
		// The schema is given: the refusal comes from the sync itself.
		cfg := strings.Replace(badAccept, `"name": "repositories",`, `"name": "repositories", "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},`, 1)
		cfg = strings.Replace(cfg, `"name": "org_issues",`, `"name": "org_issues", "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "updated_at": {"type": "string"}}},`, 1)
		res := integtest.Sync(t, Source(), cfg, integtest.WithStreams("repositories", "org_issues"), integtest.WithExpectedFailure())
		if !strings.Contains(res.Failure(), "406 Not Acceptable: Unsupported 'Accept' header") {
			t.Errorf("failure %q does not give the server's answer", res.Failure())
		}
	})
}

// TestDiscoverReportsTheFailingStream: one stream the server refuses does
// not fail discover for the others.
func TestDiscoverReportsTheFailingStream(t *testing.T) {
	srv := integtest.NewServer(t, newGitHubAPI(3))
	cfg := strings.Replace(githubConfig(t, srv), `"path": "/repos/acme/app/pulls"`, `"path": "/repos/acme/nope/pulls"`, 1)
	res := integtest.Discover(t, Source(), cfg, integtest.WithProtocol(integtest.Airbyte), integtest.WithExpectedFailure())
	cats := res.MessagesOf("CATALOG")
	if len(cats) != 1 {
		t.Fatalf("%d catalogs, want 1:\n%s", len(cats), strings.Join(res.Logs(), "\n"))
	}
	for _, s := range []string{`"issues"`, `"commits"`, `"repositories"`, `"org_issues"`} {
		if !strings.Contains(string(cats[0]), s) {
			t.Errorf("catalog lacks stream %s", s)
		}
	}
	if strings.Contains(string(cats[0]), `"pulls"`) {
		t.Error("catalog has the failing stream pulls")
	}
	out := res.Failure() + "\n" + strings.Join(res.Logs(), "\n")
	if !strings.Contains(out, `stream "pulls": the server refused the request that reads records to infer the schema: GET `+srv.URL+`/repos/acme/nope/pulls?`) || !strings.Contains(out, "404 Not Found: Not Found") {
		t.Errorf("the pulls failure is not reported:\n%s", out)
	}
}

// TestShortTokenDoesNotMangleWords: a one-character secret is redacted as
// a value, not inside the words of messages ("neREDACTEDt").
func TestShortTokenDoesNotMangleWords(t *testing.T) {
	srv := integtest.NewServer(t, newGitHubAPI(1))
	cfg := strings.Replace(githubConfig(t, srv), githubToken, "e", 1)
	res := integtest.Sync(t, Source(), cfg, integtest.WithExpectedFailure())
	if !strings.Contains(res.Failure(), "Bad credentials") || !strings.Contains(res.Failure(), "refused the credentials") {
		t.Errorf("failure %q", res.Failure())
	}
	if strings.Contains(res.Failure()+strings.Join(res.Logs(), "\n"), "REDACTED") && strings.Contains(res.Failure(), "crREDACTED") {
		t.Errorf("words are mangled: %q", res.Failure())
	}
}
