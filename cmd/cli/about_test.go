package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/integ/integ/integ"
	"github.com/integ/integ/integrations/pokeapi"
	"github.com/integ/integ/integrations/rest"
	"github.com/integ/integ/internal/golden"
	"github.com/integ/integ/internal/testsource"
)

// TestAboutMarkdownGolden pins each connector's --about --format markdown,
// the page a user reads to configure it, in testdata/about/<name>.md (go test
// -update rewrites them).
func TestAboutMarkdownGolden(t *testing.T) {
	for _, src := range []*integ.Source{pokeapi.Source(), rest.Source(), testsource.Source()} {
		t.Run(src.Name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := Execute(context.Background(), src, []string{"--about", "--format", "markdown"}, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if errb.Len() > 0 {
				t.Errorf("stderr: %s", errb.String())
			}
			golden.Check(t, filepath.Join("testdata", "about", src.Name+".md"), out.Bytes())
		})
	}
}
