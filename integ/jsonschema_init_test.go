package integ

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// TestJSONSchemaInitIsLazy guards the patched JSON Schema library
// (internal/third_party/jsonschema, README.integ.md there): its package
// initialisation must not compile the metaschemas of every draft, work
// that upstream's does at every start of every tap command (2.6 ms and
// 21,284 allocations). It runs this test binary again, running no test,
// with the runtime's init trace on.
func TestJSONSchemaInitIsLazy(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no executable:", err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", exe, err, out)
	}
	if regexp.MustCompile(`init github\.com/santhosh-tekuri/jsonschema`).Match(out) {
		t.Error("upstream's JSON Schema package is linked again: its init compiles every draft's metaschemas at every start; import internal/third_party/jsonschema")
	}
	m := regexp.MustCompile(`init github\.com/integ/integ/internal/third_party/jsonschema @\S+ ms, \S+ ms clock, \d+ bytes, (\d+) allocs`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no init line for the JSON Schema library in the init trace:\n%s", out)
	}
	allocs, _ := strconv.Atoi(string(m[1]))
	if allocs > 1000 {
		t.Errorf("the JSON Schema library's init made %d allocations: it compiled the metaschemas eagerly (was the upstream package imported again in place of internal/third_party/jsonschema?)", allocs)
	}
}
