// Package pokeserver is a local stand-in for the public PokeAPI v2
// (https://pokeapi.co/docs/v2) used by integ's demos, tests and benchmarks.
//
// It serves paginated lists shaped like the real API,
//
//	{"count": N, "next": "<url or null>", "previous": "<url or null>",
//	 "results": [{"name": "...", "url": "http://HOST/api/v2/pokemon/ID/"}]}
//
// for /api/v2/pokemon, /api/v2/type and /api/v2/ability, plus detail
// records at /api/v2/{resource}/{id or name}/. Absolute URLs are built from
// the request's Host, so the server works on any port.
//
// Records are synthesised from their id on the fly, so a server with a
// million Pokémon costs no memory, and pages are written with an
// append-based, pooled byte buffer rather than encoding/json, keeping the
// server out of the way when benchmarking clients.
package pokeserver

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// DefaultCount is the real PokeAPI's total number of Pokémon.
	DefaultCount = 1302
	// DefaultLimit is the page size used when the request gives none, as
	// on the real API.
	DefaultLimit = 20

	apiPrefix = "/api/v2/"
	// maxPooledBuf stops one huge page from pinning memory in the pool.
	maxPooledBuf = 4 << 20
)

// Server is an http.Handler answering like PokeAPI v2. Create it with New;
// it is safe for concurrent use.
type Server struct {
	count    int
	maxLimit int
	latency  time.Duration
	fault    func(w http.ResponseWriter, r *http.Request, n int) bool

	requests  atomic.Int64
	resources map[string]*resource
}

// Option configures a Server.
type Option func(*Server)

// WithCount sets the number of Pokémon (default DefaultCount). Negative
// values are treated as zero.
func WithCount(n int) Option {
	return func(s *Server) { s.count = max(n, 0) }
}

// WithMaxLimit caps the page size; larger limits are clamped to n, as
// Django REST framework (which backs PokeAPI) does. n <= 0, the default,
// means no cap.
func WithMaxLimit(n int) Option {
	return func(s *Server) { s.maxLimit = n }
}

// WithLatency delays every response by d, to simulate a remote API.
func WithLatency(d time.Duration) Option {
	return func(s *Server) { s.latency = d }
}

// WithFaults injects failures. fault is called for every request with n,
// the 1-based number of that request since the server was created; when it
// returns ok, the server answers with status and body instead of the real
// response (Content-Type is application/json when body starts with { or [,
// else text/plain). A 200 with a cut-off JSON body simulates truncation.
//
// For example, to rate-limit every third request:
//
//	pokeserver.WithFaults(func(r *http.Request, n int) (int, string, bool) {
//		return http.StatusTooManyRequests, `{"detail":"slow down"}`, n%3 == 0
//	})
func WithFaults(fault func(r *http.Request, n int) (status int, body string, ok bool)) Option {
	return WithFaultHandler(func(w http.ResponseWriter, r *http.Request, n int) bool {
		status, body, ok := fault(r, n)
		if ok {
			writeRaw(w, status, body)
		}
		return ok
	})
}

// WithFaultHandler is WithFaults with full control over the response (for
// headers such as Retry-After, or hijacking the connection). It returns
// true when it has handled the request. It replaces any WithFaults option.
func WithFaultHandler(h func(w http.ResponseWriter, r *http.Request, n int) bool) Option {
	return func(s *Server) { s.fault = h }
}

// New returns a Server configured by opts.
func New(opts ...Option) *Server {
	s := &Server{count: DefaultCount}
	for _, o := range opts {
		o(s)
	}
	s.resources = map[string]*resource{
		"pokemon": newResource("pokemon", gen1[:], s.count, appendPokemon),
		"type":    newResource("type", typeNames[:], len(typeNames), appendNamed),
		"ability": newResource("ability", abilityNames[:], abilityCount, appendNamed),
	}
	return s
}

// Requests reports how many requests the server has received, including
// those answered by a fault.
func (s *Server) Requests() int64 { return s.requests.Load() }

// ServeHTTP routes /api/v2/... requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.requests.Add(1))
	if s.latency > 0 && !sleep(r.Context(), s.latency) {
		return // client gave up
	}
	if s.fault != nil && s.fault(w, r, n) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeDetail(w, http.StatusMethodNotAllowed, `Method "`+r.Method+`" not allowed.`)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	if !ok {
		writeDetail(w, http.StatusNotFound, "Not found.")
		return
	}
	base := baseURL(r)
	rest = strings.TrimSuffix(rest, "/")
	name, key, hasKey := strings.Cut(rest, "/")
	if name == "" {
		s.serveRoot(w, base)
		return
	}
	res := s.resources[name]
	if res == nil || strings.Contains(key, "/") {
		writeDetail(w, http.StatusNotFound, "Not found.")
		return
	}
	if hasKey {
		s.serveDetail(w, res, base, key)
		return
	}
	s.serveList(w, r, res, base)
}

