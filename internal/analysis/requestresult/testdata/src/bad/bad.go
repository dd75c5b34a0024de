package bad

import "github.com/integ/integ/requests"

type client struct {
	base  *requests.Request
	build func(string) *requests.Request
}

func statements(req *requests.Request, c *client, reqs []*requests.Request, m map[string]*requests.Request) {
	req.Query("a", "b")                            // want `the result of \(\*requests.Request\).Query is unused: the request builder is immutable, so the call changes nothing; assign it \(req = req...\)`
	req.Query("a", "b").Header("X", "y")           // want `the result of \(\*requests.Request\).Header is unused`
	(req.SetQuery("page", "2"))                    // want `the result of \(\*requests.Request\).SetQuery is unused`
	c.base.Header("Accept", "x")                   // want `the result of \(\*requests.Request\).Header is unused`
	reqs[0].Method("POST")                         // want `the result of \(\*requests.Request\).Method is unused`
	m["k"].Clone()                                 // want `the result of \(\*requests.Request\).Clone is unused`
	requests.New("https://x.test")                 // want `the result of requests.New is unused: .*; use the result`
	requests.New("https://x.test").Query("a", "b") // want `the result of \(\*requests.Request\).Query is unused`
	(*req).ValueCopy()                             // want `the result of \(requests.Request\).ValueCopy is unused`
}

func indirect(req *requests.Request, c *client) {
	q := req.Query
	q("a", "b")                               // want `this call's \*requests.Request result is unused`
	(*requests.Request).Header(req, "X", "y") // want `the result of \(\*requests.Request\).Header is unused`
	c.build("x")                              // want `this call's \*requests.Request result is unused`
	func() *requests.Request { return req }() // want `this call's \*requests.Request result is unused`
}

func discarded(req *requests.Request) {
	_ = req.Query("a", "b")        // want `the result of \(\*requests.Request\).Query is unused \(assigned to _\)`
	_, _ = req.Header("a", "b"), 1 // want `the result of \(\*requests.Request\).Header is unused \(assigned to _\)`
	defer req.Header("a", "b")     // want `the result of \(\*requests.Request\).Header is unused under defer`
	go req.Query("a", "b")         // want `the result of \(\*requests.Request\).Query is unused under go`
}

var _ = requests.New("https://x.test") // want `the result of requests.New is unused \(assigned to _\)`

// addSince looked right while the builder mutated: now it changes nothing.
func addSince(req *requests.Request, since string) {
	if since != "" {
		req = req.Query("since", since) // want `the result of \(\*requests.Request\).Query is assigned but never used`
	}
}

func lastAssignment(req *requests.Request) string {
	u := req.URL()
	req = req.Header("X", "y") // want `the result of \(\*requests.Request\).Header is assigned but never used`
	return u
}

func unusedClosure(req *requests.Request) func() {
	return func() {
		next := req.SetQuery("page", "2") // want `SetQuery is assigned but never used`
		_ = next
	}
}
