package neural_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
)

// planCase is one recipe and what `irflow plan` must say of it: nothing
// (want "") or an error containing want at the line of the text at.
type planCase struct{ text, want, at string }

// checkPlan loads each case's recipe (written to dir as PREFIX<i>.hcl),
// checks its diagnostics and their position (file:line), and returns each
// case's diagnostics text for further checks.
func checkPlan(t *testing.T, dir, prefix string, cases []planCase) []string {
	t.Helper()
	msgs := make([]string, len(cases))
	for i, c := range cases {
		p := filepath.Join(dir, fmt.Sprintf("%s%d.hcl", prefix, i))
		if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, diags := recipe.Load(p, recipe.Options{})
		msg := recipetest.Describe(diags)
		msgs[i] = msg
		if c.want == "" {
			if diags.HasErrors() {
				t.Errorf("case %d: %s", i, msg)
			}
			continue
		}
		line := 1 + strings.Count(c.text[:strings.Index(c.text, c.at)], "\n")
		pos := fmt.Sprintf("%s:%d:", filepath.Base(p), line)
		if !diags.HasErrors() || !strings.Contains(msg, c.want) || !strings.Contains(msg, pos) {
			t.Errorf("case %d: diagnostics %q, want %q at %s", i, msg, c.want, pos)
		}
	}
	return msgs
}