// sleep waits for d or until ctx ends, reporting whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// baseURL is the absolute API root, e.g. "http://127.0.0.1:8080/api/v2/".
func baseURL(r *http.Request) string {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return scheme + r.Host + apiPrefix
}

func (s *Server) serveRoot(w http.ResponseWriter, base string) {
	b := getBuf()
	defer putBuf(b)
	buf := append(*b, '{')
	for i, name := range []string{"ability", "pokemon", "type"} {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, name)
		buf = append(buf, ':')
		buf = appendString(buf, base+name+"/")
	}
	buf = append(buf, '}')
	*b = buf
	writeJSON(w, http.StatusOK, buf)
}

func (s *Server) serveList(w http.ResponseWriter, r *http.Request, res *resource, base string) {
	q := r.URL.Query()
	limit, ok := queryInt(w, q.Get("limit"), "limit", DefaultLimit, 1)
	if !ok {
		return
	}
	offset, ok := queryInt(w, q.Get("offset"), "offset", 0, 0)
	if !ok {
		return
	}
	if s.maxLimit > 0 {
		limit = min(limit, s.maxLimit)
	}
	// Escape once per page; every record URL reuses it.
	listURL := appendString(nil, base+res.name)
	listURL = listURL[:len(listURL)-1] // drop closing quote

	b := getBuf()
	defer putBuf(b)
	buf := append(*b, `{"count":`...)
	buf = strconv.AppendInt(buf, int64(res.count), 10)
	buf = append(buf, `,"next":`...)
	if offset+limit < res.count {
		buf = appendPageURL(buf, listURL, offset+limit, limit)
	} else {
		buf = append(buf, "null"...)
	}
	buf = append(buf, `,"previous":`...)
	if offset > 0 {
		buf = appendPageURL(buf, listURL, max(offset-limit, 0), limit)
	} else {
		buf = append(buf, "null"...)
	}
	buf = append(buf, `,"results":[`...)
	end := min(offset+limit, res.count)
	for id := offset + 1; id <= end; id++ {
		if id > offset+1 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"name":"`...)
		buf = res.appendName(buf, id)
		buf = append(buf, `","url":`...)
		buf = append(buf, listURL...)
		buf = append(buf, '/')
		buf = strconv.AppendInt(buf, int64(id), 10)
		buf = append(buf, `/"}`...)
	}
	buf = append(buf, "]}"...)
	*b = buf
	writeJSON(w, http.StatusOK, buf)
}

// appendPageURL appends a quoted list URL; listURL is the opening quote and
// escaped URL without its closing quote.
func appendPageURL(buf, listURL []byte, offset, limit int) []byte {
	buf = append(buf, listURL...)
	buf = append(buf, "?offset="...)
	buf = strconv.AppendInt(buf, int64(offset), 10)
	buf = append(buf, "&limit="...)
	buf = strconv.AppendInt(buf, int64(limit), 10)
	return append(buf, '"')
}

// queryInt parses a query parameter that must be an integer >= min,
// answering 400 itself when it is not.
func queryInt(w http.ResponseWriter, v, name string, def, min int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		writeDetail(w, http.StatusBadRequest,
			"Invalid "+name+" "+strconv.Quote(v)+": must be an integer >= "+strconv.Itoa(min)+".")
		return 0, false
	}
	return n, true
}

func (s *Server) serveDetail(w http.ResponseWriter, res *resource, base, key string) {
	id, ok := res.lookup(key)
	if !ok {
		writeDetail(w, http.StatusNotFound, "Not found.")
		return
	}
	b := getBuf()
	defer putBuf(b)
	buf := res.appendDetail(*b, s, res, base, id)
	*b = buf
	writeJSON(w, http.StatusOK, buf)
}

// resource is one listable, id-addressed collection.
type resource struct {
	name         string
	names        []string // names of the first ids; later ids are name-<id>
	count        int
	index        map[string]int
	appendDetail func(buf []byte, s *Server, res *resource, base string, id int) []byte
}

func newResource(name string, names []string, count int, detail func([]byte, *Server, *resource, string, int) []byte) *resource {
	names = names[:min(len(names), count)]
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i + 1
	}
	return &resource{name: name, names: names, count: count, index: index, appendDetail: detail}
}

