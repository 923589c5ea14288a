package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/pipeline/plan"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
)

// TestMSMARCODLRecipe runs recipes/msmarco-dl-eval.hcl end to end with the
// irflow command: eight evaluations of the bundled DL19/DL20 runs, each
// with an expect on Pyserini's published nDCG@10, and the report table
// (checked in TestReportCommand).
func TestMSMARCODLRecipe(t *testing.T) {
	recipe := filepath.Join(testenv.RepoRoot(t), "recipes", "msmarco-dl-eval.hcl")
	var args []string
	if os.Getenv("IRFLOW_SHARED_DATA") != "" {
		// The recipe's default reaches ../shared/data beside the checkout.
		args = append(args, "-var", "data="+testenv.Collection(t, "msmarco-passage"))
	} else {
		testenv.Collection(t, "msmarco-passage")
	}
	c := newCLI(t)
	res := c.mustRun(recipe, args...)

	// trec_eval values of the bundled runs (docs: shared/notes/anchors.md,
	// six decimals) and, for BM25+RM3, the collection README (four).
	want := map[string]float64{
		"bm25.dl19": 0.505831, "bm25.dl20": 0.479637,
		"splade-pp-ed.dl19": 0.730807, "splade-pp-ed.dl20": 0.719669,
		"tasb.dl19": 0.721033, "tasb.dl20": 0.685361,
		"bm25-rm3.dl19": 0.5216, "bm25-rm3.dl20": 0.4896,
	}
	if len(res.Stages) != len(want)+1 {
		t.Fatalf("%d stages, want %d", len(res.Stages), len(want)+1)
	}
	for _, s := range res.Stages {
		if s.Address == "report.dl" {
			continue
		}
		key := strings.TrimSuffix(strings.TrimPrefix(s.Address, `evaluate.ndcg["`), `"]`)
		w, ok := want[key]
		if !ok || s.State != exec.Ran {
			t.Errorf("%s: %s", s.Address, s.State)
			continue
		}
		tol := 5e-7
		if strings.HasPrefix(key, "bm25-rm3") {
			tol = 5e-5
		}
		if got := s.Metrics["nDCG@10"]; math.Abs(got-w) > tol {
			t.Errorf("%s: nDCG@10 = %.6f, want %.6f", s.Address, got, w)
		}
		if len(s.Expectations) != 1 || !s.Expectations[0].OK || !strings.Contains(s.Expectations[0].Position, "msmarco-dl-eval.hcl:") {
			t.Errorf("%s: expectations %+v", s.Address, s.Expectations)
		}
	}
	if n := stateCounts(c.mustRun(recipe, args...)); n[exec.Cached] != len(want)+1 {
		t.Errorf("second run: %v", n)
	}
}

// TestEveryRecipePlans loads and plans every recipe in recipes/ (a new
// recipe is covered by being there) with the kinds irflow links, against
// an empty cache: the recipe must load without errors, every stage must
// plan to run, and nothing may be written. hf: models resolve to a stand-in
// directory, so the test needs no Hugging Face cache.
func TestEveryRecipePlans(t *testing.T) {
	root := testenv.RepoRoot(t)
	paths, err := filepath.Glob(filepath.Join(root, "recipes", "*.hcl"))
	if err != nil || len(paths) < 7 {
		t.Fatalf("recipes: %v %v", paths, err)
	}
	data := testenv.SharedData(t)
	model := t.TempDir()
	if err := os.WriteFile(filepath.Join(model, "config.json"), []byte(`{"model_type": "bert"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := recipe.Options{Fetch: func(string) (string, error) { return model, nil }}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".hcl"), func(t *testing.T) {
			path := atSharedData(t, path, data)
			r, diags := recipe.Load(path, opts)
			if diags.HasErrors() {
				t.Fatalf("%s", recipetest.Describe(diags))
			}
			p, err := plan.Build(r)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "cache")
			c, err := cache.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			decisions, err := p.Resolve(c, c.Digests())
			if err != nil {
				t.Fatal(err)
			}
			if len(decisions) == 0 {
				t.Fatal("no stages")
			}
			for _, d := range decisions {
				if d.Cached || len(d.Reasons) == 0 {
					t.Errorf("%s: cached %v, reasons %q", d.Stage.Address, d.Cached, d.Reasons)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "objects")); err == nil {
				t.Error("planning wrote to the cache")
			}
		})
	}
}

// atSharedData returns the recipe's path when the shared collections are
// where recipes expect them (../../shared/data from recipes/); otherwise a
// copy of it in a directory where that relative path leads to data.
func atSharedData(t *testing.T, path, data string) string {
	expected, _ := filepath.Abs(filepath.Join(filepath.Dir(path), "..", "..", "shared", "data"))
	if same, err := filepath.EvalSymlinks(expected); err == nil {
		if real, _ := filepath.EvalSymlinks(data); same == real {
			return path
		}
	}
	tmp := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tmp, "shared"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(data, filepath.Join(tmp, "shared", "data")); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(tmp, "repo", "recipes", filepath.Base(path))
	src, err := os.ReadFile(path)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(dst), 0o755)
	}
	if err == nil {
		err = os.WriteFile(dst, src, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
