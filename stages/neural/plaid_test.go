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

// TestPLAIDPlanTimeErrors: bad PLAID parameters are errors of `irflow
// plan` at the attribute (file:line:), before anything runs.
func TestPLAIDPlanTimeErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docs.tsv"), []byte("d1\tsome text\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "queries.tsv"), []byte("q1\ttext\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "model"), 0o755)
	const tmpl = `
index "exact" {
  method = "multivector"
  docs   = "docs.tsv"
  model  = "model"
}

index "p" {
  method      = "plaid"
  multivector = index.exact.index
  %s
}

search "p" {
  method  = "plaid"
  index   = index.p.index
  queries = "queries.tsv"
  model   = "model"
  k       = 10
  %s
}
`
	cases := []struct {
		index, search string
		want, at      string // "" = plans
	}{
		{"", "", "", ""},
		{"num_centroids = 256\n  n_bits = 4\n  k_means_iters = 2\n  train_size = 10000\n  seed = 1", "n_cells = 256\n  centroid_score_threshold = -1e9\n  candidate_k = 5\n  rescore = true", "", ""},
		{"n_bits = 3", "", "n_bits = 3: want one of [1 2 4]", "n_bits = 3"},
		{"n_bits = 8", "", "n_bits = 8: want one of [1 2 4]", "n_bits = 8"},
		{"num_centroids = -1", "", "num_centroids = -1 is out of range", "num_centroids = -1"},
		{"num_centroids = 64\n  train_size = 10", "", "train_size = 10 is below num_centroids = 64", "train_size = 10"},
		{"k_means_iters = 0", "", "k_means_iters = 0 is out of range", "k_means_iters = 0"},
		{"num_centroids = 16", "n_cells = 17", "n_cells = 17 exceeds num_centroids = 16 of index.p", "n_cells = 17"},
		{"num_centroids = 16", "n_cells = 16", "", ""},
		{"", "n_cells = 100000", "", ""}, // default count: checked when the search opens the index
		{"", "n_cells = 0", "n_cells = 0 is out of range", "n_cells = 0"},
		{"", "candidate_k = 0", "candidate_k = 0 is out of range", "candidate_k = 0"},
		{"", "n_probe = 4", `"n_probe" is not expected`, "n_probe = 4"},
		{"n_lists = 4", "", `"n_lists" is not expected`, "n_lists = 4"},
		// A broken index block is reported once, not again by the search.
		{"num_centroids = 16\n  n_bits = 3", "n_cells = 17", "n_bits = 3", "n_bits = 3"},
	}
	var pcs []planCase
	for _, c := range cases {
		pcs = append(pcs, planCase{fmt.Sprintf(tmpl, c.index, c.search), c.want, c.at})
	}
	for i, msg := range checkPlan(t, dir, "r", pcs) {
		if !strings.Contains(cases[i].want, "exceeds") && strings.Contains(msg, "exceeds") {
			t.Errorf("case %d: the upstream check ran on a broken index block: %q", i, msg)
		}
	}
}

// TestPLAIDNeedsMultivector: a plaid index is built from a multivector
// index only.
func TestPLAIDNeedsMultivector(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docs.tsv"), []byte("d1\tsome text\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "model"), 0o755)
	p := filepath.Join(dir, "r.hcl")
	os.WriteFile(p, []byte(`
index "exact" {
  method = "dense"
  docs   = "docs.tsv"
  model  = "model"
}

index "p" {
  method      = "plaid"
  multivector = index.exact.index
}
`), 0o644)
	_, diags := recipe.Load(p, recipe.Options{})
	if msg := recipetest.Describe(diags); !diags.HasErrors() || !strings.Contains(msg, "r.hcl:10:") {
		t.Errorf("diagnostics %q: want an error at line 10", msg)
	} else {
		t.Log(msg)
	}
}
