//go:build torch

package inference

import (
	"context"
	"math"
	"strings"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/internal/testtexts"
)

// TestSentenceTransformersMiniLM compares the real all-MiniLM-L6-v2 with
// sentence-transformers: the head comes from the directory's modules.json
// (mean pooling, Normalize, max_seq_length 256); embeddings and cosine
// scores must agree within 1e-5 for texts batched with heavy padding.
func TestSentenceTransformersMiniLM(t *testing.T) {
	dir := oracle.MiniLMDir(t)
	query := testtexts.Lines(t, 1, "msmarco-passage", "queries.dl19.tsv")[0]
	docs := append(testtexts.Lines(t, 6, "msmarco-passage", "rerank", "passages.tsv"), testtexts.Mixed(t)...)
	var ref struct {
		QueryEmb []float64   `json:"query_emb"`
		DocEmb   [][]float64 `json:"doc_emb"`
		Scores   []float64
	}
	oracle.RunWithInput(t, &ref, map[string]any{"query": query, "docs": docs}, "st_encode.py", dir)
	ctx := context.Background()
	for _, o := range []Options{{Threads: 2, Workers: 1}, {Threads: 2, BatchSize: 4}} {
		m, err := Load(ctx, dir, o)
		if err != nil {
			t.Fatal(err)
		}
		if m.Head.Architecture != heads.SentenceTransformers || m.Head.QueryPooling != "mean" || m.Head.Normalization != "l2" || m.Head.DocLength != 256 {
			t.Fatalf("head from modules.json = %+v", m.Head)
		}
		live := m.Runtime().LiveTensors()
		scores, err := m.Score(ctx, query, docs)
		if err != nil {
			t.Fatal(err)
		}
		if after := m.Runtime().LiveTensors(); after != live {
			t.Errorf("%d libtorch tensors alive after scoring, %d before: activations leak", after, live)
		}
		var worst float64
		for i, s := range scores {
			worst = math.Max(worst, math.Abs(float64(s)-ref.Scores[i]))
		}
		d, err := m.EncodeDocs(ctx, docs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range docs {
			for k, v := range d.Vectors[i] {
				worst = math.Max(worst, math.Abs(float64(v)-ref.DocEmb[i][k]))
			}
		}
		t.Logf("workers %d batch %d: max |Δ| vs sentence-transformers = %.2e", o.Workers, o.BatchSize, worst)
		if worst > 1e-5 {
			t.Errorf("differs from sentence-transformers by %.2e", worst)
		}
		m.Close()
	}
}

// TestSaveLoadRoundTrip saves a loaded model with a head in the Lightning
// IR layout and checks the saved directory scores identically, for a
// plain backbone given a preset (head weights initialised) and for
// sentence-transformers.
func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	root := oracle.TinyModels(t)
	query := "what causes cancer?"
	docs := testtexts.Lines(t, 5, "scifact", "docs.tsv")
	cases := []struct {
		name, dir string
		o         Options
	}{
		{"dpr preset on plain bert", root + "/bert", Options{Head: heads.DPR, InitHead: true, Seed: 7}},
		{"col preset on electra", root + "/electra", Options{Head: heads.Col, InitHead: true, Seed: 3}},
		{"splade on BertForMaskedLM", root + "/bert", Options{Head: heads.Splade}},
		{"mono on distilbert", root + "/distilbert", Options{Head: heads.Mono, InitHead: true, Seed: 1}},
		{"sentence-transformers MiniLM", oracle.MiniLMDir(t), Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Load(ctx, tc.dir, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			want, err := m.Score(ctx, query, docs)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			if err := m.Save(out); err != nil {
				t.Fatal(err)
			}
			m2, err := Load(ctx, out, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer m2.Close()
			if m2.Head.Architecture != m.Head.Architecture && m.Head.Architecture != heads.SentenceTransformers {
				t.Errorf("reloaded head %s, saved %s", m2.Head.Architecture, m.Head.Architecture)
			}
			got, err := m2.Score(ctx, query, docs)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("doc %d: reloaded score %g, before saving %g", i, got[i], want[i])
				}
			}
		})
	}
}

// TestBFloat16AgainstSentenceTransformers runs MiniLM in bfloat16 and
// checks it against sentence-transformers in bfloat16 (torch_dtype) and in
// float32: bf16 keeps 8 bits of mantissa, so the two bf16 runs differ by
// rounding, but irflow's bf16 must be no further from the fp32 reference
// than PyTorch's own bf16 is (with a margin for other rounding orders),
// and its outputs must come back as finite float32. Texts of mixed
// lengths, batched with padding; kept few because bf16 is slow on CPUs.
func TestBFloat16AgainstSentenceTransformers(t *testing.T) {
	dir := oracle.MiniLMDir(t)
	docs := testtexts.Mixed(t)
	type result struct {
		DocEmb [][]float64 `json:"doc_emb"`
	}
	var fp32, bf16 result
	in := map[string]any{"query": docs[0], "docs": docs}
	oracle.RunWithInput(t, &fp32, in, "st_encode.py", dir, "float32")
	oracle.RunWithInput(t, &bf16, in, "st_encode.py", dir, "bfloat16")
	ctx := context.Background()
	m, err := Load(ctx, dir, Options{Threads: 2, DType: "bfloat16"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	d, err := m.EncodeDocs(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	// worst is the largest |a-b| over the docs' embeddings.
	worst := func(emb func(i, k int) float64, ref result) float64 {
		var w float64
		for i := range docs {
			for k := range ref.DocEmb[i] {
				v := emb(i, k)
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("doc %d dim %d: %v", i, k, v)
				}
				w = math.Max(w, math.Abs(v-ref.DocEmb[i][k]))
			}
		}
		return w
	}
	ours := func(i, k int) float64 { return float64(d.Vectors[i][k]) }
	torchBF16 := func(i, k int) float64 { return bf16.DocEmb[i][k] }
	o, p, between := worst(ours, fp32), worst(torchBF16, fp32), worst(ours, bf16)
	t.Logf("max |Δ| vs fp32 sentence-transformers: irflow bf16 %.2e, PyTorch bf16 %.2e; irflow bf16 vs PyTorch bf16 %.2e", o, p, between)
	if p < 1e-4 {
		t.Fatalf("the bf16 oracle is as exact as fp32 (%.2e): it did not run in bf16", p)
	}
	if o < 1e-4 {
		t.Errorf("irflow bf16 matches fp32 to %.2e: it did not run in bf16", o)
	}
	if o > 2*p {
		t.Errorf("irflow bf16 is %.2e from fp32, more than twice PyTorch bf16's %.2e", o, p)
	}
}

// TestDTypeErrors: an unknown or integer dtype is refused before loading.
func TestDTypeErrors(t *testing.T) {
	for _, name := range []string{"float16x", "int64", "float64"} {
		if _, err := Load(context.Background(), oracle.MiniLMDir(t), Options{DType: name}); err == nil || !strings.Contains(err.Error(), "bfloat16") {
			t.Errorf("dtype %q: err = %v", name, err)
		}
	}
}
