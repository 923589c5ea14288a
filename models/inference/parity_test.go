//go:build torch

package inference

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
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

// lirResult is what lir_heads.py reports for one model: its scores, the
// scored vectors (bi-encoders; COIL's [CLS] vectors apart), the input ids
// (cross-encoders), and the same in the case's reference dtype.
type lirResult struct {
	Scores    []float64
	QueryEmb  []float64   `json:"query_emb"`
	DocEmb    [][]float64 `json:"doc_emb"`
	QueryCLS  []float64   `json:"query_cls"`
	DocCLS    [][]float64 `json:"doc_cls"`
	IDs       [][]int
	Reference *lirResult
}

// lirModel is one model for lir_heads.py to build with Lightning IR 0.0.6
// (a fresh, perturbed head on Backbone, saved to Dir) and score; or, for
// the castorini-* and saved-* archs, a directory it scores as it is.
type lirModel struct {
	Backbone  string         `json:"backbone"`
	Arch      string         `json:"arch"`
	Config    map[string]any `json:"config,omitempty"`
	DType     string         `json:"dtype,omitempty"`     // run dtype; "" = float32
	Reference string         `json:"reference,omitempty"` // also scored in this dtype (lirResult.Reference)
	Scale     float64        `json:"scale,omitempty"`     // head perturbation; 0 = the script's 0.5

	Dir   string   `json:"out"`
	Seed  int      `json:"seed"`
	Query string   `json:"query"`
	Docs  []string `json:"docs"`
}

// lightningIR has lir_heads.py build and score every model in one run (the
// i-th seeded with i, saved to its own Dir under a temporary directory)
// and returns their results in order.
func lightningIR(t *testing.T, query string, docs []string, models []lirModel) []lirResult {
	t.Helper()
	out := t.TempDir()
	for i := range models {
		m := &models[i]
		m.Dir = filepath.Join(out, fmt.Sprintf("%02d-%s", i, m.Arch))
		m.Seed, m.Query, m.Docs = i, query, docs
	}
	var refs map[string]lirResult
	oracle.RunWithInput(t, &refs, map[string]any{"cases": models}, "lir_heads.py")
	res := make([]lirResult, len(models))
	for i, m := range models {
		r, ok := refs[m.Dir]
		if !ok {
			t.Fatalf("lir_heads.py reported nothing for %s", m.Dir)
		}
		res[i] = r
	}
	return res
}

// tiny returns the directory of a tiny random backbone: t5 and t5-gated
// from oracle.TinyT5, the others from oracle.TinyModels.
func tiny(t *testing.T, name string) string {
	if strings.HasPrefix(name, "t5") {
		return filepath.Join(oracle.TinyT5(t), name)
	}
	return filepath.Join(oracle.TinyModels(t), name)
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
	var models []lirModel
	for _, c := range cases {
		models = append(models, lirModel{Backbone: tiny(t, c.backbone), Arch: c.arch, Config: c.config})
	}
	refs := lightningIR(t, query, docs, models)
	ctx := context.Background()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := refs[i]
			m, err := Load(ctx, models[i].Dir, Options{Threads: 2, BatchSize: 3})
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

// checkLIRScores checks scores against Lightning IR's with near or, where
// the model has a float64 reference (Lightning IR on the same weights in
// float64), against that exact value: each score may be off it by twice
// Lightning IR's own fp32 error (its largest over the documents) plus
// near's bound. This is for models where fp32 accumulation alone, on both
// sides, goes past 1e-5 or 4 ulps; TestT5BFloat16 ties bf16 to PyTorch's
// bf16 the same way.
func checkLIRScores(t *testing.T, scores []float32, ref lirResult) {
	t.Helper()
	if ref.Reference == nil {
		checkScores(t, scores, ref.Scores)
		return
	}
	exact := ref.Reference.Scores
	var ours, theirs float64
	for j, e := range exact {
		theirs = math.Max(theirs, math.Abs(ref.Scores[j]-e))
	}
	for j, s := range scores {
		d := math.Abs(float64(s) - exact[j])
		ours = math.Max(ours, d)
		if bound := 2*theirs + math.Max(1e-5, 4*ulp(exact[j])); d > bound {
			t.Errorf("doc %d: score %.7g is %.2g from Lightning IR's float64 %.9g, more than %.2g (twice Lightning IR fp32's largest error %.2g, plus 1e-5 or 4 ulps)",
				j, s, d, exact[j], bound, theirs)
		}
	}
	t.Logf("max |Δscore| from Lightning IR in float64: irflow %.2g, Lightning IR fp32 %.2g", ours, theirs)
}

// reordered is r's scores in the order idx names (Embeddings.Subset's).
func (r lirResult) reordered(idx []int) lirResult {
	out := lirResult{Scores: make([]float64, len(idx))}
	for j, i := range idx {
		out.Scores[j] = r.Scores[i]
	}
	if r.Reference != nil {
		ref := r.Reference.reordered(idx)
		out.Reference = &ref
	}
	return out
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
