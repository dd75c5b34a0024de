package hubspot

import (
	"testing"

	"github.com/integ/integ/integtest"
)

func TestFailures(t *testing.T) {
	f := newFixture(3)
	f.bodies = map[string][]byte{}
	integtest.Failures(t, Source(), f, func(srv *integtest.Server) any { return tokenConfig(srv) })
}
