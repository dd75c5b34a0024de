package fix

import "github.com/integ/integ/requests"

type client struct{ base *requests.Request }

func fixes(req *requests.Request, c *client, reqs []*requests.Request) {
	req.Query("a", "b")                  // want `Query is unused`
	req.Query("a", "b").Header("X", "y") // want `Header is unused`
	c.base.Header("Accept", "x")         // want `Header is unused`
	reqs[0].Method("POST")               // want `Method is unused`
	requests.New("https://x.test")       // want `New is unused`
}
