//go:build torch

package rerank

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/pipeline/stage"
)

// TestReRankSetEncoder re-ranks three DL19 queries' BM25 candidates with
// a tiny random Set-Encoder (depth 10) that Lightning IR v0.0.6 built, at
// batch_size 3: each query's list must be scored in one listwise pass, as
// Lightning IR scores it (a list split into batches would give other
// scores). At re_rank depth 10 the list fills the model's depth; at 7 the
// model samples 3 stand-ins (Lightning IR given irflow's draws); at 12 the
// list exceeds the model's depth and the stage fails naming it.
func TestReRankSetEncoder(t *testing.T) {
	runFile, err := trec.ReadRunFile(testenv.Collection(t, "msmarco-passage", "rerank", "runs", "bm25.dl19.top100.trec"))
	if err != nil {
		t.Fatal(err)
	}
	queriesPath := testenv.Collection(t, "msmarco-passage", "queries.dl19.tsv")
	docsPath := testenv.Collection(t, "msmarco-passage", "rerank", "passages.tsv")
	queries, err := collection.ReadQueriesFile(queriesPath)
	if err != nil {
		t.Fatal(err)
	}
	qtext := map[string]string{}
	for _, q := range queries {
		qtext[q.ID] = q.Text
	}
	run := trec.Run{}
	need := map[string]bool{}
	for _, qid := range runFile.QueryIDs()[:3] {
		hits := runFile[qid]
		trec.SortHits(hits)
		run[qid] = hits[:12]
		for _, h := range run[qid] {
			need[h.DocID] = true
		}
	}
	runPath := filepath.Join(t.TempDir(), "bm25.trec")
	if err := trec.WriteRunFile(runPath, run, "bm25"); err != nil {
		t.Fatal(err)
	}
	docs, err := collection.ModelTextsOf(docsPath, need)
	if err != nil {
		t.Fatal(err)
	}
	depths := []int{10, 7}
	var lists []map[string]any
	for _, depth := range depths {
		for _, qid := range run.QueryIDs() {
			var texts []string
			for _, h := range run[qid][:depth] {
				texts = append(texts, docs[h.DocID])
			}
			var noise [][]float32
			for layer := range 2 { // the tiny BERT's layers, hidden size 32
				if depth < 10 {
					noise = append(noise, heads.SetEncoderNoise(layer, 10-depth, 32))
				}
			}
			lists = append(lists, map[string]any{"query": qtext[qid], "docs": texts, "noise": noise})
		}
	}
	model := filepath.Join(t.TempDir(), "set-encoder")
	var refs map[string][][]float64
	oracle.RunWithInput(t, &refs, map[string]any{"cases": []map[string]any{{
		"out": model, "backbone": filepath.Join(oracle.TinyModels(t), "bert"), "config": map[string]any{"depth": 10}, "lists": lists,
	}}}, "lir_setencoder.py")

	job := func(depth int) (*stage.Job, error) {
		j := &stage.Job{
			Address: "re_rank.set_encoder",
			Params: map[string]any{
				"run": runPath, "queries": queriesPath, "docs": docsPath, "model": model,
				"head": "", "depth": float64(depth), "batch_size": 3.0, "device": "cpu",
			},
			OutDir:  t.TempDir(),
			Threads: 2,
		}
		return j, Kind().Run(context.Background(), j)
	}
	for d, depth := range depths {
		j, err := job(depth)
		if err != nil {
			t.Fatal(err)
		}
		got, err := trec.ReadRunFile(filepath.Join(j.OutDir, "run.trec"))
		if err != nil {
			t.Fatal(err)
		}
		var worst float64
		for qi, qid := range run.QueryIDs() {
			want := refs[model][d*len(run)+qi]
			byDoc := map[string]float64{}
			for _, h := range got[qid] {
				byDoc[h.DocID] = h.Score
			}
			if len(got[qid]) != depth {
				t.Fatalf("depth %d: query %s has %d hits", depth, qid, len(got[qid]))
			}
			for k, h := range run[qid][:depth] {
				g, ok := byDoc[h.DocID]
				if !ok {
					t.Fatalf("depth %d: query %s lacks doc %s", depth, qid, h.DocID)
				}
				if math.Abs(g-want[k]) > 1e-5 {
					t.Errorf("depth %d: query %s doc %s: %.7g, Lightning IR %.7g", depth, qid, h.DocID, g, want[k])
				}
				worst = math.Max(worst, math.Abs(g-want[k]))
			}
		}
		t.Logf("re_rank depth %d (model depth 10), batch_size 3: max |Δscore| %.2g over %d queries", depth, worst, len(run))
	}
	if _, err := job(12); err == nil || !strings.Contains(err.Error(), "depth = 10") {
		t.Errorf("re_rank depth 12 with a depth-10 set-encoder: error %v, want one naming depth = 10", err)
	}
}
