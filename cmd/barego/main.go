// Command barego is the project's linter forbidding bare go statements
// outside internal/conc. Run it as:
//
//	go run ./cmd/barego ./...
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/integ/integ/internal/analysis/barego"
)

func main() { singlechecker.Main(barego.Analyzer) }
