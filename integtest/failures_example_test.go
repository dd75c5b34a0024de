package integtest_test

import (
	"fmt"

	"github.com/integ/integ/integrations/pokeapi"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/pokeserver"
	"github.com/integ/integ/internal/testsource"
)

// A connector's failure tests are one call: the suite serves the fixture
// behind its fault injector and builds the config from that server. (In a
// real test file t is the *testing.T.)
func ExampleFailures() {
	t := &exampleT{}
	defer t.cleanup()

	integtest.Failures(t, pokeapi.Source(), pokeserver.New(pokeserver.WithCount(3)), func(srv *integtest.Server) any {
		return map[string]any{"base_url": srv.URL + "/api/v2", "page_size": 2}
	})
	fmt.Println("failed", t.failed)
	// Output:
	// failed false
}

// The vendor's own refusal, as the fixture answers a wrong key, must reach
// the user with integ's advice, in both protocols and in check.
func ExampleBadCredentials() {
	t := &exampleT{}
	defer t.cleanup()

	srv := integtest.NewServer(t, testsource.NewServer(testsource.WithToken("the-right-key-1234")))
	cfg := map[string]any{"base_url": srv.URL, "api_key": "a-wrong-key-0000"}
	res := integtest.BadCredentials(t, testsource.Source(), cfg, []string{"refused the credentials", "check the token or key"})
	fmt.Println(res[1].FailureType())
	fmt.Println("failed", t.failed)
	// Output:
	// config_error
	// failed false
}

// Waits records what the retry layer waited, without waiting.
func ExampleWaits() {
	t := &exampleT{}
	defer t.cleanup()

	s := testsource.NewServer(testsource.WithPageSize(2))
	s.Add("event-1", t0)
	s.FailNext(503, 503)
	srv := integtest.NewServer(t, s)
	var w integtest.Waits
	res := integtest.Sync(t, testsource.Source(), map[string]any{"base_url": srv.URL}, integtest.WithStreams("events"), integtest.WithWaits(&w, 3))
	fmt.Println(len(res.Records("events")), "record after", len(w.All()), "waits")
	// Output:
	// 1 record after 2 waits
}
