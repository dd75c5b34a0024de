package testsource_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integ/driver"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/testsource"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

type pageBody struct {
	Data     []json.RawMessage `json:"data"`
	NextPage *int              `json:"next_page"`
	Total    *int              `json:"total"`
}

func get(t *testing.T, url, token string) (int, pageBody) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p pageBody
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	return resp.StatusCode, p
}

func TestServer(t *testing.T) {
	s := testsource.NewServer(testsource.WithToken("tok"), testsource.WithPageSize(2))
	for i := range 5 {
		s.Add(fmt.Sprint("e", i), t0.Add(time.Duration(i)*time.Minute))
	}
	s.Update(1, t0.Add(time.Hour)) // event 1 moves to the end
	srv := httptest.NewServer(s)
	defer srv.Close()
	tests := []struct {
		name   string
		path   string
		token  string
		status int
		ids    []int
		next   int // 0: null
		total  int // -1: absent
	}{
		{"first page", "/events", "tok", 200, []int{2, 3}, 2, 5},
		{"last page", "/events?page=3", "tok", 200, []int{1}, 0, 5},
		{"past the end", "/events?page=9", "tok", 200, nil, 0, 5},
		{"inclusive filter", "/events?updated_since=2024-03-01T12:03:00Z", "tok", 200, []int{4, 5}, 2, 3},
		{"users", "/users", "tok", 200, []int{1, 2}, 2, -1},
		{"no token", "/events", "", 401, nil, 0, -1},
		{"bad page", "/events?page=x", "tok", 400, nil, 0, -1},
		{"bad time", "/events?updated_since=yesterday", "tok", 400, nil, 0, -1},
		{"unknown path", "/orders", "tok", 404, nil, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, p := get(t, srv.URL+tt.path, tt.token)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			if status != 200 {
				return
			}
			var ids []int
			for _, d := range p.Data {
				var r struct{ ID int }
				json.Unmarshal(d, &r)
				ids = append(ids, r.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.ids) {
				t.Errorf("ids %v, want %v", ids, tt.ids)
			}
			next := 0
			if p.NextPage != nil {
				next = *p.NextPage
			}
			total := -1
			if p.Total != nil {
				total = *p.Total
			}
			if next != tt.next || total != tt.total {
				t.Errorf("next_page %d total %d, want %d %d", next, total, tt.next, tt.total)
			}
		})
	}
	s.FailNext(0, 503)
	if st, _ := get(t, srv.URL+"/users", "tok"); st != 200 {
		t.Errorf("first scheduled request: %d", st)
	}
	if st, _ := get(t, srv.URL+"/users", "tok"); st != 503 {
		t.Errorf("second scheduled request: %d, want 503", st)
	}
	if s.Requests() != int64(len(tests)+2) {
		t.Errorf("Requests() = %d, want %d", s.Requests(), len(tests)+2)
	}
	if _, ok := s.Update(99, t0); ok {
		t.Error("updated a missing event")
	}
}

// ndjson is a third wire format, written here in a few lines to show that a
// protocol plugs into integ without touching any integration: one line per
// record, {"stream": ..., "record": ...}, and nothing else.
type ndjson struct{}

func (ndjson) Stream(run *driver.Stream) driver.StreamEncoder {
	name, _ := json.Marshal(run.Name)
	return &ndjsonStream{prefix: append(append([]byte(`{"stream":`), name...), `,"record":`...)}
}

type ndjsonStream struct{ prefix []byte }

func (e *ndjsonStream) Start(dst []byte) []byte                       { return dst }
func (e *ndjsonStream) Page(dst []byte, _ time.Time) []byte           { return dst }
func (e *ndjsonStream) State(dst []byte, _ *driver.Checkpoint) []byte { return dst }
func (e *ndjsonStream) End(dst []byte, _ *driver.StreamResult) []byte { return dst }
func (e *ndjsonStream) Record(dst, rec []byte) []byte {
	dst = append(dst, e.prefix...)
	dst = append(dst, rec...)
	return append(dst, "}\n"...)
}

