package stripe_test

import (
	"testing"

	"github.com/integ/integ/integrations/stripe"
	"github.com/integ/integ/integtest"
)

func TestFailures(t *testing.T) {
	integtest.Failures(t, stripe.Source(), newFixture(3), func(srv *integtest.Server) any { return config(srv) })
}
