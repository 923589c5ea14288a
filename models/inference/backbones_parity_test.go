//go:build torch

package inference

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
)

// TestHeadsOnNewBackbones runs every head on the tiny random RoBERTa,
// XLM-RoBERTa and ModernBERT: DPR, Col and mono built and scored by
// Lightning IR 0.0.6 itself (its saved directories loaded by irflow), and
// SPLADE through the masked-LM head (RoBERTa's lm_head, ModernBERT's
// head + decoder) against transformers' own logits (mlm_splade.py:
// Lightning IR 0.0.6 has MLM heads only for BERT and DistilBERT).
// Documents of very different lengths share padded batches, so RoBERTa's
// padding-offset positions and ModernBERT's local windows are exercised.
// Every model is then saved by irflow, reloaded and scored again.
func TestHeadsOnNewBackbones(t *testing.T) {
	root := oracle.TinyModels(t)
	query, docs := headParityTexts(t)
	type tc struct {
		name, backbone, arch string
		config               map[string]any
	}
	lir := []tc{
		{"dpr default roberta", "roberta", "dpr", map[string]any{"pooling_strategy": "first"}},
		{"dpr mean+normalize+cosine xlm-roberta", "xlm-roberta", "dpr", map[string]any{
			"pooling_strategy": "mean", "normalize": true, "similarity_function": "cosine",
			"projection": "linear_no_bias", "embedding_dim": 16, "doc_length": 64}},
		{"col default roberta", "roberta", "col", map[string]any{}},
		{"col expansion+punctuation+l2 roberta", "roberta", "col", map[string]any{
			"embedding_dim": 8, "query_expansion": true, "attend_to_query_expanded_tokens": true, "query_length": 24,
			"doc_mask_scoring_tokens": "punctuation", "normalization_strategy": "l2", "doc_length": 48}},
		{"mono rank first roberta", "roberta", "mono", map[string]any{}},
		{"mono mono bert_pool bias xlm-roberta", "xlm-roberta", "mono", map[string]any{
			"scoring_strategy": "mono", "pooling_strategy": "bert_pool", "linear_bias": true, "query_length": 8, "doc_length": 40}},
		{"dpr mean modernbert", "modernbert", "dpr", map[string]any{"pooling_strategy": "mean", "doc_length": 96}},
		{"col markers+expansion modernbert", "modernbert", "col", map[string]any{
			"embedding_dim": 8, "add_marker_tokens": true, "query_expansion": true, "query_length": 24}},
		{"mono rank first modernbert with biases", "modernbert-bias", "mono", map[string]any{"linear_bias": true}},
	}
	var models []lirModel
	for _, c := range lir {
		models = append(models, lirModel{Backbone: filepath.Join(root, c.backbone), Arch: c.arch, Config: c.config})
	}
	refs := lightningIR(t, query, docs, models)

	type run struct {
		name, dir string
		opts      Options
		ref       lirResult
	}
	var runs []run
	for i, c := range lir {
		runs = append(runs, run{c.name, models[i].Dir, Options{}, refs[i]})
	}
	splade := []struct {
		name, backbone, sparsification string
		qlen, dlen                     int
	}{
		{"splade roberta (RobertaForMaskedLM lm_head)", "roberta", "relu_log", 32, 512},
		{"splade xlm-roberta relu_2xlog", "xlm-roberta", "relu_2xlog", 16, 40},
		{"splade modernbert (head + decoder)", "modernbert", "relu_log", 32, 96},
		{"splade modernbert with biases", "modernbert-bias", "relu_log", 32, 96},
	}
	var spladeSpecs []map[string]any
	for _, c := range splade {
		spladeSpecs = append(spladeSpecs, map[string]any{"dir": filepath.Join(root, c.backbone), "query": query, "docs": docs,
			"query_length": c.qlen, "doc_length": c.dlen, "sparsification": c.sparsification})
	}
	var spladeRefs []lirResult
	oracle.RunWithInput(t, &spladeRefs, map[string]any{"cases": spladeSpecs}, "mlm_splade.py")
	for i, c := range splade {
		o := Options{Head: "splade", HeadOverrides: map[string]string{"sparsification": c.sparsification,
			"query_length": strconv.Itoa(c.qlen), "doc_length": strconv.Itoa(c.dlen)}}
		runs = append(runs, run{c.name, spladeSpecs[i]["dir"].(string), o, spladeRefs[i]})
	}

	ctx := context.Background()
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			r.opts.Threads, r.opts.BatchSize = 2, 3
			m, err := Load(ctx, r.dir, r.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			scores, err := m.Score(ctx, query, docs)
			if err != nil {
				t.Fatal(err)
			}
			checkScores(t, scores, r.ref.Scores)
			// Saved by irflow (Lightning IR's layout; RoBERTa's lm_head as
			// projection.*) and loaded again, the model still scores as the oracle.
			saved := filepath.Join(t.TempDir(), "saved")
			if err := m.Save(saved); err != nil {
				t.Fatal(err)
			}
			m2, err := Load(ctx, saved, Options{Threads: 2, BatchSize: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer m2.Close()
			again, err := m2.Score(ctx, query, docs)
			if err != nil {
				t.Fatal(err)
			}
			t.Log("saved and reloaded:")
			checkScores(t, again, r.ref.Scores)
			if m.Head.IsCrossEncoder() {
				return
			}
			checkEmbeddings(t, m, query, docs, r.ref.QueryEmb, r.ref.DocEmb)
		})
	}
}
