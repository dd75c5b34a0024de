package requestresult_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/integ/integ/internal/analysis/requestresult"
)

func TestAnalyzer(t *testing.T) {
	// bad has want comments for every discarded result; good has none, so
	// any report there fails the test. The requests stub reports its own
	// internal slip.
	analysistest.Run(t, analysistest.TestData(), requestresult.Analyzer,
		"bad", "good", "github.com/integ/integ/requests")
}

func TestSuggestedFixes(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), requestresult.Analyzer, "fix")
}
