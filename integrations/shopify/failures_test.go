package shopify

import (
	"testing"

	"github.com/integ/integ/integtest"
)

func TestFailures(t *testing.T) {
	s := newShop(3)
	integtest.Failures(t, Source(), s, func(srv *integtest.Server) any { return shopConfig(t, s, srv) })
}
