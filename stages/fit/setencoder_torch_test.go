//go:build torch

package fit

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/stages/rerank"
)

// TestFitSetEncoder fine-tunes a tiny random Set-Encoder (depth 4) that
// Lightning IR v0.0.6 built, on SciFact training claims with one relevant
// and two other abstracts each (so every step samples one stand-in per
// query and layer), validating by re-ranking. The saved model must be a
// set-encoder that re_rank loads, and re_rank's scores of it must be
// Lightning IR's own scores of the saved directory (within 1e-5) and no
// longer the initial model's.
func TestFitSetEncoder(t *testing.T) {
	tmp := t.TempDir()
	qtext := map[string]string{}
	testenv.EachLine(t, testenv.Collection(t, "scifact", "queries.train.tsv"), func(n int, line string) {
		id, text, _ := strings.Cut(line, "\t")
		qtext[id] = text
	})
	pos := map[string]string{}
	var order []string
	testenv.EachLine(t, testenv.Collection(t, "scifact", "qrels.train.txt"), func(n int, line string) {
		if f := strings.Fields(line); len(order) < 8 && pos[f[0]] == "" {
			pos[f[0]] = f[2]
			order = append(order, f[0])
		}
	})
	var tuples, queries, qrels []string
	run := trec.Run{}
	for i, q := range order {
		others := []string{pos[order[(i+1)%8]], pos[order[(i+3)%8]], pos[order[(i+5)%8]]}
		tuples = append(tuples, strings.Join([]string{q, pos[q], others[0], others[1]}, "\t"))
		queries = append(queries, q+"\t"+qtext[q])
		qrels = append(qrels, q+" 0 "+pos[q]+" 1")
		if i < 4 { // validation and re_rank: the relevant abstract third of four
			for r, d := range []string{others[0], others[1], pos[q], others[2]} {
				run[q] = append(run[q], trec.Hit{DocID: d, Score: float64(4 - r)})
			}
		}
	}
	docText := map[string]string{}
	var docs []string
	testenv.EachLine(t, testenv.Collection(t, "scifact", "docs.tsv"), func(n int, line string) {
		id, text, _ := strings.Cut(line, "\t")
		for _, q := range order {
			if pos[q] == id && docText[id] == "" {
				docText[id] = text
				docs = append(docs, line)
			}
		}
	})
	write := func(name string, lines []string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	runPath := filepath.Join(tmp, "val.trec")
	if err := trec.WriteRunFile(runPath, run, "val"); err != nil {
		t.Fatal(err)
	}
	// The re_rank lists in run order, for the oracle.
	var lists []map[string]any
	for _, qid := range run.QueryIDs() {
		var texts []string
		for _, h := range run[qid] {
			texts = append(texts, docText[h.DocID])
		}
		lists = append(lists, map[string]any{"query": qtext[qid], "docs": texts})
	}
	score := func(backbone, out string, scale float64) [][]float64 {
		var refs map[string][][]float64
		oracle.RunWithInput(t, &refs, map[string]any{"cases": []map[string]any{{
			"out": out, "backbone": backbone, "config": map[string]any{"depth": 4, "scoring_strategy": "mono"}, "lists": lists, "scale": scale,
		}}}, "lir_setencoder.py")
		return refs[out]
	}
	model := filepath.Join(tmp, "set-encoder")
	initial := score(filepath.Join(oracle.TinyModels(t), "bert"), model, 0.5)

	p := params(map[string]any{
		"model": model, "train_tuples": write("tuples.tsv", tuples), "train_queries": write("queries.tsv", queries),
		"docs": write("docs.tsv", docs), "losses": map[string]string{"RankNet": "1"}, "lr": 1e-3, "max_steps": 4.0,
		"batch_size": 2.0, "seed": 3.0, "device": "cpu", "validate_every": 2.0, "val_run": runPath,
		"val_queries": filepath.Join(tmp, "queries.tsv"), "val_qrels": write("qrels.txt", qrels), "val_depth": 4.0,
	})
	if err := checkCombination(p); err != nil {
		t.Fatalf("plan: %v", err)
	}
	job := &stage.Job{Address: "fit.set_encoder", Params: p, OutDir: filepath.Join(tmp, "fit"), CheckpointDir: filepath.Join(tmp, "ckpt"), Threads: 1}
	if err := os.MkdirAll(job.OutDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Kind().Run(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	fitted := filepath.Join(job.OutDir, "model")
	var cfg map[string]any
	if b, err := os.ReadFile(filepath.Join(fitted, "config.json")); err != nil || json.Unmarshal(b, &cfg) != nil {
		t.Fatalf("fitted config.json: %v", err)
	}
	if cfg["model_type"] != "set-encoder" || cfg["depth"] != 4.0 {
		t.Fatalf("fitted config.json has model_type %v, depth %v; want set-encoder, 4", cfg["model_type"], cfg["depth"])
	}

	rr := &stage.Job{Address: "re_rank.fitted", OutDir: filepath.Join(tmp, "rr"), Threads: 1, Params: map[string]any{
		"run": runPath, "queries": filepath.Join(tmp, "queries.tsv"), "docs": filepath.Join(tmp, "docs.tsv"), "model": fitted,
		"head": "", "depth": 4.0, "batch_size": 8.0, "device": "cpu",
	}}
	if err := os.MkdirAll(rr.OutDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := rerank.Kind().Run(context.Background(), rr); err != nil {
		t.Fatal(err)
	}
	got, err := trec.ReadRunFile(filepath.Join(rr.OutDir, "run.trec"))
	if err != nil {
		t.Fatal(err)
	}
	// Lightning IR scores the fitted directory as saved (scale 0: its head as is).
	want := score(fitted, filepath.Join(tmp, "lir-fitted"), 0)
	var worst, moved float64
	for qi, qid := range run.QueryIDs() {
		byDoc := map[string]float64{}
		for _, h := range got[qid] {
			byDoc[h.DocID] = h.Score
		}
		for k, h := range run[qid] {
			g, ok := byDoc[h.DocID]
			if !ok {
				t.Fatalf("query %s: re_rank lost doc %s", qid, h.DocID)
			}
			worst = math.Max(worst, math.Abs(g-want[qi][k]))
			moved = math.Max(moved, math.Abs(g-initial[qi][k]))
		}
	}
	if worst > 1e-5 {
		t.Errorf("re_rank of the fitted set-encoder: max |Δscore| %.3g against Lightning IR (tolerance 1e-5)", worst)
	}
	if moved < 1e-3 {
		t.Errorf("fit changed no score by more than %.3g: did it train?", moved)
	}
	t.Logf("fitted set-encoder: re_rank vs Lightning IR max |Δscore| %.2g; scores moved up to %.3g from the initial model's; metrics %v", worst, moved, job.Metrics())
}
