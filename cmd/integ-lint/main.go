// Command integ-lint runs the project's own analyzers in one pass over the
// module; make lint runs it as
//
//	go run ./cmd/integ-lint ./...
//
// The analyzers:
//
//   - barego: no bare go statements outside internal/conc (flag -barego.allow)
//   - requestresult: no discarded *requests.Request results (the builder is
//     immutable, so req.Query(k, v) as a statement does nothing)
//
// -fix applies the suggested fixes (req = req.Query(k, v)). cmd/barego still
// runs barego alone.
package main

import (
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/integ/integ/internal/analysis/barego"
	"github.com/integ/integ/internal/analysis/requestresult"
)

// analyzers are the checks make lint runs.
var analyzers = []*analysis.Analyzer{barego.Analyzer, requestresult.Analyzer}

func main() { multichecker.Main(analyzers...) }
