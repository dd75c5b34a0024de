package barego_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/integ/integ/internal/analysis/barego"
)

func TestAnalyzer(t *testing.T) {
	tests := []struct {
		name  string
		allow string
		pkgs  []string
	}{
		// bad has want comments; conc has none, so any report there fails.
		{"default allow list", barego.DefaultAllowed, []string{"bad", "github.com/integ/integ/internal/conc"}},
		{"custom allow list", "custom, other/pkg", []string{"custom", "bad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setAllow(t, tt.allow)
			analysistest.Run(t, analysistest.TestData(), barego.Analyzer, tt.pkgs...)
		})
	}
}

func TestAnalyzerReportsCustomWhenNotAllowed(t *testing.T) {
	setAllow(t, barego.DefaultAllowed)
	ft := &fakeT{}
	analysistest.Run(ft, analysistest.TestData(), barego.Analyzer, "custom")
	if len(ft.errs) != 1 {
		t.Fatalf("want exactly one unexpected diagnostic in custom, got %d: %q", len(ft.errs), ft.errs)
	}
}

func setAllow(t *testing.T, v string) {
	t.Helper()
	if err := barego.Analyzer.Flags.Set("allow", v); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { barego.Allowed = barego.DefaultAllowed })
}

// fakeT records analysistest failures so a test can assert a diagnostic
// appears where no want comment exists.
type fakeT struct{ errs []string }

func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, format)
}
