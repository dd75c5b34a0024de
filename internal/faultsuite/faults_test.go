package faultsuite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integrations/pokeapi"
	"github.com/integ/integ/internal/pokeserver"
	"github.com/integ/integ/internal/testsource"
	"github.com/integ/integ/protocol/singer"
	"github.com/integ/integ/requests"
)

// fault decides the answer to the nth request (1-based); ok false serves it.
type fault func(n int64, w http.ResponseWriter, r *http.Request) bool

// faulty wraps an API with injected faults.
func faulty(h http.Handler, f fault) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f != nil && f(n.Add(1), w, r) {
			return
		}
		h.ServeHTTP(w, r)
	})
}

// sleeps records the waits the retry layer asked for, without waiting.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

type target struct {
	name   string
	src    func() *integ.Source
	api    func() http.Handler
	config func(url string) string
	total  int // records a complete sync emits
}

func targets() []target {
	events := func() http.Handler {
		s := testsource.NewServer(testsource.WithPageSize(5))
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 60 {
			s.Add(fmt.Sprintf("event %d", i), base.Add(time.Duration(i)*time.Minute))
		}
		return s
	}
	return []target{
		{"pokeapi", pokeapi.Source, func() http.Handler { return pokeserver.New(pokeserver.WithCount(400)) },
			func(u string) string { return `{"base_url":"` + u + `/api/v2","page_size":50}` }, 400 + 21 + 367},
		{"testsource", testsource.Source, events,
			func(u string) string { return `{"base_url":"` + u + `"}` }, 60 + 3},
	}
}

type result struct {
	stdout, stderr string
	err            error
}

func runSinger(t *testing.T, tg target, url string, sl *sleeps, state string) result {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	os.WriteFile(cfg, []byte(tg.config(url)), 0o600)
	o := singer.Options{ConfigPaths: []string{cfg}}
	if state != "" {
		o.StatePath = filepath.Join(dir, "state.json")
		os.WriteFile(o.StatePath, []byte(state), 0o600)
	}
	var out, errb bytes.Buffer
	o.Stdout, o.Stderr = &out, &errb
	o.Sync.HTTP.Retry = requests.RetryOptions{MaxAttempts: 5, Sleep: sl.sleep}
	ctx, cancel := context.WithTimeout(context.Background(), syncDeadline)
	defer cancel()
	err := singer.Run(ctx, tg.src(), o)
	return result{out.String(), errb.String(), err}
}

