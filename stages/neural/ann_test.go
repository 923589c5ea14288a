package neural_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/irflow/irflow/stages/neural"
)

// TestANNPlanTimeErrors: parameters an approximate index or search cannot
// use, and impossible combinations, are errors of `irflow plan` pointing
// at the attribute (file:line:col), before anything runs.
func TestANNPlanTimeErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docs.tsv"), []byte("d1\tsome text\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "queries.tsv"), []byte("q1\ttext\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "model"), 0o755)
	const tmpl = `
index "exact" {
  method = "dense"
  docs   = "docs.tsv"
  model  = "model"
}

index "a" {
  method = "%s"
  dense  = index.exact.index
  %s
}

search "a" {
  method  = "%s"
  index   = index.a.index
  queries = "queries.tsv"
  model   = "model"
  k       = 10
  %s
}
`
	cases := []struct {
		method, index, search string
		want                  string // "" = plans
		at                    string // the attribute the error points at
	}{
		{"ivfpq", "n_lists = 64\n  m = 48\n  opq = true\n  train_size = 5000", "n_probe = 8\n  candidate_k = 100\n  rescore = true", "", ""},
		{"ivf", "n_lists = 64", "n_probe = 4", "", ""},
		{"pq", "m = 16", "candidate_k = 50", "", ""},
		{"ivfpq", "n_lists = 64\n  m = 0", "", "m", "m = 0"},
		{"ivfpq", "m = 48", "", `"n_lists" is required`, `index "a"`},
		{"ivf", "n_lists = 64\n  m = 8", "", `"m" is not expected`, "m = 8"},
		{"pq", "m = 8", "n_probe = 2", `"n_probe" is not expected`, "n_probe = 2"},
		{"ivf", "n_lists = 64", "rescore = true", `"rescore" is not expected`, "rescore = true"},
		{"ivfpq", "n_lists = 256\n  m = 8\n  train_size = 100", "", "train_size = 100 is below n_lists = 256", "train_size = 100"},
		{"pq", "m = 8\n  train_size = 100", "", "needs at least 256 training vectors", "train_size = 100"},
		{"ivfpq", "n_lists = 16\n  m = 8", "candidate_k = 5", "candidate_k = 5 is below k = 10", "candidate_k = 5"},
		{"ivf", "n_lists = 0", "", "n_lists = 0 is out of range", "n_lists = 0"},
		{"ivf", "n_lists = 8", "n_probe = 0", "n_probe = 0 is out of range", "n_probe = 0"},
		{"ivf", "n_lists = 8", "n_probe = 8", "", ""},
		{"ivf", "n_lists = 8", "n_probe = 9", "n_probe = 9 exceeds n_lists = 8 of index.a", "n_probe = 9"},
		{"ivfpq", "n_lists = 16\n  m = 8", "n_probe = 32", "n_probe = 32 exceeds n_lists = 16 of index.a", "n_probe = 32"},
		// A broken index block is reported once, not again by the search.
		{"ivf", "n_lists = 0", "n_probe = 9", "n_lists = 0 is out of range", "n_lists = 0"},
	}
	var pcs []planCase
	for _, c := range cases {
		pcs = append(pcs, planCase{fmt.Sprintf(tmpl, c.method, c.index, c.method, c.search), c.want, c.at})
	}
	for i, msg := range checkPlan(t, dir, "r", pcs) {
		if !strings.Contains(cases[i].want, "exceeds") && strings.Contains(msg, "exceeds") {
			t.Errorf("case %d: the upstream check ran on a broken index block: %q", i, msg)
		}
	}
}