func TestCustomProtocol(t *testing.T) {
	s := testsource.NewServer()
	s.Add("a", t0)
	s.Add("b", t0.Add(time.Minute))
	s.Add("c", t0.Add(2*time.Minute))
	srv := httptest.NewServer(s)
	defer srv.Close()
	src := testsource.Source()
	cfg, err := src.ParseConfig([]byte(`{"base_url":"` + srv.URL + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	state := integ.NewState()
	state.Set("events", json.RawMessage(`{"replication_key":"updated_at","replication_key_value":"2024-03-01T12:01:00Z"}`))
	err = src.Sync(context.Background(), integ.SyncOptions{Config: cfg, State: state, Protocol: ndjson{}, Output: driver.NewOutput(&out)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"stream":"events","record":{"id":2,"name":"b","version":1,"updated_at":"2024-03-01T12:01:00Z"}}
{"stream":"events","record":{"id":3,"name":"c","version":1,"updated_at":"2024-03-01T12:02:00Z"}}
{"stream":"users","record":{"id":1,"name":"Ada"}}
{"stream":"users","record":{"id":2,"name":"Brian"}}
{"stream":"users","record":{"id":3,"name":"Chidi"}}
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestConformance(t *testing.T) {
	s := testsource.NewServer(testsource.WithToken("tok-s3cr3t-42"), testsource.WithPageSize(2))
	for i := range 5 {
		s.Add(fmt.Sprint("e", i), t0.Add(time.Duration(i)*time.Minute))
	}
	srv := integtest.NewServer(t, s)
	integtest.Conformance(t, testsource.Source(), map[string]any{"base_url": srv.URL, "api_key": "tok-s3cr3t-42"})
}

func TestSourceSendsToken(t *testing.T) {
	srv := integtest.NewServer(t, testsource.NewServer(testsource.WithToken("tok-s3cr3t-42")))
	for _, tc := range []struct{ key, want string }{{"tok-s3cr3t-42", ""}, {"wrong-key-43", "401"}} {
		srv.Reset()
		cfg := map[string]any{"base_url": srv.URL, "api_key": tc.key}
		res := integtest.Run(t, testsource.Source(), []string{"check", "--config", writeConfig(t, cfg)}, integtest.WithSecrets(tc.key))
		var status struct {
			ConnectionStatus struct{ Status, Message string } `json:"connectionStatus"`
		}
		if st := res.MessagesOf("CONNECTION_STATUS"); len(st) == 1 {
			json.Unmarshal(st[0], &status)
		}
		ok := status.ConnectionStatus.Status == "SUCCEEDED"
		if (tc.want == "") != ok || !strings.Contains(status.ConnectionStatus.Message, tc.want) {
			t.Errorf("key %q: check %+v, want %q", tc.key, status.ConnectionStatus, tc.want)
		}
		reqs := srv.Requests()
		if len(reqs) == 0 {
			t.Fatalf("key %q: check made no request", tc.key)
		}
		for _, r := range reqs {
			if !r.HeaderIs("Authorization", "Bearer "+tc.key) || r.Header.Get("Authorization") != "Bearer "+integtest.Masked {
				t.Errorf("key %q: %s sent Authorization %q", tc.key, r, r.Header.Get("Authorization"))
			}
		}
	}
}

// An incremental sync resumes from the previous sync's state: it asks for
// the events updated since the bookmark (inclusive) and gets the changed
// ones.
func TestIncrementalSyncs(t *testing.T) {
	s := testsource.NewServer(testsource.WithPageSize(2))
	for i := range 5 {
		s.Add(fmt.Sprint("e", i), t0.Add(time.Duration(i)*time.Minute))
	}
	srv := integtest.NewServer(t, s)
	cfg := map[string]any{"base_url": srv.URL}
	for _, p := range []integtest.Protocol{integtest.Singer, integtest.Airbyte} {
		t.Run(string(p), func(t *testing.T) {
			first := integtest.Sync(t, testsource.Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams("events"), integtest.WithCheckpointRecords(1))
			if ids := eventIDs(first.Records("events")); ids != "[1 2 3 4 5]" {
				t.Fatalf("first sync: %s", ids)
			}
			if n := len(first.States()); n < 3 {
				t.Errorf("%d checkpoints, want one a page", n)
			}
			srv.Reset()
			again := integtest.Sync(t, testsource.Source(), cfg, integtest.WithProtocol(p), integtest.WithStreams("events"), integtest.WithState(first.FinalState()))
			if ids := eventIDs(again.Records("events")); ids != "[5]" {
				t.Errorf("second sync: %s, want the bookmark's event only", ids)
			}
			if r := srv.Requests(); len(r) != 1 || r[0].Query.Get("updated_since") != "2024-03-01T12:04:00Z" {
				t.Errorf("second sync requests %v, want one with updated_since", r)
			}
		})
	}
}

func eventIDs(recs []json.RawMessage) string {
	var ids []int
	for _, r := range recs {
		var e struct{ ID int }
		json.Unmarshal(r, &e)
		ids = append(ids, e.ID)
	}
	return fmt.Sprint(ids)
}

func writeConfig(t *testing.T, v any) string {
	t.Helper()
	b, _ := json.Marshal(v)
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Example shows a test changing the API's data between two syncs.
func Example() {
	s := testsource.NewServer()
	s.Add("signup", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := httptest.NewServer(s)
	defer srv.Close()
	e, _ := s.Update(1, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))
	fmt.Println(e.ID, e.Version, e.UpdatedAt.Format(time.DateOnly))
	// Output: 1 2 2024-01-02
}