// recordKeys lists the records of a Singer output as stream/primary-key.
func recordKeys(t *testing.T, out string) []string {
	t.Helper()
	var keys []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m struct {
			Type   string          `json:"type"`
			Stream string          `json:"stream"`
			Record json.RawMessage `json:"record"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a whole JSON message: %q", line)
		}
		if m.Type != "RECORD" {
			continue
		}
		var rec map[string]any
		json.Unmarshal(m.Record, &rec)
		key := rec["name"]
		if id, ok := rec["id"]; ok {
			key = id
		}
		keys = append(keys, fmt.Sprintf("%s/%v", m.Stream, key))
	}
	return keys
}

func exactlyOnce(t *testing.T, keys []string, total int) {
	t.Helper()
	seen := map[string]int{}
	for _, k := range keys {
		seen[k]++
		if seen[k] == 2 {
			t.Errorf("record %s emitted twice", k)
		}
	}
	if len(seen) != total {
		t.Errorf("%d distinct records, want %d", len(seen), total)
	}
}

// syncsDespite runs a Singer sync of tg against its API behind h, which
// injects faults, and requires it to succeed with every record exactly
// once. It returns the retry waits asked for.
func syncsDespite(t *testing.T, tg target, h http.Handler) *sleeps {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	sl := &sleeps{}
	res := runSinger(t, tg, srv.URL, sl, "")
	if res.err != nil {
		t.Fatalf("sync failed: %v\n%s", res.err, res.stderr)
	}
	exactlyOnce(t, recordKeys(t, res.stdout), tg.total)
	return sl
}

func TestThrottlingAndErrorBurstsAreRetried(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			// Request 2 is throttled with Retry-After: 7, requests 4-6 are a
			// burst of 500s, request 9 a 503 with an HTTP-date Retry-After.
			srv := faulty(tg.api(), func(n int64, w http.ResponseWriter, r *http.Request) bool {
				switch {
				case n == 2:
					w.Header().Set("Retry-After", "7")
					w.WriteHeader(http.StatusTooManyRequests)
				case n >= 4 && n <= 6:
					w.WriteHeader(http.StatusInternalServerError)
					fmt.Fprint(w, `{"error":"boom"}`)
				case n == 9:
					w.Header().Set("Retry-After", time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
					w.WriteHeader(http.StatusServiceUnavailable)
				default:
					return false
				}
				return true
			})
			sl := syncsDespite(t, tg, srv)
			if len(sl.waits) != 5 {
				t.Fatalf("waits = %v, want 5 retries", sl.waits)
			}
			if sl.waits[0] != 7*time.Second {
				t.Errorf("waits = %v, the first must honour Retry-After: 7", sl.waits)
			}
			if w := sl.waits[4]; w < time.Second || w > 3*time.Second {
				t.Errorf("HTTP-date Retry-After gave a wait of %v", w)
			}
		})
	}
}

// TestConnectionsDroppedMidBodyAreRetried: the server sends a page's
// headers and half its body, then drops the connection, with a FIN (an
// early EOF) or an RST (a reset). The page is fetched again.
func TestConnectionsDroppedMidBodyAreRetried(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			api := tg.api()
			srv := faulty(api, func(n int64, w http.ResponseWriter, r *http.Request) bool {
				if n != 2 && n != 5 && n != 6 {
					return false
				}
				page := httptest.NewRecorder()
				api.ServeHTTP(page, r)
				body := page.Body.Bytes()
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					panic(err)
				}
				fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
				buf.Write(body[:len(body)/2])
				buf.Flush()
				if tc, ok := conn.(*net.TCPConn); ok && n == 5 {
					tc.SetLinger(0) // an RST: "connection reset by peer"
				}
				conn.Close()
				return true
			})
			sl := syncsDespite(t, tg, srv)
			if len(sl.waits) != 3 {
				t.Errorf("waits = %v, want 3 retries", sl.waits)
			}
		})
	}
}

func TestUnrecoverableFaultsAreClearErrors(t *testing.T) {
	cases := []struct {
		name  string
		fault fault
		want  []string
	}{
		{"persistent 500", func(n int64, w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"error":"database on fire"}`)
			return true
		}, []string{"500", "after 5 attempts", "database on fire", "GET http://127.0.0.1"}},
		{"HTML page", func(n int64, w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Maintenance</body></html>")
			return true
		}, []string{"not valid JSON", "text/html", "Maintenance", "GET http://127.0.0.1"}},
		{"truncated body", func(n int64, w http.ResponseWriter, r *http.Request) bool {
			fmt.Fprint(w, `{"count": 3, "next": null, "data": [{"id": 1}, {"id"`)
			return true
		}, []string{"not valid JSON", "GET http://127.0.0.1"}},
	}
	for _, tg := range targets() {
		for _, c := range cases {
			t.Run(tg.name+"/"+c.name, func(t *testing.T) {
				srv := httptest.NewServer(faulty(tg.api(), c.fault))
				defer srv.Close()
				res := runSinger(t, tg, srv.URL, &sleeps{}, "")
				if res.err == nil {
					t.Fatal("sync succeeded")
				}
				var crit string
				for _, l := range strings.Split(res.stderr, "\n") {
					if strings.HasPrefix(l, "CRITICAL ") {
						crit = l
					}
				}
				for _, w := range c.want {
					if !strings.Contains(crit, w) {
						t.Errorf("CRITICAL line lacks %q:\n%s", w, crit)
					}
				}
				if res.stdout != "" {
					t.Errorf("nothing was read, so nothing may be written; stdout:\n%s", res.stdout)
				}
			})
		}
	}
}