// appendName appends the name of id, which needs no JSON escaping.
func (res *resource) appendName(buf []byte, id int) []byte {
	if id <= len(res.names) {
		return append(buf, res.names[id-1]...)
	}
	buf = append(buf, res.name...)
	buf = append(buf, '-')
	return strconv.AppendInt(buf, int64(id), 10)
}

// lookup resolves an id or name, as the real API accepts both.
func (res *resource) lookup(key string) (int, bool) {
	if id, err := strconv.Atoi(key); err == nil {
		return id, id >= 1 && id <= res.count
	}
	if id, ok := res.index[key]; ok {
		return id, true
	}
	if n, ok := strings.CutPrefix(key, res.name+"-"); ok {
		// Only the canonical spelling: "pokemon-0152" is not a name.
		id, err := strconv.Atoi(n)
		if err == nil && id > len(res.names) && id <= res.count && strconv.Itoa(id) == n {
			return id, true
		}
	}
	return 0, false
}

// appendNamed writes a minimal detail record: id and name.
func appendNamed(buf []byte, _ *Server, res *resource, _ string, id int) []byte {
	buf = append(buf, `{"id":`...)
	buf = strconv.AppendInt(buf, int64(id), 10)
	buf = append(buf, `,"name":"`...)
	buf = res.appendName(buf, id)
	return append(buf, `"}`...)
}

// appendPokemon writes a deterministic subset of the real Pokémon shape.
// Every field is derived from id so repeated reads agree.
func appendPokemon(buf []byte, s *Server, pk *resource, base string, id int) []byte {
	ty, ab := s.resources["type"], s.resources["ability"]
	field := func(name string, v int) {
		buf = append(buf, `,"`...)
		buf = append(buf, name...)
		buf = append(buf, `":`...)
		buf = strconv.AppendInt(buf, int64(v), 10)
	}
	ref := func(res *resource, id int) {
		buf = append(buf, `{"name":"`...)
		buf = res.appendName(buf, id)
		buf = append(buf, `","url":`...)
		buf = appendString(buf, base+res.name+"/"+strconv.Itoa(id)+"/")
		buf = append(buf, '}')
	}
	buf = append(buf, `{"id":`...)
	buf = strconv.AppendInt(buf, int64(id), 10)
	buf = append(buf, `,"name":"`...)
	buf = pk.appendName(buf, id)
	buf = append(buf, '"')
	field("height", 3+id%20)
	field("weight", 20+(id*37)%1000)
	field("base_experience", 50+(id*13)%250)
	buf = append(buf, `,"is_default":true`...)
	field("order", id)

	// One or two of the 18 regular types, never the same twice.
	types := []int{1 + id%18}
	if id%3 == 0 {
		types = append(types, 1+(id%18+1+id%17)%18)
	}
	buf = append(buf, `,"types":[`...)
	for i, t := range types {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"slot":`...)
		buf = strconv.AppendInt(buf, int64(i+1), 10)
		buf = append(buf, `,"type":`...)
		ref(ty, t)
		buf = append(buf, '}')
	}

	// A regular ability and, for most, a distinct hidden one.
	abilities := []int{1 + id%ab.count}
	if h := 1 + (id*31)%ab.count; h != abilities[0] {
		abilities = append(abilities, h)
	}
	buf = append(buf, `],"abilities":[`...)
	for i, a := range abilities {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"ability":`...)
		ref(ab, a)
		buf = append(buf, `,"is_hidden":`...)
		buf = strconv.AppendBool(buf, i == 1)
		buf = append(buf, `,"slot":`...)
		buf = strconv.AppendInt(buf, int64(i*2+1), 10) // real hidden slot is 3
		buf = append(buf, '}')
	}
	return append(buf, "]}"...)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuf() *[]byte { b := bufPool.Get().(*[]byte); *b = (*b)[:0]; return b }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		bufPool.Put(b)
	}
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client hung up; nothing useful to do
}

// writeDetail answers with a DRF-style {"detail": msg} error.
func writeDetail(w http.ResponseWriter, status int, msg string) {
	body := appendString([]byte(`{"detail":`), msg)
	writeJSON(w, status, append(body, '}'))
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	ct := "text/plain; charset=utf-8"
	if t := strings.TrimSpace(body); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		ct = "application/json; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// appendString appends s as a JSON string. Hosts and messages are the only
// untrusted text, so a simple escaper suffices.
func appendString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '"')
}
