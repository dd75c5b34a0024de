package pokeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/internal/pokeserver"
	"github.com/integ/integ/requests"
	"github.com/tidwall/gjson"
)

// recordsProtocol collects raw records per stream.
type recordsProtocol struct{ got map[string][]string }

func (p *recordsProtocol) Stream(run *integ.StreamRun) integ.StreamEncoder {
	return &recordsEncoder{p: p, name: run.Stream.Name}
}

type recordsEncoder struct {
	p    *recordsProtocol
	name string
}

func (e *recordsEncoder) Start(dst []byte) []byte                      { return dst }
func (e *recordsEncoder) Page(dst []byte, _ time.Time) []byte          { return dst }
func (e *recordsEncoder) State(dst []byte, _ *integ.Checkpoint) []byte { return dst }
func (e *recordsEncoder) End(dst []byte, _ *integ.StreamResult) []byte { return dst }
func (e *recordsEncoder) Record(dst, rec []byte) []byte {
	e.p.got[e.name] = append(e.p.got[e.name], string(rec))
	return dst
}

func sync(t *testing.T, handler http.Handler, config string) (map[string][]string, error) {
	t.Helper()
	srv := httptest.NewServer(handler)
	defer srv.Close()
	src := Source()
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	cfg, err := src.ParseConfig(json.RawMessage(strings.ReplaceAll(config, "SERVER", srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	p := &recordsProtocol{got: map[string][]string{}}
	err = src.Sync(context.Background(), integ.SyncOptions{
		Config: cfg, Protocol: p, Output: integ.NewOutput(&bytes.Buffer{}),
		HTTP: integ.HTTPOptions{Retry: requests.RetryOptions{MaxAttempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}},
	})
	return p.got, err
}

func TestOneRecordPerAPIRecord(t *testing.T) {
	cases := []struct {
		count, pageSize int
	}{
		{1302, 100}, {5000, 1000}, {100, 100}, {0, 20}, {7, 1},
	}
	for _, c := range cases {
		got, err := sync(t, pokeserver.New(pokeserver.WithCount(c.count)),
			`{"base_url":"SERVER/api/v2","page_size":`+jsonInt(c.pageSize)+`}`)
		if err != nil {
			t.Fatalf("count %d page %d: %v", c.count, c.pageSize, err)
		}
		names := map[string]bool{}
		for _, r := range got["pokemon"] {
			names[gjson.Get(r, "name").String()] = true
		}
		if len(got["pokemon"]) != c.count || len(names) != c.count {
			t.Errorf("count %d page %d: %d records, %d distinct", c.count, c.pageSize, len(got["pokemon"]), len(names))
		}
		if len(got["type"]) != 21 || len(got["ability"]) != 367 {
			t.Errorf("types %d abilities %d", len(got["type"]), len(got["ability"]))
		}
	}
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestRetriesAndFaults(t *testing.T) {
	// Every third request fails with a 503 the first time: retried.
	seen := map[string]bool{}
	flaky := pokeserver.New(pokeserver.WithCount(500), pokeserver.WithFaults(func(r *http.Request, n int) (int, string, bool) {
		if n%3 == 0 && !seen[r.URL.String()] {
			seen[r.URL.String()] = true
			return http.StatusServiceUnavailable, `{"detail":"busy"}`, true
		}
		return 0, "", false
	}))
	got, err := sync(t, flaky, `{"base_url":"SERVER/api/v2","page_size":50}`)
	if err != nil || len(got["pokemon"]) != 500 {
		t.Fatalf("flaky server: %d records, %v", len(got["pokemon"]), err)
	}

	html := pokeserver.New(pokeserver.WithFaults(func(r *http.Request, n int) (int, string, bool) {
		return http.StatusOK, "<html><body>maintenance</body></html>", true
	}))
	_, err = sync(t, html, `{"base_url":"SERVER/api/v2"}`)
	if err == nil || !strings.Contains(err.Error(), "JSON") || !strings.Contains(err.Error(), "/pokemon") {
		t.Errorf("an HTML page must be a clear error naming the URL: %v", err)
	}

	_, err = sync(t, http.NotFoundHandler(), `{"base_url":"SERVER/wrong"}`)
	if err == nil || !strings.Contains(err.Error(), "404") || integ.KindOf(err) != integ.ConfigFailure {
		t.Errorf("a wrong base_url must be a config error naming the status: %v", err)
	}
}

func TestConfigSchema(t *testing.T) {
	src := Source()
	for _, bad := range []string{`{"base_url":"ftp://x"}`, `{"base_url":"nope"}`, `{"page_size":0}`, `{"page_size":"ten"}`} {
		if _, err := src.ParseConfig(json.RawMessage(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	cfg, err := src.ParseConfig(json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	cfg.Decode(&c)
	if c.BaseURL != "https://pokeapi.co/api/v2" || c.PageSize != 100 {
		t.Errorf("defaults: %+v", c)
	}
}

func TestDetailsChildStream(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithCount(130)))
	defer srv.Close()
	src := Source()
	cfg, err := src.ParseConfig(json.RawMessage(`{"base_url":"` + srv.URL + `/api/v2","page_size":50}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, withParent := range []bool{true, false} {
		cat := &integ.Catalog{Streams: []integ.CatalogStream{{Name: "pokemon_details"}}}
		if withParent {
			cat.Streams = append(cat.Streams, integ.CatalogStream{Name: "pokemon"})
		}
		p := &recordsProtocol{got: map[string][]string{}}
		if err := src.Sync(context.Background(), integ.SyncOptions{Config: cfg, Catalog: cat, Protocol: p, Output: integ.NewOutput(&bytes.Buffer{})}); err != nil {
			t.Fatal(err)
		}
		got := p.got["pokemon_details"]
		if len(got) != 130 {
			t.Fatalf("parent selected=%v: %d details, want 130", withParent, len(got))
		}
		for i, rec := range got { // parent order is kept despite parallel requests
			if id := gjson.Get(rec, "id").Int(); id != int64(i+1) {
				t.Fatalf("detail %d has id %d", i, id)
			}
		}
		if withParent != (len(p.got["pokemon"]) == 130) {
			t.Errorf("parent selected=%v but %d parent records emitted", withParent, len(p.got["pokemon"]))
		}
	}
}

func TestFailingLaterPageIsATransientError(t *testing.T) {
	// The second page fails for good: the error names it, no panic.
	broken := pokeserver.New(pokeserver.WithCount(300), pokeserver.WithFaults(func(r *http.Request, n int) (int, string, bool) {
		if r.URL.Query().Get("offset") == "100" {
			return http.StatusBadGateway, `{"detail":"upstream down"}`, true
		}
		return 0, "", false
	}))
	got, err := sync(t, broken, `{"base_url":"SERVER/api/v2"}`)
	if err == nil || integ.KindOf(err) != integ.TransientFailure || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "offset=100") {
		t.Fatalf("err = %v (kind %v)", err, integ.KindOf(err))
	}
	if len(got["pokemon"]) != 100 {
		t.Errorf("the first page's records must still be written: %d", len(got["pokemon"]))
	}
}
