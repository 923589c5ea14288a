package recipe_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
	"github.com/irflow/irflow/stages/testkinds"

	// The real kinds too, as irflow links them: the fixtures check their
	// declarations (formats, enums, ranges) as the CLI test does.
	_ "github.com/irflow/irflow/stages/bm25"
	_ "github.com/irflow/irflow/stages/evaluate"
	_ "github.com/irflow/irflow/stages/fit"
	_ "github.com/irflow/irflow/stages/neural"
	_ "github.com/irflow/irflow/stages/report"
	_ "github.com/irflow/irflow/stages/rerank"
)

func init() { testkinds.Register() }

// fetch resolves hf: references as `irflow plan` does, from a cache that
// is empty here: names are checked before anything is looked up.
func fetch(ref string) (string, error) {
	return (&hf.Hub{CacheDir: filepath.Join(os.TempDir(), "irflow-no-hub-cache"), Offline: true}).ResolveModel(context.Background(), ref)
}

// TestBadRecipes loads every malformed recipe and checks that each wanted
// error is reported at its line and column.
func TestBadRecipes(t *testing.T) {
	testenv.SharedData(t) // sha256_mismatch.hcl reads the ADI qrels
	cases := recipetest.BadCases(t, filepath.Join("testdata", "bad"))
	if len(cases) < 25 {
		t.Fatalf("only %d bad recipes; want at least 25", len(cases))
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(c.Path), ".hcl"), func(t *testing.T) {
			_, diags := recipe.Load(c.Path, recipe.Options{Vars: c.Vars, VarFiles: c.Files, Fetch: fetch})
			if !diags.HasErrors() {
				t.Fatalf("loaded without errors")
			}
			for _, w := range c.Wants {
				found := false
				for _, d := range diags {
					found = found || w.Matches(d)
				}
				if !found {
					t.Errorf("want %s\ngot:%s", w, recipetest.Describe(diags))
				}
			}
		})
	}
}
