package integtest_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/integ/integ/integrations/pokeapi"
	"github.com/integ/integ/integtest"
	"github.com/integ/integ/internal/pokeserver"
	"github.com/tidwall/gjson"
)

// A connector's test is one call per concern. (In a real test file t is
// the *testing.T; exampleT stands in for it so this example runs.)
func Example() {
	t := &exampleT{}
	defer t.cleanup()

	srv := integtest.NewServer(t, pokeserver.New(pokeserver.WithCount(3)))
	cfg := map[string]any{"base_url": srv.URL + "/api/v2", "page_size": 2}

	res := integtest.Sync(t, pokeapi.Source(), cfg, integtest.WithStreams("pokemon"))
	for _, r := range res.Records("pokemon") {
		fmt.Println(gjson.GetBytes(r, "name"))
	}
	for _, r := range srv.Requests() {
		fmt.Println(r)
	}
	fmt.Println("exit code", res.ExitCode, "failed", t.failed)
	// Output:
	// bulbasaur
	// ivysaur
	// venusaur
	// GET /api/v2/pokemon?limit=2&offset=0
	// GET /api/v2/pokemon?limit=2&offset=2
	// exit code 0 failed false
}

// exampleT is the part of *testing.T the kit uses.
type exampleT struct {
	testing.TB
	failed   bool
	cleanups []func()
}

func (t *exampleT) Helper()                         {}
func (t *exampleT) Logf(format string, args ...any) {}
func (t *exampleT) Errorf(format string, args ...any) {
	t.failed = true
	fmt.Printf(format+"\n", args...)
}
func (t *exampleT) Fatalf(format string, args ...any) { t.Errorf(format, args...); panic("fatal") }
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) TempDir() string {
	d, err := os.MkdirTemp("", "integtest")
	if err != nil {
		panic(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
