//go:build torch

package inference

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/internal/testtexts"
)

// near reports whether got is within 1e-5 of want, or within 4 fp32 ulps
// of it where that is more: an unnormalised SPLADE or ColBERT score of a
// random tiny model reaches 1e4, where one fp32 step is already 1e-3 and
// summation order alone moves the last bit.
func near(got float32, want float64) bool {
	return math.Abs(float64(got)-want) <= math.Max(1e-5, 4*ulp(want))
}

// ulp is the spacing of float32 values at the magnitude of v.
func ulp(v float64) float64 {
	a := float32(math.Abs(v))
	return float64(math.Nextafter32(a, float32(math.Inf(1))) - a)
}

type lirResult struct {
	Scores   []float64
	QueryEmb []float64   `json:"query_emb"`
	DocEmb   [][]float64 `json:"doc_emb"`
}

// headParityTexts is the query and documents the head parity tests score:
// a SciFact query against SciFact and MS MARCO documents of very different
// lengths and a short punctuated one.
func headParityTexts(t *testing.T) (string, []string) {
	query := testtexts.Lines(t, 1, "scifact", "queries.tsv")[0]
	docs := append(testtexts.Lines(t, 4, "scifact", "docs.tsv"), testtexts.Lines(t, 3, "msmarco-passage", "rerank", "passages.tsv")...)
	return query, append(docs, "Short, punctuated: doc!")
}

// TestHeadsMatchLightningIR builds models with every head preset in
// Lightning IR v0.0.6 itself (fresh, randomised head weights on tiny random
// backbones), saves them, loads the saved directories with irflow (config
// fields, weight names, tokenizer with marker tokens) and compares
// embeddings and scores of a real query against real documents.
func TestHeadsMatchLightningIR(t *testing.T) {
	root := oracle.TinyModels(t)
	out := t.TempDir()
	query, docs := headParityTexts(t)
	type tc struct {
		name, backbone, arch string
		config               map[string]any
	}
	cases := []tc{
		{"dpr default", "bert", "dpr", map[string]any{"pooling_strategy": "first"}},
		{"dpr mean+normalize+cosine+relu, no bias", "bert", "dpr", map[string]any{
			"pooling_strategy": "mean", "query_pooling_strategy": "mean", "doc_pooling_strategy": "mean",
			"normalize": true, "similarity_function": "cosine", "sparsification": "relu", "sparsification_strategy": "relu",
			"projection": "linear_no_bias", "embedding_dim": 16}},
		{"dpr max pooling, no projection, electra", "electra", "dpr", map[string]any{"pooling_strategy": "max", "projection": nil}},
		{"dpr sum pooling, distilbert", "distilbert", "dpr", map[string]any{"pooling_strategy": "sum", "doc_length": 64}},
		{"col default", "bert", "col", map[string]any{}},
		{"col expansion+markers+punctuation+l2+mean", "bert", "col", map[string]any{
			"embedding_dim": 8, "query_expansion": true, "add_marker_tokens": true,
			"doc_mask_scoring_tokens": "punctuation", "query_mask_scoring_tokens": []string{"?", "."},
			"normalization_strategy": "l2", "query_aggregation_function": "mean", "doc_length": 48}},
		{"col attend to expansion, max/max", "bert", "col", map[string]any{
			"query_expansion": true, "attend_to_query_expanded_tokens": true, "query_length": 16,
			"query_aggregation_function": "max", "doc_aggregation_function": "max"}},
		{"splade bert", "bert", "splade", map[string]any{}},
		{"splade distilbert relu_2xlog", "distilbert", "splade", map[string]any{"sparsification_strategy": "relu_2xlog", "doc_length": 40}},
		{"mono rank first", "bert", "mono", map[string]any{}},
		{"mono mono bert_pool bias", "bert", "mono", map[string]any{"scoring_strategy": "mono", "pooling_strategy": "bert_pool", "linear_bias": true}},
		{"mono rank mean electra", "electra", "mono", map[string]any{"pooling_strategy": "mean", "query_length": 8, "doc_length": 40}},
	}
	var specs []map[string]any
	for i, c := range cases {
		specs = append(specs, map[string]any{
			"out": filepath.Join(out, c.arch+string(rune('a'+i))), "backbone": filepath.Join(root, c.backbone),
			"arch": c.arch, "config": c.config, "query": query, "docs": docs, "seed": i,
		})
	}
	var refs map[string]lirResult
	oracle.RunWithInput(t, &refs, map[string]any{"cases": specs}, "lir_heads.py")
	ctx := context.Background()
	for i, c := range cases {
		dir := specs[i]["out"].(string)
		t.Run(c.name, func(t *testing.T) {
			ref := refs[dir]
			m, err := Load(ctx, dir, Options{Threads: 2, BatchSize: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Head.Architecture != c.arch {
				t.Fatalf("head %s, want %s", m.Head.Architecture, c.arch)
			}
			scores, err := m.Score(ctx, query, docs)
			if err != nil {
				t.Fatal(err)
			}
			checkScores(t, scores, ref.Scores)
			if c.arch == heads.Mono {
				return
			}
			checkEmbeddings(t, m, query, docs, ref.QueryEmb, ref.DocEmb)
		})
	}
}

// checkScores checks every score with near and logs the largest
// difference.
func checkScores(t *testing.T, scores []float32, want []float64) {
	t.Helper()
	var worst, top float64
	for j, s := range scores {
		if !near(s, want[j]) {
			t.Errorf("doc %d: score %.7g, Lightning IR %.7g", j, s, want[j])
		}
		worst = math.Max(worst, math.Abs(float64(s)-want[j]))
		top = math.Max(top, math.Abs(want[j]))
	}
	t.Logf("max |Δscore| %.2g for scores up to %.4g (%.2g fp32 ulps there)", worst, top, worst/ulp(top))
}

// checkEmbeddings encodes the query and the documents with m and compares
// their scored vectors with the oracle's.
func checkEmbeddings(t *testing.T, m *Model, query string, docs []string, queryEmb []float64, docEmb [][]float64) {
	t.Helper()
	ctx := context.Background()
	q, err := m.EncodeQueries(ctx, []string{query})
	if err != nil {
		t.Fatal(err)
	}
	compareVec(t, "query", q.Vectors[0], q.Mask, 0, queryEmb)
	d, err := m.EncodeDocs(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	for j := range docs {
		compareVec(t, "doc", d.Vectors[j], d.Mask, j, docEmb[j])
	}
}

// compareVec compares the scored vectors of one text with the oracle's
// (Lightning IR, or transformers' MLM logits for SPLADE on new backbones).
func compareVec(t *testing.T, what string, vec []float32, mask [][]bool, i int, want []float64) {
	t.Helper()
	var got []float32
	if mask == nil {
		got = vec
	} else {
		D := len(vec) / len(mask[i])
		for tok, on := range mask[i] {
			if on {
				got = append(got, vec[tok*D:(tok+1)*D]...)
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s %d: %d scored values, oracle %d", what, i, len(got), len(want))
		return
	}
	// Sum pooling adds hundreds of token vectors: fp32 summation order
	// matters at the scale of the vector's largest component.
	scale := 1.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	for k := range got {
		if math.Abs(float64(got[k])-want[k]) > 1e-5*scale {
			t.Errorf("%s %d: value %d = %.7g, oracle %.7g", what, i, k, got[k], want[k])
			return
		}
	}
}
