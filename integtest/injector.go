package integtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// faultMode is what the Failures suite's injector answers.
type faultMode int

const (
	faultNone         faultMode = iota
	faultUnauthorized           // 401 on every request, echoing its credentials
	faultThrottled              // 429 with Retry-After on every first attempt
	faultBurst                  // 502, then 503, then the fixture
	faultBrokenJSON             // 200 with a cut-off JSON body
	faultForbidden              // 403 on every request
)

// injector answers the requests match accepts with the faults of its mode
// and passes the rest, and every request in faultNone, to next.
type injector struct {
	next  http.Handler
	match func(*http.Request) bool

	mu   sync.Mutex
	mode faultMode
	seen map[string]int         // attempts of each request (method, URL and body)
	sent map[int]map[string]int // answers by status, by request
}

// set switches the mode; a fault mode starts with no request seen, and
// faultNone keeps what the last one saw, for the suite to assert.
func (in *injector) set(m faultMode) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.mode = m
	if m != faultNone {
		in.seen, in.sent = map[string]int{}, map[int]map[string]int{}
	}
}

// answered counts the answers with status since the last set.
func (in *injector) answered(status int) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, c := range in.sent[status] {
		n += c
	}
	return n
}

// repeated lists the requests answered with status more than limit times.
func (in *injector) repeated(status, limit int) []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []string
	for k, c := range in.sent[status] {
		if c > limit {
			out = append(out, fmt.Sprintf("%s (%d times)", strings.SplitN(k, "\n", 2)[0], c))
		}
	}
	sort.Strings(out)
	return out
}

func (in *injector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in.mu.Lock()
	mode := in.mode
	if mode == faultNone || in.match != nil && !in.match(r) {
		in.mu.Unlock()
		in.next.ServeHTTP(w, r)
		return
	}
	// The recording Server has buffered the body: reading it again is free.
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	key := r.Method + " " + maskedURL(r) + "\n" + string(body)
	in.seen[key]++
	attempt := in.seen[key]
	status := 0
	switch {
	case mode == faultUnauthorized:
		status = http.StatusUnauthorized
	case mode == faultThrottled && attempt == 1:
		status = http.StatusTooManyRequests
	case mode == faultBurst && attempt <= 2:
		status = []int{http.StatusBadGateway, http.StatusServiceUnavailable}[attempt-1]
	case mode == faultBrokenJSON:
		status = http.StatusOK
	case mode == faultForbidden:
		status = http.StatusForbidden
	}
	if status != 0 {
		if in.sent[status] == nil {
			in.sent[status] = map[string]int{}
		}
		in.sent[status][key]++
	}
	in.mu.Unlock()

	h := w.Header()
	switch status {
	case 0:
		in.next.ServeHTTP(w, r)
	case http.StatusUnauthorized:
		// Some APIs quote back what they refused: integ must not print it.
		msg := "invalid credentials: the server was sent " + strings.Join(credentialsOf(r), ", ")
		b, _ := json.Marshal(map[string]any{"message": msg, "error": map[string]string{"message": msg}})
		h.Set("Content-Type", "application/json")
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(status)
		w.Write(b)
	case http.StatusForbidden:
		h.Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, `{"message":"forbidden: these credentials may not read this resource"}`)
	case http.StatusTooManyRequests:
		h.Set("Content-Type", "application/json")
		h.Set("Retry-After", fmt.Sprint(FailuresRetryAfter))
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message":"too many requests: retry in %d seconds"}`, FailuresRetryAfter)
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		h.Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", status, http.StatusText(status))
	case http.StatusOK:
		h.Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, `{"data":[{"id":1,"name":"cut off`)
	}
}

// maskedURL is the request's URL for the injector's keys and reports.
func maskedURL(r *http.Request) string {
	u := *r.URL
	u.RawQuery = maskQuery(r.URL.Query()).Encode()
	return u.String()
}

// credentialsOf lists the secret-looking headers and parameters of r, raw.
func credentialsOf(r *http.Request) []string {
	var out []string
	for name, vals := range r.Header {
		if secretHeaders[name] || looksSecret(name) {
			for _, v := range vals {
				// Basic credentials decoded: the config's password as typed.
				if b, ok := strings.CutPrefix(v, "Basic "); ok {
					if dec, err := base64.StdEncoding.DecodeString(b); err == nil {
						v = "Basic " + string(dec)
					}
				}
				out = append(out, name+": "+v)
			}
		}
	}
	for name, vals := range r.URL.Query() {
		if looksSecret(name) {
			out = append(out, name+"="+strings.Join(vals, " "))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"no credentials"}
	}
	return out
}
