package neural_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestUnindexableModelsRefusedAtPlan checks that index and search refuse
// COIL, UniCOIL and MVR models at `irflow plan`, at the block's model
// attribute: Lightning IR 0.0.6 has no indexer for them. The config.json
// files are Lightning IR's (model_type plus head fields); a model
// directory without one is left to the run, and a DPR model plans.
func TestUnindexableModelsRefusedAtPlan(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docs.tsv"), []byte("d1\tsome text\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "queries.tsv"), []byte("q1\ttext\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "plain"), 0o755)
	bert := `"backbone_model_type": "bert", "hidden_size": 32, "vocab_size": 100, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 37`
	for name, head := range map[string]string{
		"coil":    `"model_type": "coil", "token_embedding_dim": 8, "cls_embedding_dim": 12`,
		"unicoil": `"model_type": "unicoil", "projection": "linear"`,
		"mvr":     `"model_type": "mvr", "num_viewer_tokens": 4`,
		"dpr":     `"model_type": "lir-dpr", "pooling_strategy": "first"`,
	} {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, "config.json"), []byte("{"+head+", "+bert+"}"), 0o644)
	}
	const tmpl = `
index "exact" {
  method = "%s"
  docs   = "docs.tsv"
  model  = "%s"
}

search "a" {
  method  = "%s"
  index   = index.exact.index
  queries = "queries.tsv"
  model   = "%s"
  k       = 10
}
`
	cases := []struct {
		method, indexModel, searchModel string
		want, at                        string
	}{
		{"dense", "dpr", "dpr", "", ""},
		{"dense", "plain", "plain", "", ""},
		{"dense", "coil", "dpr", "a coil model cannot be indexed or searched: Lightning IR 0.0.6 has no index for it", `model  = "coil"`},
		{"multivector", "coil", "plain", "a coil model cannot be indexed", `model  = "coil"`},
		{"sparse", "unicoil", "plain", "a unicoil model cannot be indexed", `model  = "unicoil"`},
		{"dense", "mvr", "plain", "a mvr model cannot be indexed", `model  = "mvr"`},
		{"multivector", "plain", "mvr", "a mvr model cannot be indexed", `model   = "mvr"`},
		{"sparse", "plain", "unicoil", "a unicoil model cannot be indexed", `model   = "unicoil"`},
		{"dense", "dpr", "coil", "a coil model cannot be indexed", `model   = "coil"`},
	}
	var pcs []planCase
	for _, c := range cases {
		pcs = append(pcs, planCase{fmt.Sprintf(tmpl, c.method, c.indexModel, c.method, c.searchModel), c.want, c.at})
	}
	checkPlan(t, dir, "z", pcs)
}

// TestHeadOptionsCheckedAtPlan: an unknown head option or a value of the
// wrong type is an error at the head_options attribute before any model is
// read (heads.CheckOverrides; fit and re_rank use the same check).
func TestHeadOptionsCheckedAtPlan(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docs.tsv"), []byte("d1\tsome text\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "m"), 0o755)
	const tmpl = `
index "exact" {
  method       = "dense"
  docs         = "docs.tsv"
  model        = "m"
  head_options = %s
}
`
	checkPlan(t, dir, "h", []planCase{
		{fmt.Sprintf(tmpl, `{ doc_length = "256", normalization = "l2" }`), "", ""},
		{fmt.Sprintf(tmpl, `{ doc_lenght = "256" }`), `unknown head option "doc_lenght"`, "head_options"},
		{fmt.Sprintf(tmpl, `{ doc_length = "long" }`), `doc_length = "long": want an integer`, "head_options"},
		{fmt.Sprintf(tmpl, `{ add_marker_tokens = "yes" }`), "want true or false", "head_options"},
	})
}

// TestT5HeadsRefusedAtPlan checks that index and search refuse at `irflow
// plan`, at the model attribute, the heads irflow does not run on a T5
// model: SPLADE (Lightning IR 0.0.6 cannot build it on T5, which has no
// masked-language-model head), a Set-Encoder, and query expansion (T5 has
// no [MASK]); DPR and col (XTR) on the same plain T5 directory plan.
func TestT5HeadsRefusedAtPlan(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docs.tsv"), []byte("d1\tsome text\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "queries.tsv"), []byte("q1\ttext\n"), 0o644)
	t5 := `"d_model": 32, "num_layers": 2, "num_heads": 4, "d_kv": 8, "d_ff": 37, "vocab_size": 100`
	for name, head := range map[string]string{
		"t5":              `"model_type": "t5", "architectures": ["T5ForConditionalGeneration"]`,
		"t5-set-encoder":  `"model_type": "set-encoder", "backbone_model_type": "t5", "depth": 10`,
		"t5-saved-splade": `"model_type": "splade", "backbone_model_type": "t5"`,
	} {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, "config.json"), []byte("{"+head+", "+t5+"}"), 0o644)
	}
	const tmpl = `
index "exact" {
  method       = "%s"
  docs         = "docs.tsv"
  model        = "%s"
  head         = "%s"
  head_options = %s
}
`
	cases := []struct {
		method, model, head, options string
		want                         string
	}{
		{"dense", "t5", "dpr", "{}", ""},
		{"multivector", "t5", "col", `{ projection = "linear_no_bias" }`, ""},
		{"sparse", "t5", "splade", "{}", "a splade head does not run on a T5 backbone"},
		{"sparse", "t5-saved-splade", "", "{}", "a splade head does not run on a T5 backbone"},
		{"dense", "t5-set-encoder", "", "{}", "a set-encoder runs on bert or electra backbones (as in Lightning IR 0.0.6), not backbone_model_type \"t5\""},
		{"multivector", "t5", "col", `{ query_expansion = "true" }`, "query_expansion / doc_expansion pad with [MASK]"},
	}
	var pcs []planCase
	for _, c := range cases {
		pcs = append(pcs, planCase{fmt.Sprintf(tmpl, c.method, c.model, c.head, c.options), c.want, "model        ="})
	}
	checkPlan(t, dir, "t5-", pcs)
	// search runs the same check.
	checkPlan(t, dir, "t5-search-", []planCase{{`
index "exact" {
  method = "sparse"
  docs   = "docs.tsv"
  model  = "t5"
  head   = "dpr"
}

search "a" {
  method  = "sparse"
  index   = index.exact.index
  queries = "queries.tsv"
  model   = "t5"
  head    = "splade"
  k       = 10
}
`, "a splade head does not run on a T5 backbone", `model   = "t5"
  head    = "splade"`}})
}
