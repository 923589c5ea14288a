package neural_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestANNMDividesDimAtPlan: m not dividing the dense model's dimension is
// an `irflow plan` error at m when the model directory can be read (its
// config.json's hidden size, or the head's projection size); a directory
// without a config leaves the check to the build.
func TestANNMDividesDimAtPlan(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docs.tsv"), []byte("d1\tsome text\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "st"), 0o755)
	os.WriteFile(filepath.Join(dir, "st", "config.json"), []byte(`{"model_type": "bert", "hidden_size": 384, "num_attention_heads": 12, "vocab_size": 30522}`), 0o644)
	os.MkdirAll(filepath.Join(dir, "bare"), 0o755)
	const tmpl = `
index "exact" {
  method = "dense"
  docs   = "docs.tsv"
  model  = "%s"
  head   = "%s"
  %s
}

index "a" {
  method  = "%s"
  dense   = index.exact.index
  %s
}
`
	cases := []struct {
		model, head, opts, method, index string
		want                             string // "" = plans
	}{
		{"st", "sentence-transformers", "", "ivfpq", "n_lists = 8\n  m = 48", ""},
		{"st", "sentence-transformers", "", "pq", "m = 40", "m = 40 does not divide 384, the dimension of the vectors of index.exact"},
		{"st", "sentence-transformers", "", "ivfpq", "n_lists = 8\n  m = 7", "m = 7 does not divide 384"},
		{"st", "dpr", `head_options = { embedding_dim = "256" }`, "pq", "m = 64", ""},
		{"st", "dpr", `head_options = { embedding_dim = "256" }`, "pq", "m = 48", "m = 48 does not divide 256"},
		{"bare", "sentence-transformers", "", "pq", "m = 40", ""}, // unreadable: the build checks
		{"st", "sentence-transformers", "", "ivf", "n_lists = 8", ""},
	}
	var pcs []planCase
	for _, c := range cases {
		lines := strings.Split(c.index, "\n")
		pcs = append(pcs, planCase{fmt.Sprintf(tmpl, c.model, c.head, c.opts, c.method, c.index), c.want, lines[len(lines)-1]})
	}
	checkPlan(t, dir, "d", pcs)
}
