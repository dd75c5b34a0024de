package pokeapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/pokeserver"
	"github.com/tidwall/gjson"
)

// config points the source at srv.
func config(srv *integtest.Server, pageSize int) string {
	if pageSize == 0 {
		return fmt.Sprintf(`{"base_url":%q}`, srv.URL+"/api/v2")
	}
	return fmt.Sprintf(`{"base_url":%q,"page_size":%d}`, srv.URL+"/api/v2", pageSize)
}

func TestConformance(t *testing.T) {
	srv := integtest.NewServer(t, pokeserver.New(pokeserver.WithCount(12)))
	integtest.Conformance(t, Source(), config(srv, 50))
}

func TestOneRecordPerAPIRecord(t *testing.T) {
	cases := []struct {
		count, pageSize int
	}{
		{1302, 100}, {5000, 1000}, {100, 100}, {0, 20}, {7, 1},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("count %d page %d", c.count, c.pageSize), func(t *testing.T) {
			srv := integtest.NewServer(t, pokeserver.New(pokeserver.WithCount(c.count)))
			res := integtest.Sync(t, Source(), config(srv, c.pageSize))
			names := map[string]bool{}
			for _, r := range res.Records("pokemon") {
				names[gjson.GetBytes(r, "name").String()] = true
			}
			if n := len(res.Records("pokemon")); n != c.count || len(names) != c.count {
				t.Errorf("%d records, %d distinct", n, len(names))
			}
			if len(res.Records("type")) != 21 || len(res.Records("ability")) != 367 {
				t.Errorf("types %d abilities %d", len(res.Records("type")), len(res.Records("ability")))
			}
		})
	}
}

// The list endpoints are paged with limit and offset, as PokeAPI documents.
func TestListRequests(t *testing.T) {
	srv := integtest.NewServer(t, pokeserver.New(pokeserver.WithCount(25)))
	integtest.Sync(t, Source(), config(srv, 10), integtest.WithStreams("pokemon"))
	var got []string
	for _, r := range srv.Requests() {
		got = append(got, r.String())
		if r.Method != http.MethodGet {
			t.Errorf("%s: want GET", r)
		}
	}
	want := []string{
		"GET /api/v2/pokemon?limit=10&offset=0",
		"GET /api/v2/pokemon?limit=10&offset=10",
		"GET /api/v2/pokemon?limit=10&offset=20",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A maintenance page and a wrong base_url are clear errors (429s, 5xx
// bursts and cut-off bodies are TestFailures').
func TestFaults(t *testing.T) {
	html := integtest.NewServer(t, pokeserver.New(pokeserver.WithFaults(func(r *http.Request, n int) (int, string, bool) {
		return http.StatusOK, "<html><body>maintenance</body></html>", true
	})))
	res := integtest.Sync(t, Source(), config(html, 0), integtest.WithExpectedFailure())
	if msg := res.Failure(); res.ExitCode != 1 || !strings.Contains(msg, "JSON") || !strings.Contains(msg, "/pokemon") {
		t.Errorf("an HTML page must be a clear error naming the URL: exit %d, %q", res.ExitCode, msg)
	}

	wrong := integtest.NewServer(t, http.NotFoundHandler())
	res = integtest.Sync(t, Source(), fmt.Sprintf(`{"base_url":%q}`, wrong.URL+"/wrong"),
		integtest.WithProtocol(integtest.Airbyte), integtest.WithExpectedFailure())
	if msg := res.Failure(); !strings.Contains(msg, "404") || res.FailureType() != "config_error" {
		t.Errorf("a wrong base_url must be a config error naming the status: %s %q", res.FailureType(), msg)
	}
}

func TestConfigSchema(t *testing.T) {
	src := Source()
	integtest.RefusesConfigs(t, src, `{"base_url":"ftp://x"}`, `{"base_url":"nope"}`, `{"page_size":0}`, `{"page_size":"ten"}`)
	c := integtest.DecodeConfig[Config](t, src, `{}`)
	if c.BaseURL != "https://pokeapi.co/api/v2" || c.PageSize != 100 {
		t.Errorf("defaults: %+v", c)
	}
}

func TestDetailsChildStream(t *testing.T) {
	srv := integtest.NewServer(t, pokeserver.New(pokeserver.WithCount(130)))
	for _, withParent := range []bool{true, false} {
		streams := []string{"pokemon_details"}
		if withParent {
			streams = append(streams, "pokemon")
		}
		res := integtest.Sync(t, Source(), config(srv, 50), integtest.WithStreams(streams...))
		got := res.Records("pokemon_details")
		if len(got) != 130 {
			t.Fatalf("parent selected=%v: %d details, want 130", withParent, len(got))
		}
		for i, rec := range got { // parent order is kept despite parallel requests
			if id := gjson.GetBytes(rec, "id").Int(); id != int64(i+1) {
				t.Fatalf("detail %d has id %d", i, id)
			}
		}
		if withParent != (len(res.Records("pokemon")) == 130) {
			t.Errorf("parent selected=%v but %d parent records emitted", withParent, len(res.Records("pokemon")))
		}
	}
}

func TestFailingLaterPageIsATransientError(t *testing.T) {
	// The second page fails for good: the error names it, no panic.
	broken := integtest.NewServer(t, pokeserver.New(pokeserver.WithCount(300), pokeserver.WithFaults(func(r *http.Request, n int) (int, string, bool) {
		if r.URL.Query().Get("offset") == "100" {
			return http.StatusBadGateway, `{"detail":"upstream down"}`, true
		}
		return 0, "", false
	})))
	res := integtest.Sync(t, Source(), config(broken, 0),
		integtest.WithProtocol(integtest.Airbyte), integtest.WithStreams("pokemon"), integtest.WithExpectedFailure())
	if msg := res.Failure(); res.FailureType() != "transient_error" || !strings.Contains(msg, "502") || !strings.Contains(msg, "offset=100") {
		t.Fatalf("failure %q (%s)", msg, res.FailureType())
	}
	if len(res.Records("pokemon")) != 100 {
		t.Errorf("the first page's records must still be written: %d", len(res.Records("pokemon")))
	}
}
