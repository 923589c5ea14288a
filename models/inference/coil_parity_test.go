//go:build torch

package inference

import (
	"cmp"
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/internal/testtexts"
)

// TestCoilMvrMatchLightningIR builds COIL, UniCOIL and MVR models on the
// tiny random BERT, and on ELECTRA, DistilBERT, RoBERTa, XLM-RoBERTa,
// ModernBERT and T5 (its encoder, as Lightning IR runs bi-encoders on T5;
// MVR cannot be built there), with Lightning IR v0.0.6 itself (lir_heads.py:
// fresh, randomised head weights, MVR's viewer tokens added to the
// tokenizer and embeddings), loads the saved directories with irflow and
// compares embeddings and scores of a real SciFact query against real
// documents of very different lengths (padded batches of 3 in irflow, one
// padded batch in Lightning IR). The documents include one sharing word
// pieces with the query and one sharing none but [SEP] (T5: </s>) in
// every vocabulary, so COIL's exact-match term is both on and off. Every
// model is then saved by irflow, reloaded and scored again, and documents
// are scored again in reverse order through Embeddings.Subset, as re_rank
// does.
//
// MVR on the backbones other than BERT and RoBERTa, the default MVR and
// COIL on T5 are compared with Lightning IR run in float64 on the same
// weights (checkLIRScores): their unnormalised scores carry fp32
// accumulation error to or past 1e-5 / 4 ulps on both sides.
func TestCoilMvrMatchLightningIR(t *testing.T) {
	query := testtexts.Lines(t, 2, "scifact", "queries.tsv")[1]
	docs := append(testtexts.Lines(t, 4, "scifact", "docs.tsv"),
		"Genomes of rare variants: the project maps genetic variation.",
		"Cell death in the brain")
	type tc struct {
		name, arch string
		config     map[string]any
		backbone   string // tiny model; "" = bert
		reference  string // "float64": scores checked against Lightning IR in float64
	}
	cases := []tc{
		{"coil default", "coil", map[string]any{}, "", ""},
		{"coil markers, punctuation mask, cosine, mean, no bias", "coil", map[string]any{
			"add_marker_tokens": true, "doc_mask_scoring_tokens": "punctuation", "similarity_function": "cosine",
			"query_aggregation_function": "mean", "projection": "linear_no_bias", "token_embedding_dim": 8,
			"cls_embedding_dim": 12, "doc_length": 64}, "", ""},
		{"coil max/sum aggregation", "coil", map[string]any{
			"query_aggregation_function": "max", "doc_aggregation_function": "sum", "query_length": 16}, "", ""},
		{"unicoil default", "unicoil", map[string]any{}, "", ""},
		{"unicoil markers, cosine, no bias", "unicoil", map[string]any{
			"add_marker_tokens": true, "similarity_function": "cosine", "projection": "linear_no_bias", "doc_length": 48}, "", ""},
		// At 512 tokens the backbone's own float noise (1e-6,
		// TestForwardMatchesTransformers) reaches 5–6 ulps of this
		// model's unnormalised MVR score (9.2e-5 at 203 from Lightning
		// IR's fp32): measured against float64.
		{"mvr default", "mvr", map[string]any{}, "", "float64"},
		{"mvr 4 views, l2, cosine, mean", "mvr", map[string]any{
			"num_viewer_tokens": 4, "normalization_strategy": "l2", "similarity_function": "cosine",
			"doc_aggregation_function": "mean", "doc_length": 40}, "", ""},
		{"mvr markers, no projection", "mvr", map[string]any{"add_marker_tokens": true, "projection": nil, "doc_length": 64}, "", ""},
		// The other backbones under the same heads.
		{"coil on roberta", "coil", map[string]any{"doc_length": 64}, "roberta", ""},
		{"unicoil on modernbert", "unicoil", map[string]any{"doc_length": 64}, "modernbert", ""},
		{"mvr on roberta", "mvr", map[string]any{"doc_length": 64}, "roberta", ""},
		// 1.2e-5 off Lightning IR's fp32 at a score of 2.6 (12 ulps),
		// Lightning IR's fp32 itself 1.5e-5 off its float64.
		{"mvr 4 views on modernbert", "mvr", map[string]any{"num_viewer_tokens": 4, "doc_length": 64}, "modernbert", "float64"},
		{"coil on modernbert", "coil", map[string]any{"doc_length": 64}, "modernbert", ""},
		{"unicoil on xlm-roberta", "unicoil", map[string]any{"doc_length": 64}, "xlm-roberta", ""},
		// 6.1e-5 off Lightning IR's fp32 at 152: 4 ulps, at the edge.
		{"mvr 4 views on electra", "mvr", map[string]any{"num_viewer_tokens": 4, "doc_length": 64}, "electra", "float64"},
		{"coil on distilbert", "coil", map[string]any{"doc_length": 64}, "distilbert", ""},
		{"coil on electra", "coil", map[string]any{"doc_length": 64}, "electra", ""},
		{"coil on xlm-roberta", "coil", map[string]any{"doc_length": 64}, "xlm-roberta", ""},
		{"unicoil on distilbert", "unicoil", map[string]any{"doc_length": 64}, "distilbert", ""},
		{"unicoil on roberta, no bias", "unicoil", map[string]any{"projection": "linear_no_bias", "doc_length": 64}, "roberta", ""},
		{"mvr 4 views on distilbert", "mvr", map[string]any{"num_viewer_tokens": 4, "doc_length": 64}, "distilbert", "float64"},
		{"mvr on xlm-roberta", "mvr", map[string]any{"doc_length": 64}, "xlm-roberta", "float64"},
		// 4.9e-4 off Lightning IR's fp32 at 516 (8 ulps).
		{"coil on t5 (encoder)", "coil", map[string]any{"doc_length": 64}, "t5", "float64"},
		{"coil on t5-gated, cosine, max/sum", "coil", map[string]any{"similarity_function": "cosine", "token_embedding_dim": 8,
			"query_aggregation_function": "max", "doc_aggregation_function": "sum", "doc_length": 96}, "t5-gated", ""},
		{"unicoil on t5-gated", "unicoil", map[string]any{"doc_length": 64}, "t5-gated", ""},
		{"unicoil on electra", "unicoil", map[string]any{"doc_length": 64}, "electra", ""},
	}
	var models []lirModel
	for _, c := range cases {
		models = append(models, lirModel{Backbone: tiny(t, cmp.Or(c.backbone, "bert")), Arch: c.arch, Config: c.config,
			Reference: c.reference})
	}
	refs := lightningIR(t, query, docs, models)
	ctx := context.Background()
	for i, c := range cases {
		ref := refs[i]
		t.Run(c.name, func(t *testing.T) {
			m, err := Load(ctx, models[i].Dir, Options{Threads: 2, BatchSize: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Head.Architecture != c.arch {
				t.Fatalf("head %s, want %s", m.Head.Architecture, c.arch)
			}
			if !slices.ContainsFunc(ref.Scores, func(v float64) bool { return v != 0 }) {
				t.Fatal("Lightning IR scores every document 0: the case would test nothing")
			}
			if c.arch == heads.Coil {
				checkMatchCases(t, m, query, docs)
			}
			scores, err := m.Score(ctx, query, docs)
			if err != nil {
				t.Fatal(err)
			}
			checkLIRScores(t, scores, ref)
			emb := ref
			if ref.Reference != nil {
				emb = *ref.Reference
			}
			q, err := m.EncodeQueries(ctx, []string{query})
			if err != nil {
				t.Fatal(err)
			}
			compareVec(t, "query", q.Vectors[0], q.Mask, 0, emb.QueryEmb)
			d, err := m.EncodeDocs(ctx, docs)
			if err != nil {
				t.Fatal(err)
			}
			for j := range docs {
				compareVec(t, "doc", d.Vectors[j], d.Mask, j, emb.DocEmb[j])
			}
			if c.arch == heads.Coil {
				compareVec(t, "query [CLS]", q.CLS[0], nil, 0, emb.QueryCLS)
				for j := range docs {
					compareVec(t, "doc [CLS]", d.CLS[j], nil, j, emb.DocCLS[j])
				}
			}
			rev := make([]int, len(docs))
			for j := range rev {
				rev[j] = len(docs) - 1 - j
			}
			t.Run("subset, reversed", func(t *testing.T) {
				again, err := m.ScoreEmbeddings(ctx, q, 0, d.Subset(rev))
				if err != nil {
					t.Fatal(err)
				}
				checkLIRScores(t, again, ref.reordered(rev))
			})

			t.Run("saved by irflow and reloaded", func(t *testing.T) {
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
				checkLIRScores(t, again, ref)
			})
		})
	}
}

// checkMatchCases makes sure the documents exercise COIL's exact match:
// the second-to-last shares word pieces with the query, the last none but
// [SEP].
func checkMatchCases(t *testing.T, m *Model, query string, docs []string) {
	t.Helper()
	q := m.inputs.Texts([]string{query}, true)[0]
	d := m.inputs.Texts(docs[len(docs)-2:], false)
	sep := m.tok.Specials().SEP
	shared := func(ids []int) int {
		n := 0
		for _, id := range ids[1:] {
			if id != sep && slices.Contains(q.IDs[1:], id) {
				n++
			}
		}
		return n
	}
	if n := shared(d[0].IDs); n < 3 {
		t.Fatalf("the matching document shares %d word pieces with the query, want ≥ 3", n)
	}
	if n := shared(d[1].IDs); n != 0 {
		t.Fatalf("the non-matching document shares %d word pieces with the query, want 0", n)
	}
}
