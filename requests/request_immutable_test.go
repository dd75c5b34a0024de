package requests_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/internal/conc"
	"github.com/integ/integ/requests"
)

// snapshot is everything observable about r: what it sends and how it
// fails.
func snapshot(t *testing.T, r *requests.Request) string {
	t.Helper()
	req, err := r.Build(context.Background())
	if err != nil {
		return "error: " + err.Error()
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s\n", req.Method, req.URL)
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s: %q\n", k, req.Header[k])
	}
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		fmt.Fprintf(&sb, "\n%s", b)
	}
	return sb.String()
}

// base returns a request with a bit of everything a builder method could
// touch: raw and added query parameters (with spare capacity), headers and a
// JSON body.
func base() *requests.Request {
	return requests.New("https://api.test/v1/items?sig=AbC%2f&page=1").
		Query("a", "1").Query("b", "2").Query("c", "3").
		Header("Accept", "application/json").Header("X-Trace", "t1").
		Method(http.MethodPost).JSONBody(map[string]any{"q": "x", "after": 1})
}

func TestBuilderLeavesReceiverUnchanged(t *testing.T) {
	tests := []struct {
		name string
		op   func(*requests.Request) *requests.Request
		want string // a line the derived request's snapshot must contain
	}{
		{"Query", func(r *requests.Request) *requests.Request { return r.Query("d", "4") }, "c=3&d=4"},
		{"Query same key", func(r *requests.Request) *requests.Request { return r.Query("a", "9") }, "&a=9"},
		{"SetQuery existing", func(r *requests.Request) *requests.Request { return r.SetQuery("page", "2") }, "page=2&a=1"},
		{"SetQuery new", func(r *requests.Request) *requests.Request { return r.SetQuery("z", "26") }, "&z=26"},
		{"Header new", func(r *requests.Request) *requests.Request { return r.Header("x-new", "n") }, `X-New: ["n"]`},
		{"Header replace", func(r *requests.Request) *requests.Request { return r.Header("accept", "text/csv") }, `Accept: ["text/csv"]`},
		{"Method", func(r *requests.Request) *requests.Request { return r.Method(http.MethodPut) }, "PUT https://"},
		{"Body", func(r *requests.Request) *requests.Request { return r.Body([]byte("raw")) }, "\nraw"},
		{"JSONBody", func(r *requests.Request) *requests.Request { return r.JSONBody([]int{1}) }, "\n[1]"},
		{"JSONBody error", func(r *requests.Request) *requests.Request { return r.JSONBody(math.NaN()) }, "marshal JSON body"},
		{"SetBodyField", func(r *requests.Request) *requests.Request {
			return r.SetBodyField("after", json.RawMessage(`"c2"`))
		}, `{"after":"c2","q":"x"}`},
		{"SetBodyField bad value", func(r *requests.Request) *requests.Request {
			return r.SetBodyField("after", json.RawMessage(`{`))
		}, "value is not JSON"},
		{"SetBodyField not an object", func(r *requests.Request) *requests.Request {
			return r.Body([]byte("[]")).SetBodyField("after", json.RawMessage(`1`))
		}, "not a JSON object"},
		{"Clone", func(r *requests.Request) *requests.Request { return r.Clone().Query("e", "5") }, "&e=5"},
		{"Resolve", func(r *requests.Request) *requests.Request { return r.Resolve("?page=7") }, "GET https://api.test/v1/items?page=7"},
		{"chain", func(r *requests.Request) *requests.Request {
			return r.Query("d", "4").SetQuery("a", "0").Header("X-Trace", "t2").Method(http.MethodGet)
		}, `X-Trace: ["t2"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			before := snapshot(t, r)
			derived := tt.op(r)
			if derived == r {
				t.Fatal("returned its receiver")
			}
			if after := snapshot(t, r); after != before {
				t.Errorf("receiver changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if got := snapshot(t, derived); !strings.Contains(got, tt.want) {
				t.Errorf("derived request lacks %q:\n%s", tt.want, got)
			}
			if before == snapshot(t, derived) {
				t.Error("derived request equals its base: the method did nothing")
			}
		})
	}
}

// Two requests derived from one base must not share what they added: an
// append into the base's spare capacity would give both the last one's.
func TestSiblingsAreIndependent(t *testing.T) {
	r := base()
	x := r.Query("sib", "x").Header("X-Sib", "x")
	y := r.Query("sib", "y").Header("X-Sib", "y")
	if got := x.QueryValue("sib"); got != "x" {
		t.Errorf("x's sib = %q after y was derived, want x", got)
	}
	if got := x.HeaderValue("x-sib"); got != "x" {
		t.Errorf("x's X-Sib = %q after y was derived, want x", got)
	}
	if got := y.QueryValue("sib"); got != "y" {
		t.Errorf("y's sib = %q, want y", got)
	}
	if r.QueryValue("sib") != "" || r.HeaderValue("X-Sib") != "" {
		t.Error("the base got its children's additions")
	}
}

// A base request shared by concurrent partitions (internal/conc, as the
// engine runs them) stays unchanged, and each partition's pages carry only
// its own parameters. Run with -race.
func TestSharedBaseConcurrent(t *testing.T) {
	var (
		seen = make(chan string, 1024)
		srv  = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen <- r.URL.RawQuery + " " + r.Header.Get("X-Partition")
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"data":[]}`)
		}))
	)
	defer srv.Close()
	shared := requests.New(srv.URL+"/items?sig=s").Query("limit", "10").Header("Accept", "application/json")
	before := snapshot(t, shared)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const partitions, pages = 8, 5
	var fns []func(context.Context) error
	for p := range partitions {
		fns = append(fns, func(ctx context.Context) error {
			req := shared.Query("partition", strconv.Itoa(p)).Header("X-Partition", strconv.Itoa(p))
			for page := range pages {
				next := req.SetQuery("page", strconv.Itoa(page))
				want := fmt.Sprintf("sig=s&limit=10&partition=%d&page=%d", p, page)
				if got := next.URL(); !strings.HasSuffix(got, want) {
					return fmt.Errorf("partition %d page %d: URL %s, want suffix %s", p, page, got, want)
				}
				if _, err := requests.Do(ctx, http.DefaultClient, next, 0); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := conc.DoCtx(ctx, 0, fns...); err != nil {
		t.Fatal(err)
	}
	close(seen)
	n := 0
	for s := range seen {
		n++
		q, part, _ := strings.Cut(s, " ")
		if !strings.Contains(q, "partition="+part+"&") || strings.Count(q, "partition=") != 1 {
			t.Errorf("request %q carries another partition's parameters", s)
		}
	}
	if n != partitions*pages {
		t.Errorf("server saw %d requests, want %d", n, partitions*pages)
	}
	if after := snapshot(t, shared); after != before {
		t.Errorf("shared base changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// FuzzBuilderImmutable applies a fuzzed sequence of builder calls, each to
// the previous result, and checks that no call changes any request made
// before it (shared query, header and body storage included).
func FuzzBuilderImmutable(f *testing.F) {
	f.Add("https://api.test/x?a=1&b=%2f", "page", "2", []byte(`{"q":1}`), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 3})
	f.Add("https://api.test/x", "", "", []byte(nil), []byte{0, 0, 0, 1, 1, 9})
	f.Add("://bad?x=%zz#f", "Content-Type", "text/plain", []byte(`[]`), []byte{3, 7, 6, 8})
	f.Fuzz(func(t *testing.T, rawURL, k, v string, body []byte, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		ops1 := []func(*requests.Request) *requests.Request{
			func(r *requests.Request) *requests.Request { return r.Query(k, v) },
			func(r *requests.Request) *requests.Request { return r.SetQuery(k, v) },
			func(r *requests.Request) *requests.Request { return r.Query(v, k) },
			func(r *requests.Request) *requests.Request { return r.Header("X-"+k, v) },
			func(r *requests.Request) *requests.Request { return r.Method(http.MethodPost) },
			func(r *requests.Request) *requests.Request { return r.Body(body) },
			func(r *requests.Request) *requests.Request { return r.JSONBody(map[string]string{k: v}) },
			func(r *requests.Request) *requests.Request {
				return r.SetBodyField(k, json.RawMessage(strconv.Quote(v)))
			},
			func(r *requests.Request) *requests.Request { return r.Resolve(v) },
			func(r *requests.Request) *requests.Request { return r.Clone() },
		}
		reqs := []*requests.Request{requests.New(rawURL)}
		snaps := []string{snapshot(t, reqs[0])}
		for _, op := range ops {
			// Derive from the latest or, when the high bit is set, from an
			// earlier one, so siblings share storage.
			from := len(reqs) - 1
			if op&0x80 != 0 {
				from = int(op>>4) % len(reqs)
			}
			n := ops1[int(op&0x0f)%len(ops1)](reqs[from])
			reqs, snaps = append(reqs, n), append(snaps, snapshot(t, n))
			for i, r := range reqs {
				if got := snapshot(t, r); got != snaps[i] {
					t.Fatalf("request %d changed after op %d:\nbefore:\n%s\nafter:\n%s", i, op, snaps[i], got)
				}
			}
		}
	})
}
