package integtest

import (
	"fmt"
	"net/http"
	"sync"
)

// Fault answers a fixture's request itself when ok is true: the n-th
// request the fixture got (from 1) is answered with status, header and
// body instead of the fixture's answer.
type Fault func(r *http.Request, n int) (status int, header http.Header, body string, ok bool)

// Faults lets a test make a fixture fail on chosen requests. Embed it in
// the fixture and start ServeHTTP with Answer:
//
//	type fixture struct {
//		integtest.Faults
//		...
//	}
//
//	func (f *fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
//		if f.Answer(w, r) {
//			return
//		}
//		...
//	}
//
// and in a test:
//
//	f.Fault = func(r *http.Request, n int) (int, http.Header, string, bool) {
//		if n == 1 {
//			return http.StatusServiceUnavailable, nil, "Service Unavailable", true
//		}
//		return 0, nil, "", false
//	}
//
// Set Fault before the server starts, or with SetFault while it runs.
type Faults struct {
	// Fault is asked about every request, one request at a time, when set.
	Fault Fault

	mu sync.Mutex
	n  int
}

// Answer counts the request and, when Fault answers it, writes that
// answer and returns true.
func (f *Faults) Answer(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	f.n++
	var status int
	var header http.Header
	var body string
	ok := false
	if f.Fault != nil {
		status, header, body, ok = f.Fault(r, f.n)
	}
	f.mu.Unlock()
	if !ok {
		return false
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	fmt.Fprint(w, body)
	return true
}

// SetFault replaces Fault (nil: none) while the fixture may be serving.
func (f *Faults) SetFault(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Fault = fault
}

// Requests returns how many requests Answer has seen.
func (f *Faults) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}
