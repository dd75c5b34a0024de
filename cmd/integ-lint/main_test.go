package main

import (
	"testing"

	"golang.org/x/tools/go/analysis"
)

func TestAnalyzers(t *testing.T) {
	if err := analysis.Validate(analyzers); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, a := range analyzers {
		got[a.Name] = true
	}
	for _, want := range []string{"barego", "requestresult"} {
		if !got[want] {
			t.Errorf("integ-lint does not run %s", want)
		}
	}
	// barego's allow-list stays settable as -barego.allow.
	for _, a := range analyzers {
		if a.Name == "barego" && a.Flags.Lookup("allow") == nil {
			t.Error("barego lost its -allow flag")
		}
	}
}
