//go:build torch

package inference

import (
	"context"
	"math"
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
