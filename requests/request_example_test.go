package requests_test

import (
	"fmt"

	"github.com/integ/integ/requests"
)

// A Request is immutable: each builder method returns a new request, so one
// base can be shared by every stream, page and partition.
func ExampleRequest() {
	base := requests.New("https://api.example.com/v1/orders").
		Query("limit", "100").
		Header("Accept", "application/json")

	open := base.Query("status", "open")
	page2 := open.SetQuery("page", "2")
	closed := base.Query("status", "closed").Header("Accept", "text/csv")

	fmt.Println(base.URL(), base.HeaderValue("Accept"))
	fmt.Println(open.URL())
	fmt.Println(page2.URL())
	fmt.Println(closed.URL(), closed.HeaderValue("Accept"))

	// A call whose result is dropped changes nothing (make lint reports it):
	// assign the result instead.
	req := base
	req = req.Query("since", "2024-01-01")
	fmt.Println(req.URL())
	// Output:
	// https://api.example.com/v1/orders?limit=100 application/json
	// https://api.example.com/v1/orders?limit=100&status=open
	// https://api.example.com/v1/orders?limit=100&status=open&page=2
	// https://api.example.com/v1/orders?limit=100&status=closed text/csv
	// https://api.example.com/v1/orders?limit=100&since=2024-01-01
}
