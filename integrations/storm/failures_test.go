package storm

import (
	"testing"

	"github.com/integ/integ/integtest"
)

func TestFailures(t *testing.T) {
	integtest.Failures(t, Source(), newFixture(5, 4, 3), func(srv *integtest.Server) any { return config(srv, 2) })
}
