package components_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/irflow/irflow/analysis"
	"github.com/irflow/irflow/models/tokenizer"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/stages/components"
)

// TestVersionsComeFromTheirPackages: each component's key version is read
// from the package that implements it, so bumping that package's version
// is all it takes to re-run the stages using it.
func TestVersionsComeFromTheirPackages(t *testing.T) {
	for name, want := range map[string]string{
		components.Analysis:  analysis.Config{}.Identity(),
		components.Tokenizer: strconv.Itoa(tokenizer.Version),
	} {
		c, ok := stage.LookupComponent(name)
		if !ok || c.Version != want {
			t.Errorf("%s: registered %q (%v), want %q", name, c.Version, ok, want)
		}
	}
	if !strings.Contains(analysis.Config{}.Identity(), "lucene=9.9.1") {
		t.Errorf("the analysis identity does not name its Lucene version: %s", analysis.Config{}.Identity())
	}
}
