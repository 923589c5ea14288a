//go:build torch

package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/exec"
)

// TestListwiseDL19Recipe runs recipes/listwise-dl19.hcl end to end with
// tiny random models the Python oracle builds: a Set-Encoder of depth 100
// on the 2-layer test BERT (saved by Lightning IR 0.0.6) and a plain
// T5ForConditionalGeneration scored as castorini's monoT5. The numbers mean
// nothing; the test checks the path: every stage runs, each re-ranked run
// holds every query's 100 candidates, the Set-Encoder's scores for one
// query equal Lightning IR's listwise scores of the same list, BM25's
// expect holds, and a second run is all cached.
func TestListwiseDL19Recipe(t *testing.T) {
	data := testenv.Collection(t, "msmarco-passage")
	recipe := filepath.Join(testenv.RepoRoot(t), "recipes", "listwise-dl19.hcl")
	bm25, err := trec.ReadRunFile(filepath.Join(data, "rerank", "runs", "bm25.dl19.top100.trec"))
	if err != nil {
		t.Fatal(err)
	}
	queries, err := collection.ReadQueriesFile(filepath.Join(data, "queries.dl19.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := collection.ReadDocs(filepath.Join(data, "rerank", "passages.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	text := map[string]string{}
	for _, d := range docs {
		text[d.ID] = d.Text
	}
	qid := bm25.QueryIDs()[0]
	var qtext string
	for _, q := range queries {
		if q.ID == qid {
			qtext = q.Text
		}
	}
	var list []string
	for _, h := range bm25[qid] {
		list = append(list, text[h.DocID])
	}
	if qtext == "" || len(list) != 100 {
		t.Fatalf("query %s: %q, %d candidates", qid, qtext, len(list))
	}

	setEncoder := filepath.Join(t.TempDir(), "set-encoder")
	var refs map[string][][]float64
	oracle.RunWithInput(t, &refs, map[string]any{"cases": []map[string]any{{
		"out": setEncoder, "backbone": filepath.Join(oracle.TinyModels(t), "bert"), "config": map[string]any{"depth": 100},
		"lists": []map[string]any{{"query": qtext, "docs": list}},
	}}}, "lir_setencoder.py")
	monoT5 := filepath.Join(oracle.TinyT5(t), "t5")

	c := newCLI(t)
	args := []string{"-var", "data=" + data, "-var", "set_encoder=" + setEncoder, "-var", "monot5=" + monoT5}
	res := c.mustRun(recipe, args...)
	if n := stateCounts(res); n[exec.Ran] != 5 || len(res.Stages) != 5 {
		t.Fatalf("states %v, want 5 ran", n)
	}
	for _, s := range res.Stages {
		for _, e := range s.Expectations {
			if !e.OK {
				t.Errorf("%s: expectation %+v", s.Address, e)
			}
		}
		if !strings.HasPrefix(s.Address, "re_rank.") {
			continue
		}
		run, err := trec.ReadRunFile(filepath.Join(s.ObjectDir, "run.trec"))
		if err != nil {
			t.Fatal(err)
		}
		if len(run) != len(bm25) {
			t.Errorf("%s: %d queries, want %d", s.Address, len(run), len(bm25))
		}
		for q, hits := range bm25 {
			if len(run[q]) != len(hits) {
				t.Errorf("%s: query %s has %d hits, want %d", s.Address, q, len(run[q]), len(hits))
			}
		}
		if s.Address != "re_rank.set_encoder" {
			continue
		}
		score := map[string]float64{}
		for _, h := range run[qid] {
			score[h.DocID] = h.Score
		}
		want := refs[setEncoder][0]
		for i, h := range bm25[qid] {
			if d := math.Abs(score[h.DocID] - want[i]); d > 1e-5*math.Max(1, math.Abs(want[i])) {
				t.Errorf("set-encoder, query %s, doc %s: %v, Lightning IR %v", qid, h.DocID, score[h.DocID], want[i])
			}
		}
	}
	if n := stateCounts(c.mustRun(recipe, args...)); n[exec.Cached] != 5 {
		t.Errorf("second run: %v", n)
	}
	if _, err := os.Stat(setEncoder); err != nil {
		t.Fatal(err)
	}
}
