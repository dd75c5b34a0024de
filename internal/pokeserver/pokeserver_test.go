package pokeserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/integ/integ/internal/pokeserver"
)

type page struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"results"`
}

type ref struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type pokemon struct {
	ID             int    `json:"id"`
	Name           string `json:"name"`
	Height         int    `json:"height"`
	Weight         int    `json:"weight"`
	BaseExperience int    `json:"base_experience"`
	IsDefault      bool   `json:"is_default"`
	Order          int    `json:"order"`
	Types          []struct {
		Slot int `json:"slot"`
		Type ref `json:"type"`
	} `json:"types"`
	Abilities []struct {
		Ability  ref  `json:"ability"`
		IsHidden bool `json:"is_hidden"`
		Slot     int  `json:"slot"`
	} `json:"abilities"`
}

// get fetches url and decodes a JSON body into v (when non-nil), failing
// the test on transport errors or a status other than want.
func get(t *testing.T, url string, want int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("GET %s: status %d, want %d; body %s", url, resp.StatusCode, want, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s: Content-Type %q, want JSON", url, ct)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: decoding %s: %v", url, body, err)
		}
	}
}

// walk follows next links from start and returns every name seen.
func walk(t *testing.T, start string) (names []string, pages int) {
	t.Helper()
	url := start
	for {
		var p page
		get(t, url, http.StatusOK, &p)
		pages++
		for _, r := range p.Results {
			names = append(names, r.Name)
		}
		if p.Next == nil {
			return names, pages
		}
		url = *p.Next
		if pages > 100000 {
			t.Fatal("next links never end")
		}
	}
}

func TestListPagingFollowsNext(t *testing.T) {
	tests := []struct {
		name      string
		opts      []pokeserver.Option
		path      string
		wantCount int
		wantPages int
	}{
		{"default pokemon", nil, "/api/v2/pokemon", 1302, 66},
		{"page size 100", nil, "/api/v2/pokemon/?limit=100", 1302, 14},
		{"exact multiple", []pokeserver.Option{pokeserver.WithCount(40)}, "/api/v2/pokemon?limit=20", 40, 2},
		{"single page", []pokeserver.Option{pokeserver.WithCount(5)}, "/api/v2/pokemon?limit=20", 5, 1},
		{"max limit clamps", []pokeserver.Option{pokeserver.WithCount(50), pokeserver.WithMaxLimit(10)}, "/api/v2/pokemon?limit=1000", 50, 5},
		{"empty", []pokeserver.Option{pokeserver.WithCount(0)}, "/api/v2/pokemon", 0, 1},
		{"types", nil, "/api/v2/type?limit=5", 21, 5},
		{"abilities", nil, "/api/v2/ability?limit=100", 367, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(pokeserver.New(tt.opts...))
			defer srv.Close()

			var first page
			get(t, srv.URL+tt.path, http.StatusOK, &first)
			if first.Count != tt.wantCount || first.Previous != nil {
				t.Fatalf("first page count=%d previous=%v, want %d and null", first.Count, first.Previous, tt.wantCount)
			}
			names, pages := walk(t, srv.URL+tt.path)
			if pages != tt.wantPages {
				t.Errorf("walked %d pages, want %d", pages, tt.wantPages)
			}
			seen := make(map[string]bool, len(names))
			for _, n := range names {
				if seen[n] {
					t.Fatalf("duplicate name %q", n)
				}
				seen[n] = true
			}
			if len(names) != tt.wantCount {
				t.Fatalf("got %d names, want %d", len(names), tt.wantCount)
			}
		})
	}
}

func TestListLinksAndURLs(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithCount(30)))
	defer srv.Close()
	base := srv.URL + "/api/v2/pokemon"

	tests := []struct {
		query          string
		next, previous string // "" means null
		first, last    string
		n              int
	}{
		{"", base + "?offset=20&limit=20", "", "bulbasaur", "raticate", 20},
		{"?offset=20&limit=20", "", base + "?offset=0&limit=20", "spearow", "nidorina", 10},
		{"?offset=5&limit=10", base + "?offset=15&limit=10", base + "?offset=0&limit=10", "charizard", "beedrill", 10},
		{"?offset=100", "", base + "?offset=80&limit=20", "", "", 0},
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var p page
			get(t, base+tt.query, http.StatusOK, &p)
			if got := str(p.Next); got != tt.next {
				t.Errorf("next = %q, want %q", got, tt.next)
			}
			if got := str(p.Previous); got != tt.previous {
				t.Errorf("previous = %q, want %q", got, tt.previous)
			}
			if len(p.Results) != tt.n {
				t.Fatalf("%d results, want %d", len(p.Results), tt.n)
			}
			if tt.n == 0 {
				return
			}
			if p.Results[0].Name != tt.first || p.Results[tt.n-1].Name != tt.last {
				t.Errorf("results %s..%s, want %s..%s", p.Results[0].Name, p.Results[tt.n-1].Name, tt.first, tt.last)
			}
			// Every url must resolve to a detail with the same name.
			var d pokemon
			get(t, p.Results[0].URL, http.StatusOK, &d)
			if d.Name != p.Results[0].Name {
				t.Errorf("detail at %s is %q, want %q", p.Results[0].URL, d.Name, p.Results[0].Name)
			}
		})
	}
}

func TestDetail(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New())
	defer srv.Close()
	tests := []struct {
		path   string
		id     int
		name   string
		nTypes int
	}{
		{"/api/v2/pokemon/25/", 25, "pikachu", 1},
		{"/api/v2/pokemon/pikachu/", 25, "pikachu", 1},
		{"/api/v2/pokemon/pikachu", 25, "pikachu", 1},
		{"/api/v2/pokemon/151/", 151, "mew", 1},
		{"/api/v2/pokemon/152/", 152, "pokemon-152", 1},
		{"/api/v2/pokemon/pokemon-1302/", 1302, "pokemon-1302", 2},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var d pokemon
			get(t, srv.URL+tt.path, http.StatusOK, &d)
			if d.ID != tt.id || d.Name != tt.name || d.Order != tt.id || !d.IsDefault {
				t.Errorf("got id=%d name=%q order=%d default=%v", d.ID, d.Name, d.Order, d.IsDefault)
			}
			if d.Height <= 0 || d.Weight <= 0 || d.BaseExperience <= 0 {
				t.Errorf("non-positive stats: %+v", d)
			}
			if len(d.Types) != tt.nTypes {
				t.Fatalf("%d types, want %d", len(d.Types), tt.nTypes)
			}
			for i, ty := range d.Types {
				if ty.Slot != i+1 || ty.Type.Name == "" {
					t.Errorf("type %d = %+v", i, ty)
				}
				var named struct {
					ID   int    `json:"id"`
					Name string `json:"name"`
				}
				get(t, ty.Type.URL, http.StatusOK, &named)
				if named.Name != ty.Type.Name {
					t.Errorf("type url %s names %q, want %q", ty.Type.URL, named.Name, ty.Type.Name)
				}
			}
			if len(d.Abilities) == 0 || d.Abilities[0].IsHidden {
				t.Errorf("abilities = %+v, want a first non-hidden ability", d.Abilities)
			}
			for _, a := range d.Abilities {
				if !strings.HasPrefix(a.Ability.URL, srv.URL+"/api/v2/ability/") {
					t.Errorf("ability url %q not absolute on this server", a.Ability.URL)
				}
			}
		})
	}
}

func TestDetailDeterministic(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New())
	defer srv.Close()
	var a, b pokemon
	get(t, srv.URL+"/api/v2/pokemon/42/", http.StatusOK, &a)
	get(t, srv.URL+"/api/v2/pokemon/golbat/", http.StatusOK, &b)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatalf("same pokemon differs by id and name:\n%s\n%s", ja, jb)
	}
}

func TestErrors(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithCount(10)))
	defer srv.Close()
	tests := []struct {
		path   string
		status int
	}{
		{"/api/v2/pokemon?limit=abc", http.StatusBadRequest},
		{"/api/v2/pokemon?limit=0", http.StatusBadRequest},
		{"/api/v2/pokemon?limit=-5", http.StatusBadRequest},
		{"/api/v2/pokemon?offset=-1", http.StatusBadRequest},
		{"/api/v2/pokemon?offset=1e3", http.StatusBadRequest},
		{"/api/v2/pokemon?limit=99999999999999999999999", http.StatusBadRequest},
		{"/api/v2/berry", http.StatusNotFound},
		{"/nope", http.StatusNotFound},
		{"/api/v2/pokemon/11/", http.StatusNotFound},
		{"/api/v2/pokemon/0/", http.StatusNotFound},
		{"/api/v2/pokemon/pikachu/", http.StatusNotFound}, // count 10
		{"/api/v2/pokemon/pokemon-05/", http.StatusNotFound},
		{"/api/v2/pokemon/1/extra/", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var body struct {
				Detail string `json:"detail"`
			}
			get(t, srv.URL+tt.path, tt.status, &body)
			if body.Detail == "" {
				t.Fatal("error body lacks detail")
			}
			if tt.status == http.StatusNotFound && body.Detail != "Not found." {
				t.Errorf("detail = %q, want Not found.", body.Detail)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/v2/pokemon", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST status %d, want 405", resp.StatusCode)
	}
}

func TestRoot(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New())
	defer srv.Close()
	var root map[string]string
	get(t, srv.URL+"/api/v2/", http.StatusOK, &root)
	if root["pokemon"] != srv.URL+"/api/v2/pokemon/" {
		t.Fatalf("root = %v", root)
	}
}

func TestFaults(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithFaults(
		func(r *http.Request, n int) (int, string, bool) {
			switch n {
			case 1:
				return http.StatusTooManyRequests, `{"detail":"slow down"}`, true
			case 2:
				return http.StatusInternalServerError, "oops", true
			case 3:
				return http.StatusOK, `{"count":1302,"next":`, true
			}
			return 0, "", false
		})))
	defer srv.Close()

	tests := []struct {
		status   int
		ct       string
		validErr bool // body must fail to decode
	}{
		{http.StatusTooManyRequests, "application/json", false},
		{http.StatusInternalServerError, "text/plain", true},
		{http.StatusOK, "application/json", true},
		{http.StatusOK, "application/json", false}, // faults over
	}
	for i, tt := range tests {
		resp, err := http.Get(srv.URL + "/api/v2/pokemon")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ct) {
			t.Errorf("request %d: %d %s, want %d %s", i+1, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.ct)
		}
		if bad := json.Unmarshal(body, new(any)) != nil; bad != tt.validErr {
			t.Errorf("request %d: body %q decode failure = %v, want %v", i+1, body, bad, tt.validErr)
		}
	}
}

func TestFaultHandlerAndRequests(t *testing.T) {
	s := pokeserver.New(pokeserver.WithFaultHandler(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n%2 == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}))
	srv := httptest.NewServer(s)
	defer srv.Close()
	for i := 1; i <= 4; i++ {
		resp, err := http.Get(srv.URL + "/api/v2/type")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusOK
		if i%2 == 1 {
			want = http.StatusServiceUnavailable
		}
		if resp.StatusCode != want {
			t.Errorf("request %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	if got := s.Requests(); got != 4 {
		t.Fatalf("Requests() = %d, want 4", got)
	}
}

func TestLatencyHonoursCancel(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithLatency(time.Hour)))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v2/pokemon", nil)
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	// srv.Close blocks until handlers return, proving the sleep ended.
}

func TestLatency(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithLatency(30 * time.Millisecond)))
	defer srv.Close()
	start := time.Now()
	get(t, srv.URL+"/api/v2/pokemon", http.StatusOK, nil)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("answered in %v, want >= 30ms", d)
	}
}

func TestGen1Names(t *testing.T) {
	srv := httptest.NewServer(pokeserver.New())
	defer srv.Close()
	var p page
	get(t, srv.URL+"/api/v2/pokemon?limit=152", http.StatusOK, &p)
	if got := p.Results[150].Name; got != "mew" {
		t.Errorf("#151 = %q, want mew", got)
	}
	if got := p.Results[151].Name; got != "pokemon-152" {
		t.Errorf("#152 = %q, want pokemon-152", got)
	}
}

func BenchmarkListPage1000(b *testing.B) {
	h := pokeserver.New(pokeserver.WithCount(1_000_000))
	b.ReportAllocs()
	w := &discardWriter{h: http.Header{}}
	var offset int
	for b.Loop() {
		// Walk the whole range so names past gen 1 dominate, as at scale.
		req := httptest.NewRequest(http.MethodGet, "/api/v2/pokemon?limit=1000&offset="+strconv.Itoa(offset), nil)
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
		offset = (offset + 1000) % 1_000_000
	}
	b.SetBytes(int64(w.n))
}

func BenchmarkListPage1000HTTP(b *testing.B) {
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithCount(1_000_000)))
	defer srv.Close()
	url := srv.URL + "/api/v2/pokemon?limit=1000&offset=500000"
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.SetBytes(n)
	}
}

// discardWriter is a minimal ResponseWriter so the benchmark measures the
// handler, not the recorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) {
	w.n = len(p)
	return len(p), nil
}

func Example() {
	srv := httptest.NewServer(pokeserver.New(pokeserver.WithCount(3)))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/api/v2/pokemon?limit=2")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var p page
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Count, strings.TrimPrefix(*p.Next, srv.URL))
	for _, r := range p.Results {
		fmt.Println(r.Name, strings.TrimPrefix(r.URL, srv.URL))
	}
	// Output:
	// 3 /api/v2/pokemon?offset=2&limit=2
	// bulbasaur /api/v2/pokemon/1/
	// ivysaur /api/v2/pokemon/2/
}
