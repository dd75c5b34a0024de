package good

import (
	"fmt"

	"github.com/integ/integ/requests"
)

type client struct{ base *requests.Request }

var base = requests.New("https://x.test").Header("Accept", "application/json")

func used(c *client, page int) (*requests.Request, error) {
	req := base.Query("limit", "100")
	req = req.SetQuery("page", fmt.Sprint(page))
	c.base = c.base.Header("X", "y")
	var reqs []*requests.Request
	reqs = append(reqs, req.Clone(), requests.New("https://x.test/2"))
	_ = reqs
	req.QueryValue("page") // not a builder: returns a string
	req.URL()
	requests.Next(req) // two results: another analyzer's business
	requests.Apply(req, func(r *requests.Request) *requests.Request { return r.Method("POST") })
	fmt.Println(req.Query("a", "b"))
	if r := req.Query("x", "1"); r != nil {
		return r, nil
	}
	return req.Method("POST"), nil
}

type Request struct{}

func (r *Request) Query(k, v string) *Request { return r }

func others(r *Request) {
	requests.NewLimiter() // another type of the requests package
	r.Query("a", "b")     // a Request type of another package
}

func branches(req *requests.Request, since string) *requests.Request {
	if since != "" {
		req = req.Query("since", since)
	}
	return req
}

func loop(req *requests.Request, n int) []string {
	var urls []string
	for i := range n {
		req = req.SetQuery("page", fmt.Sprint(i))
		urls = append(urls, req.URL())
	}
	return urls
}

func captured(req *requests.Request) func() string {
	f := func() string { return req.URL() }
	req = req.Query("late", "1") // read by f through the shared variable
	return f
}

func pointer(req **requests.Request) {
	*req = (*req).Query("a", "b")
}

func field(c *client) {
	c.base = c.base.Method("POST")
}
