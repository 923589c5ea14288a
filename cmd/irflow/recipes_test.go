package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/exec"
)

// TestMSMARCODLRecipe runs recipes/msmarco-dl-eval.hcl end to end with the
// irflow command: eight evaluations of the bundled DL19/DL20 runs, each
// with an expect on Pyserini's published nDCG@10.
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
	if len(res.Stages) != len(want) {
		t.Fatalf("%d stages, want %d", len(res.Stages), len(want))
	}
	for _, s := range res.Stages {
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
	if n := stateCounts(c.mustRun(recipe, args...)); n[exec.Cached] != len(want) {
		t.Errorf("second run: %v", n)
	}
}
