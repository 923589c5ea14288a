//go:build torch

package inference

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/models/internal/testtexts"
)

// TestT5HeadsMatchLightningIR compares irflow with Lightning IR 0.0.6 on
// the tiny T5 models: monoT5 and RankT5 as Lightning IR saves them (mono
// on T5Model, ScaleLinear), castorini-style plain T5ForConditionalGeneration
// directories with the head named (the scorer = rows of the shared
// embeddings, by Lightning IR's own _map_mono_t5_weights and
// _map_rank_t5_weights), and XTR (Col on T5EncoderModel, linear_no_bias,
// l2). Cross-encoder inputs must equal Lightning IR's token for token
// (its "Query: … Document: … Relevant:" templates, the pair cut to 512);
// scores and embeddings within the tolerances of TestHeadsMatchLightningIR.
// The castorini and XTR models are then saved by irflow and scored by
// Lightning IR from those directories, which must give the same scores.
func TestT5HeadsMatchLightningIR(t *testing.T) {
	root := oracle.TinyT5(t)
	out := t.TempDir()
	query := testtexts.Lines(t, 1, "scifact", "queries.tsv")[0]
	docs := append(testtexts.Lines(t, 4, "scifact", "docs.tsv"), testtexts.Lines(t, 3, "msmarco-passage", "rerank", "passages.tsv")...)
	long := strings.Repeat(docs[0]+" ", 6) // past 512 tokens: the pair is cut longest first
	docs = append(docs, "Short, punctuated: doc!", long)
	cases := []struct {
		name, backbone, arch string
		config               map[string]any
		opts                 Options // for castorini-style directories, loaded in place
	}{
		{"monoT5 saved by Lightning IR (gated-gelu)", "t5-gated", "mono", map[string]any{}, Options{}},
		{"monoT5 saved by Lightning IR, query_length and doc_length None", "t5", "mono",
			map[string]any{"query_length": nil, "doc_length": nil}, Options{}},
		{"RankT5 saved by Lightning IR (relu, query 8, doc 40)", "t5", "rank", map[string]any{"query_length": 8, "doc_length": 40}, Options{}},
		{"castorini monoT5 (T5ForConditionalGeneration, head mono)", "t5", "castorini-mono", nil, Options{Head: "mono"}},
		{"castorini RankT5 (head mono, scoring_strategy rank)", "t5-gated", "castorini-rank", nil,
			Options{Head: "mono", HeadOverrides: map[string]string{"scoring_strategy": "rank"}}},
		{"XTR (col on the T5 encoder)", "t5", "xtr", map[string]any{"embedding_dim": 16}, Options{}},
		{"XTR gated, doc 48, mean over query tokens", "t5-gated", "xtr", map[string]any{"embedding_dim": 8, "doc_length": 48,
			"query_aggregation_function": "mean"}, Options{}},
	}
	var specs []map[string]any
	for i, c := range cases {
		spec := map[string]any{
			"out": filepath.Join(out, c.arch+string(rune('a'+i))), "backbone": filepath.Join(root, c.backbone),
			"arch": c.arch, "query": query, "docs": docs, "seed": i,
		}
		if c.config != nil {
			spec["config"] = c.config
		}
		specs = append(specs, spec)
	}
	var refs map[string]struct {
		lirResult
		IDs [][]int
	}
	oracle.RunWithInput(t, &refs, map[string]any{"cases": specs}, "lir_t5.py")
	ctx := context.Background()
	var saved []map[string]any // irflow's saves, for Lightning IR to score
	var savedRef []lirResult
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := refs[specs[i]["out"].(string)]
			dir, opts := specs[i]["out"].(string), c.opts
			if c.opts.Head != "" {
				dir = specs[i]["backbone"].(string)
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
			scores, err := m.Score(ctx, query, docs)
			if err != nil {
				t.Fatal(err)
			}
			checkScores(t, scores, ref.Scores)
			if c.opts.Head != "" || c.arch == "xtr" {
				dir := filepath.Join(out, "irflow", c.arch+string(rune('a'+i)))
				if err := m.Save(dir); err != nil {
					t.Fatal(err)
				}
				arch := "saved-mono"
				if c.arch == "xtr" {
					arch = "saved-col"
				}
				saved = append(saved, map[string]any{"out": dir, "backbone": dir, "arch": arch, "query": query, "docs": docs})
				savedRef = append(savedRef, ref.lirResult)
			}
			if c.arch != "xtr" {
				return
			}
			checkEmbeddings(t, m, query, docs, ref.QueryEmb, ref.DocEmb)
		})
	}
	var again map[string]lirResult
	oracle.RunWithInput(t, &again, map[string]any{"cases": saved}, "lir_t5.py")
	for i, sv := range saved {
		got, want := again[sv["out"].(string)].Scores, savedRef[i].Scores
		for j := range want {
			if !near(float32(got[j]), want[j]) {
				t.Errorf("%s saved by irflow, scored by Lightning IR: doc %d: %.7g, before saving %.7g", filepath.Base(sv["out"].(string)), j, got[j], want[j])
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
	root := oracle.TinyT5(t)
	out := t.TempDir()
	query := testtexts.Lines(t, 1, "scifact", "queries.tsv")[0]
	docs := testtexts.Lines(t, 6, "scifact", "docs.tsv")
	var specs []map[string]any
	for _, arch := range []string{"castorini-mono", "xtr"} {
		for _, dt := range []string{"float32", "bfloat16"} {
			specs = append(specs, map[string]any{"out": filepath.Join(out, arch+"-"+dt), "backbone": filepath.Join(root, "t5-gated"),
				"arch": arch, "config": map[string]any{"embedding_dim": 16}, "query": query, "docs": docs, "seed": 1, "dtype": dt})
		}
	}
	specs[0]["config"], specs[1]["config"] = map[string]any{}, map[string]any{}
	var refs map[string]lirResult
	oracle.RunWithInput(t, &refs, map[string]any{"cases": specs}, "lir_t5.py")
	ctx := context.Background()
	for k, dir := range []string{filepath.Join(root, "t5-gated"), specs[3]["out"].(string)} {
		fp32, bf16 := refs[specs[2*k]["out"].(string)].Scores, refs[specs[2*k+1]["out"].(string)].Scores
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
		t.Logf("%s: max |Δscore| vs fp32 Lightning IR: irflow bf16 %.2e, PyTorch bf16 %.2e", specs[2*k]["arch"], ours, theirs)
		if theirs == 0 || ours == 0 {
			t.Errorf("a bf16 run equals fp32 (irflow %.2e, PyTorch %.2e): it did not run in bf16", ours, theirs)
		}
		if ours > 2*theirs {
			t.Errorf("irflow bf16 is %.2e from fp32, more than twice PyTorch bf16's %.2e", ours, theirs)
		}
	}
}
