package bad

import (
	"testing"

	"github.com/integ/integ/requests"
)

// Tests are checked too: a test that ignores the result tests nothing.
func TestBuilder(t *testing.T) {
	req := requests.New("https://x.test")
	req.Query("a", "b") // want `the result of \(\*requests.Request\).Query is unused`
	if req.URL() != "" {
		t.Fatal(req.URL())
	}
}
