package integtest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/integ/integ/integrations/pokeapi"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/pokeserver"
	"github.com/integ/integ/internal/testsource"
)

const token = "s3cr3t-T0KEN-do-not-print"

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// eventsServer is the test API with n events behind a token.
func eventsServer(t testing.TB, n int) (*integtest.Server, *testsource.Server) {
	s := testsource.NewServer(testsource.WithToken(token), testsource.WithPageSize(2))
	for i := range n {
		s.Add(fmt.Sprint("event-", i), t0.Add(time.Duration(i)*time.Minute))
	}
	return integtest.NewServer(t, s), s
}

func TestConformanceOfGoodSources(t *testing.T) {
	t.Run("testsource", func(t *testing.T) {
		srv, _ := eventsServer(t, 7)
		integtest.Conformance(t, testsource.Source(), map[string]any{"base_url": srv.URL, "api_key": token})
	})
	t.Run("pokeapi", func(t *testing.T) {
		srv := integtest.NewServer(t, pokeserver.New(pokeserver.WithCount(12)))
		integtest.Conformance(t, pokeapi.Source(), map[string]any{"base_url": srv.URL + "/api/v2", "page_size": 5})
	})
}
