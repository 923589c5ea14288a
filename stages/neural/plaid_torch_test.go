//go:build torch

package neural

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
)

// TestPLAIDStagesOnSciFact runs the stages on a real slice of SciFact (10
// queries, about 75 documents) with a tiny random Lightning IR col model
// (scripts/oracle/neural/make_tiny_col.py): a multivector index, exact
// search, a PLAID index on it (default centroid count), and PLAID search.
// With every centroid a candidate source, no pruning, every document a
// survivor and re-scoring, the run equals the exact run line for line;
// at PLAID's defaults (n_cells 1, threshold 0.5, candidate_k 256) and
// narrower settings recall@10 against exact search is reported.
func TestPLAIDStagesOnSciFact(t *testing.T) {
	docs, queries, _ := sciFactSlice(t, 10, 60)
	model := filepath.Join(t.TempDir(), "tiny-col")
	runOracleScript(t, "make_tiny_col.py", model, oracle.MiniLMDir(t))
	ctx := context.Background()
	mv := t.TempDir()
	job := &stage.Job{Address: "index.mv", Params: map[string]any{"docs": docs, "model": model, "head": "", "head_options": map[string]string{},
		"device": "cpu", "batch_size": 8.0, "shard_size": 64.0, "memory_mb": 2048.0}, OutDir: mv, CheckpointDir: t.TempDir(), Threads: 2}
	if err := IndexKind(MethodMultivector).Run(ctx, job); err != nil {
		t.Fatal(err)
	}
	pl := t.TempDir()
	job = &stage.Job{Address: "index.p", Params: map[string]any{"multivector": filepath.Join(mv, "index"), "num_centroids": 0.0,
		"n_bits": 2.0, "k_means_iters": 4.0, "train_size": 0.0, "seed": 42.0}, OutDir: pl, Threads: 2}
	if err := plaidIndexKind().Run(ctx, job); err != nil {
		t.Fatal(err)
	}
	var meta struct {
		NumCentroids int   `json:"num_centroids"`
		NumDocs      int   `json:"num_docs"`
		NumTokens    int64 `json:"num_tokens"`
	}
	b, err := os.ReadFile(filepath.Join(pl, "index", plaidDir, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &meta)
	t.Logf("%d documents, %d tokens, %d centroids", meta.NumDocs, meta.NumTokens, meta.NumCentroids)
	search := func(m, index string, extra map[string]any) trec.Run {
		out := t.TempDir()
		p := map[string]any{"index": index, "queries": queries, "model": model, "head": "", "head_options": map[string]string{},
			"device": "cpu", "batch_size": 8.0, "k": 100.0, "remove_query": false}
		for k, v := range extra {
			p[k] = v
		}
		kind := SearchKind(m)
		if m == MethodPLAID {
			kind = plaidSearchKind()
		}
		if err := kind.Run(ctx, &stage.Job{Address: "search." + m, Params: p, OutDir: out, Threads: 2}); err != nil {
			t.Fatal(err)
		}
		run, err := trec.ReadRunFile(filepath.Join(out, "run.trec"))
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	exact := search(MethodMultivector, filepath.Join(mv, "index"), nil)
	all := search(MethodPLAID, filepath.Join(pl, "index"), map[string]any{"n_cells": float64(meta.NumCentroids),
		"centroid_score_threshold": math.Inf(-1), "candidate_k": float64(meta.NumDocs), "rescore": true})
	for qid, want := range exact {
		got := all[qid]
		trec.SortHits(got)
		trec.SortHits(want)
		if len(got) != len(want) {
			t.Fatalf("query %s: %d hits, exact %d", qid, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("query %s rank %d: %+v, exact %+v", qid, i+1, got[i], want[i])
			}
		}
	}
	for _, c := range []struct {
		params map[string]any
		min    float64
	}{
		{map[string]any{"n_cells": 1.0, "centroid_score_threshold": 0.5, "candidate_k": 256.0, "rescore": false}, 0.4},
		{map[string]any{"n_cells": 4.0, "centroid_score_threshold": 0.5, "candidate_k": 256.0, "rescore": true}, 0.95},
		{map[string]any{"n_cells": 2.0, "centroid_score_threshold": math.Inf(-1), "candidate_k": 20.0, "rescore": false}, 0.4},
	} {
		run := search(MethodPLAID, filepath.Join(pl, "index"), c.params)
		var hit, n int
		for qid, want := range exact {
			trec.SortHits(want)
			top := map[string]bool{}
			for _, h := range want[:min(10, len(want))] {
				top[h.DocID] = true
			}
			got := run[qid]
			trec.SortHits(got)
			for _, h := range got[:min(10, len(got))] {
				if top[h.DocID] {
					hit++
				}
			}
			n += len(top)
		}
		r := float64(hit) / float64(n)
		t.Logf("%v: recall@10 %.3f", c.params, r)
		if r < c.min {
			t.Errorf("%v: recall@10 %.3f < %.2f", c.params, r, c.min)
		}
	}
}
