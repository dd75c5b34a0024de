package odata_test

import (
	"fmt"
	"time"

	"github.com/integ/integ/requests/odata"
)

func ExampleQuery_Encode() {
	since := time.Date(2024, 5, 1, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	changed, _ := odata.Cmp("Updated", "ge", since)
	named, _ := odata.Cmp("Name", "eq", "O'Brien & Co")
	q := odata.Query{
		Select:  []string{"Id", "Name", "Updated"},
		Expand:  []string{"Items"},
		Filter:  odata.And(changed, named),
		OrderBy: []string{"Id"},
	}
	fmt.Println(q.Encode())
	// Output:
	// $select=Id,Name,Updated&$expand=Items&$filter=(Updated%20ge%202024-05-01T00:00:00Z)%20and%20(Name%20eq%20'O''Brien%20%26%20Co')&$orderby=Id
}
