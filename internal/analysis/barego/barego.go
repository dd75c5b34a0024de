// Package barego defines an analyzer that forbids bare go statements outside
// an allow-list of packages (by default only internal/conc). Goroutines
// started elsewhere would crash the whole process on panic; internal/conc
// recovers panics into errors.
//
// Test files are exempt: tests legitimately start servers and helpers.
package barego

import (
	"go/ast"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Message is the diagnostic reported for each forbidden go statement.
const Message = "bare go statement: use internal/conc (Go, DoCtx) so panics are recovered"

// DefaultAllowed is the default value of the -allow flag.
const DefaultAllowed = "github.com/integ/integ/internal/conc"

// Allowed holds the comma-separated import paths allowed to use go
// statements. It backs the analyzer's -allow flag.
var Allowed = DefaultAllowed

// Analyzer reports go statements in non-test files of packages not in Allowed.
var Analyzer = &analysis.Analyzer{
	Name:     "barego",
	Doc:      "forbid bare go statements outside internal/conc\n\n" + Message,
	URL:      "https://pkg.go.dev/github.com/integ/integ/internal/analysis/barego",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

func init() {
	Analyzer.Flags.StringVar(&Allowed, "allow", DefaultAllowed,
		"comma-separated import paths allowed to use go statements")
}

func allowed(path string) bool {
	// go vet / singlechecker name the test variant "p [p.test]" and the
	// external test package "p_test"; both are test code anyway.
	path, _, _ = strings.Cut(path, " ")
	for p := range strings.SplitSeq(Allowed, ",") {
		if p = strings.TrimSpace(p); p != "" && p == path {
			return true
		}
	}
	return false
}

func run(pass *analysis.Pass) (any, error) {
	if allowed(pass.Pkg.Path()) {
		return nil, nil
	}
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	for n := range insp.PreorderSeq((*ast.GoStmt)(nil)) {
		if strings.HasSuffix(pass.Fset.File(n.Pos()).Name(), "_test.go") {
			continue
		}
		pass.Report(analysis.Diagnostic{Pos: n.Pos(), End: n.End(), Message: Message})
	}
	return nil, nil
}
