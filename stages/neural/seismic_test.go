package neural_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestSeismicPlanTimeErrors: parameters a Seismic index or search cannot
// use, impossible combinations and inputs of the wrong method are errors
// of `irflow plan` pointing at the attribute (file:line:col).
func TestSeismicPlanTimeErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docs.tsv"), []byte("d1\tsome text\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "queries.tsv"), []byte("q1\ttext\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "model"), 0o755)
	const tmpl = `
index "exact" {
  method = "sparse"
  docs   = "docs.tsv"
  model  = "model"
}

index "dense" {
  method = "dense"
  docs   = "docs.tsv"
  model  = "model"
}

index "a" {
  method = "seismic"
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
	const src = "sparse = index.exact.index\n  "
	cases := []struct {
		index, searchMethod, search string
		want                        string // "" = plans
		at                          string // the attribute the error points at
	}{
		{src, "seismic", "", "", ""},
		{src + "num_postings = 1000\n  centroid_fraction = 0.2\n  min_cluster_size = 3\n  summary_energy = 1\n  doc_cut = 10\n  seed = 4",
			"seismic", "query_cut = 5\n  heap_factor = 1\n  sorted = false", "", ""},
		{src + "num_postings = 0", "seismic", "", "num_postings = 0 is out of range", "num_postings = 0"},
		{src + "centroid_fraction = 1.5", "seismic", "", "centroid_fraction = 1.5 is out of range", "centroid_fraction = 1.5"},
		{src + "centroid_fraction = 0", "seismic", "", "centroid_fraction = 0 is out of range", "centroid_fraction = 0"},
		{src + "summary_energy = 0", "seismic", "", "summary_energy = 0 is out of range", "summary_energy = 0"},
		{src + "doc_cut = 0", "seismic", "", "doc_cut = 0 is out of range", "doc_cut = 0"},
		{src + "num_postings = 100\n  min_cluster_size = 100", "seismic", "", "min_cluster_size = 100 is not below num_postings = 100", "min_cluster_size = 100"},
		{src + "num_postings = 1000000\n  centroid_fraction = 0.1", "seismic", "", "100000 blocks per term: at most 65535", "centroid_fraction = 0.1"},
		{src + "pruning = \"global_threshold\"\n  max_fraction = 2", "seismic", "", "", ""},
		{src + "pruning = \"fixed\"", "seismic", "", "", ""},
		{src + "pruning = \"coi_threshold\"", "seismic", "", "coi_threshold", "pruning = \"coi_threshold\""},
		{src + "max_fraction = 2", "seismic", "", "max_fraction is only for pruning = \"global_threshold\"", "max_fraction = 2"},
		{src + "pruning = \"global_threshold\"\n  max_fraction = 0", "seismic", "", "max_fraction = 0 is out of range", "max_fraction = 0"},
		{src + "pruning = \"global_threshold\"\n  num_postings = 500000\n  max_fraction = 1.5", "seismic", "", "75000 blocks per term: at most 65535", "max_fraction = 1.5"},
		{src, "seismic", "heap_factor = 1.2", "heap_factor = 1.2 is out of range", "heap_factor = 1.2"},
		{src, "seismic", "query_cut = 0", "query_cut = 0 is out of range", "query_cut = 0"},
		{src, "seismic", "n_probe = 2", `"n_probe" is not expected`, "n_probe = 2"},
		{"sparse = index.dense.index", "seismic", "", "index/dense", "sparse = index.dense.index"},
		{"dense = index.exact.index", "seismic", "", `"dense" is not expected`, "dense = index.exact.index"},
		{src, "sparse", "", "index/seismic", "index   = index.a.index"},
	}
	var pcs []planCase
	for _, c := range cases {
		pcs = append(pcs, planCase{fmt.Sprintf(tmpl, c.index, c.searchMethod, c.search), c.want, c.at})
	}
	checkPlan(t, dir, "s", pcs)
}
