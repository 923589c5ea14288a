//go:build torch

package inference

import (
	"context"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/models/internal/testtexts"
)

// TestT5HeadsMatchLightningIR compares irflow with Lightning IR 0.0.6 on
// the tiny T5 models: monoT5 and RankT5 as Lightning IR saves them (mono
// on T5Model, ScaleLinear), castorini-style plain T5ForConditionalGeneration
// directories with the head named (the scorer = rows of the shared
// embeddings, by Lightning IR's own _map_mono_t5_weights and
// _map_rank_t5_weights), XTR (Col on T5EncoderModel, linear_no_bias, l2)
// and DPR on T5EncoderModel. Cross-encoder inputs must equal Lightning
// IR's token for token (its "Query: … Document: … Relevant:" templates,
// the pair cut to 512); scores and embeddings within the tolerances of
// TestHeadsMatchLightningIR. The castorini, XTR and DPR models are then
// saved by irflow and scored by Lightning IR from those directories, which
// must give the same scores. (COIL and UniCOIL on T5 are in
// TestCoilMvrMatchLightningIR; Lightning IR 0.0.6 cannot build SPLADE,
// MVR or the Set-Encoder on T5: docs/models.md.)
func TestT5HeadsMatchLightningIR(t *testing.T) {
	query := testtexts.Lines(t, 1, "scifact", "queries.tsv")[0]
	docs := append(testtexts.Lines(t, 4, "scifact", "docs.tsv"), testtexts.Lines(t, 3, "msmarco-passage", "rerank", "passages.tsv")...)
	long := strings.Repeat(docs[0]+" ", 6) // past 512 tokens: the pair is cut longest first
	docs = append(docs, "Short, punctuated: doc!", long)
	xtr := func(kv map[string]any) map[string]any {
		maps.Copy(kv, map[string]any{"projection": "linear_no_bias", "normalization_strategy": "l2"})
		return kv
	}
	cases := []struct {
		name, backbone, arch string
		config               map[string]any
		opts                 Options // for castorini-style directories, loaded in place
	}{
		{"monoT5 saved by Lightning IR (gated-gelu)", "t5-gated", "mono", map[string]any{"scoring_strategy": "mono"}, Options{}},
		{"monoT5 saved by Lightning IR, query_length and doc_length None", "t5", "mono",
			map[string]any{"scoring_strategy": "mono", "query_length": nil, "doc_length": nil}, Options{}},
		{"RankT5 saved by Lightning IR (relu, query 8, doc 40)", "t5", "mono", map[string]any{"scoring_strategy": "rank",
			"query_length": 8, "doc_length": 40}, Options{}},
		{"castorini monoT5 (T5ForConditionalGeneration, head mono)", "t5", "castorini-mono", nil, Options{Head: "mono"}},
		{"castorini RankT5 (head mono, scoring_strategy rank)", "t5-gated", "castorini-rank", nil,
			Options{Head: "mono", HeadOverrides: map[string]string{"scoring_strategy": "rank"}}},
		{"XTR (col on the T5 encoder)", "t5", "col", xtr(map[string]any{"embedding_dim": 16}), Options{}},
		{"XTR gated, doc 48, mean over query tokens", "t5-gated", "col", xtr(map[string]any{"embedding_dim": 8, "doc_length": 48,
			"query_aggregation_function": "mean"}), Options{}},
		{"DPR on the T5 encoder", "t5", "dpr", map[string]any{}, Options{}},
		{"DPR gated, mean pooling, cosine, 16 dims", "t5-gated", "dpr", map[string]any{"pooling_strategy": "mean",
			"similarity_function": "cosine", "embedding_dim": 16, "doc_length": 96}, Options{}},
	}
	var models []lirModel
	for _, c := range cases {
		models = append(models, lirModel{Backbone: tiny(t, c.backbone), Arch: c.arch, Config: c.config})
	}
	refs := lightningIR(t, query, docs, models)
	ctx := context.Background()
	savedRoot := t.TempDir()
	var saved []lirModel // irflow's saves, for Lightning IR to score
	var savedRef []lirResult
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := refs[i]
			dir, opts := models[i].Dir, c.opts
			if c.opts.Head != "" {
				dir = models[i].Backbone
			}
			opts.Threads, opts.BatchSize = 2, 3
			m, err := Load(ctx, dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			for j, want := range ref.IDs {
				e, err := m.inputs.Pair(query, docs[j])
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(e.IDs, want) {
					t.Fatalf("doc %d: irflow input ids %v,\nLightning IR %v", j, e.IDs, want)
				}
			}
			if m.Head.IsCrossEncoder() && len(ref.IDs) != len(docs) {
				t.Fatalf("Lightning IR reported the input ids of %d pairs, want %d", len(ref.IDs), len(docs))
			}
			scores, err := m.Score(ctx, query, docs)
			if err != nil {
				t.Fatal(err)
			}
			checkScores(t, scores, ref.Scores)
			if c.opts.Head != "" || !m.Head.IsCrossEncoder() {
				dir := filepath.Join(savedRoot, fmt.Sprint(i))
				if err := m.Save(dir); err != nil {
					t.Fatal(err)
				}
				saved = append(saved, lirModel{Backbone: dir, Arch: "saved-" + m.Head.Architecture})
				savedRef = append(savedRef, ref)
			}
			if m.Head.IsCrossEncoder() {
				return
			}
			checkEmbeddings(t, m, query, docs, ref.QueryEmb, ref.DocEmb)
		})
	}
	again := lightningIR(t, query, docs, saved)
	for i, sv := range saved {
		got, want := again[i].Scores, savedRef[i].Scores
		for j := range want {
			if !near(float32(got[j]), want[j]) {
				t.Errorf("%s saved by irflow, scored by Lightning IR: doc %d: %.7g, before saving %.7g", sv.Backbone, j, got[j], want[j])
			}
		}
	}
}

