package pokeapi

import (
	"testing"

	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/pokeserver"
)

func TestFailures(t *testing.T) {
	integtest.Failures(t, Source(), pokeserver.New(pokeserver.WithCount(5)), func(srv *integtest.Server) any { return config(srv, 2) })
}
