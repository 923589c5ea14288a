//go:build torch

package rerank

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
)

// ulp is the spacing of float32 values at the magnitude of v.
func ulp(v float64) float64 {
	a := float32(math.Abs(v))
	return float64(math.Nextafter32(a, float32(math.Inf(1))) - a)
}

// TestReRankCoilMvr runs re_rank with COIL, UniCOIL and MVR models that
// Lightning IR 0.0.6 built and saved (lir_heads.py on the tiny random
// BERT) and compares every re-ranked score with Lightning IR's score of
// the same pair. Two query ids share the query text; the second holds
// half the documents in another order, so documents encoded once serve
// both queries (the bi-encoder path of Scorer). The head weights get
// less noise than in models/inference's parity test (scale 0.05), so
// scores stay near 1 where the backbone's own float noise (1e-6 relative)
// is well inside the tolerance (1e-5, or 4 fp32 ulps).
func TestReRankCoilMvr(t *testing.T) {
	root := oracle.TinyModels(t)
	dir := t.TempDir()
	var docs []string
	f, err := os.ReadFile(testenv.Collection(t, "scifact", "docs.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.SplitN(string(f), "\n", 7)[:6] {
		docs = append(docs, strings.SplitN(line, "\t", 2)[1])
	}
	query := "Genetic variation of rare variants in the genomes project."
	var tsv, run strings.Builder
	for i, d := range docs {
		fmt.Fprintf(&tsv, "d%d\t%s\n", i, d)
		fmt.Fprintf(&run, "q1 Q0 d%d %d %d bm25\n", i, i+1, 100-i)
		if i%2 == 1 {
			fmt.Fprintf(&run, "q2 Q0 d%d %d %d bm25\n", i, i+1, 50+i)
		}
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	docsPath, runPath := write("docs.tsv", tsv.String()), write("run.trec", run.String())
	queriesPath := write("queries.tsv", "q1\t"+query+"\nq2\t"+query+"\n")
	cases := []struct {
		arch   string
		config map[string]any
	}{
		{"coil", map[string]any{"token_embedding_dim": 8, "cls_embedding_dim": 16}},
		{"unicoil", map[string]any{}},
		{"mvr", map[string]any{"num_viewer_tokens": 4, "doc_length": 64}},
	}
	var specs []map[string]any
	for i, c := range cases {
		specs = append(specs, map[string]any{"out": filepath.Join(dir, c.arch), "backbone": filepath.Join(root, "bert"),
			"arch": c.arch, "config": c.config, "query": query, "docs": docs, "seed": 10 + i, "scale": 0.05})
	}
	var refs map[string]struct{ Scores []float64 }
	oracle.RunWithInput(t, &refs, map[string]any{"cases": specs}, "lir_heads.py")
	for _, sp := range specs {
		model := sp["out"].(string)
		t.Run(sp["arch"].(string), func(t *testing.T) {
			job := &stage.Job{
				Address: "re_rank.zoo",
				Params: map[string]any{"run": runPath, "queries": queriesPath, "docs": docsPath, "model": model,
					"head": "", "depth": 100.0, "batch_size": 4.0, "device": "cpu"},
				OutDir:  t.TempDir(),
				Threads: 2,
			}
			if err := Kind().Run(context.Background(), job); err != nil {
				t.Fatal(err)
			}
			got, err := trec.ReadRunFile(filepath.Join(job.OutDir, "run.trec"))
			if err != nil {
				t.Fatal(err)
			}
			want := refs[model].Scores
			n := 0
			for _, qid := range []string{"q1", "q2"} {
				for _, h := range got[qid] {
					var i int
					fmt.Sscanf(h.DocID, "d%d", &i)
					if d := math.Abs(h.Score - want[i]); d > math.Max(1e-5, 4*ulp(want[i])) {
						t.Errorf("%s %s: score %.7g, Lightning IR %.7g", qid, h.DocID, h.Score, want[i])
					}
					n++
				}
			}
			if n != len(docs)+len(docs)/2 {
				t.Errorf("%d re-ranked pairs, want %d", n, len(docs)+len(docs)/2)
			}
		})
	}
}