// TestT5BFloat16 runs castorini's monoT5 (gated-gelu) and XTR in bfloat16
// (T5's weights and activations, its RMS norm's mean in fp32, as
// transformers does) and compares with Lightning IR in fp32 and in bf16:
// irflow's bf16 must be off fp32 by no more than twice PyTorch's bf16 is
// (and off at all, or it did not run in bf16).
func TestT5BFloat16(t *testing.T) {
	query := testtexts.Lines(t, 1, "scifact", "queries.tsv")[0]
	docs := testtexts.Lines(t, 6, "scifact", "docs.tsv")
	gated := tiny(t, "t5-gated")
	models := []lirModel{
		{Backbone: gated, Arch: "castorini-mono", Reference: "bfloat16"},
		{Backbone: gated, Arch: "col", Reference: "bfloat16", Config: map[string]any{"embedding_dim": 16,
			"projection": "linear_no_bias", "normalization_strategy": "l2"}},
	}
	refs := lightningIR(t, query, docs, models)
	ctx := context.Background()
	for k, dir := range []string{gated, models[1].Dir} {
		fp32, bf16 := refs[k].Scores, refs[k].Reference.Scores
		o := Options{Threads: 2, DType: "bfloat16"}
		if k == 0 {
			o.Head = "mono"
		}
		m, err := Load(ctx, dir, o)
		if err != nil {
			t.Fatal(err)
		}
		scores, err := m.Score(ctx, query, docs)
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
		var ours, theirs float64
		for j, s := range scores {
			if math.IsNaN(float64(s)) {
				t.Fatalf("doc %d: NaN", j)
			}
			ours = math.Max(ours, math.Abs(float64(s)-fp32[j]))
			theirs = math.Max(theirs, math.Abs(bf16[j]-fp32[j]))
		}
		t.Logf("%s: max |Δscore| vs fp32 Lightning IR: irflow bf16 %.2e, PyTorch bf16 %.2e", models[k].Arch, ours, theirs)
		if theirs == 0 || ours == 0 {
			t.Errorf("a bf16 run equals fp32 (irflow %.2e, PyTorch %.2e): it did not run in bf16", ours, theirs)
		}
		if ours > 2*theirs {
			t.Errorf("irflow bf16 is %.2e from fp32, more than twice PyTorch bf16's %.2e", ours, theirs)
		}
	}
}
