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

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/stages/rerank"
)

// scifactFit is a small fit task on SciFact for the stage tests that fit a
// tiny model and check its saved directory against Lightning IR: 8
// training claims, each with its first relevant abstract and the relevant
// abstracts of three other claims, and a validation / re_rank run of the
// first 4 claims over those 4 abstracts (the relevant one third).
type scifactFit struct {
	tmp                                string
	tuples, queries, docs, qrels, runP string
	run                                trec.Run
	// lists are the re_rank lists in run order, for the oracles:
	// {"query": text, "docs": [texts]}.
	lists []map[string]any
}

func newScifactFit(t *testing.T) *scifactFit {
	t.Helper()
	f := &scifactFit{tmp: t.TempDir(), run: trec.Run{}}
	order, qtext, pos := testenv.TrainClaims(t, "scifact", 8)
	var tuples, queries, qrels []string
	for i, q := range order {
		others := []string{pos[order[(i+1)%8]], pos[order[(i+3)%8]], pos[order[(i+5)%8]]}
		tuples = append(tuples, strings.Join([]string{q, pos[q], others[0], others[1]}, "\t"))
		queries = append(queries, q+"\t"+qtext[q])
		qrels = append(qrels, q+" 0 "+pos[q]+" 1")
		if i < 4 { // validation and re_rank: the relevant abstract third of four
			for r, d := range []string{others[0], others[1], pos[q], others[2]} {
				f.run[q] = append(f.run[q], trec.Hit{DocID: d, Score: float64(4 - r)})
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
		p := filepath.Join(f.tmp, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.tuples, f.queries, f.docs, f.qrels = write("tuples.tsv", tuples), write("queries.tsv", queries), write("docs.tsv", docs), write("qrels.txt", qrels)
	f.runP = filepath.Join(f.tmp, "val.trec")
	if err := trec.WriteRunFile(f.runP, f.run, "val"); err != nil {
		t.Fatal(err)
	}
	for _, qid := range f.run.QueryIDs() {
		var texts []string
		for _, h := range f.run[qid] {
			texts = append(texts, docText[h.DocID])
		}
		f.lists = append(f.lists, map[string]any{"query": qtext[qid], "docs": texts})
	}
	return f
}

// fit plans and runs the fit stage on model (RankNet, 4 steps of 2
// queries, validation every 2 steps by re-ranking the run) and returns the
// job and the fitted model's directory.
func (f *scifactFit) fit(t *testing.T, address, model string) (*stage.Job, string) {
	t.Helper()
	p := params(map[string]any{
		"model": model, "train_tuples": f.tuples, "train_queries": f.queries,
		"docs": f.docs, "losses": map[string]string{"RankNet": "1"}, "lr": 1e-3, "max_steps": 4.0,
		"batch_size": 2.0, "seed": 3.0, "device": "cpu", "validate_every": 2.0, "val_run": f.runP,
		"val_queries": f.queries, "val_qrels": f.qrels, "val_depth": 4.0,
	})
	if err := checkCombination(p); err != nil {
		t.Fatalf("plan: %v", err)
	}
	job := &stage.Job{Address: "fit." + address, Params: p, OutDir: filepath.Join(f.tmp, address), CheckpointDir: filepath.Join(f.tmp, address+"-ckpt"), Threads: 1}
	if err := os.MkdirAll(job.OutDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Kind().Run(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	return job, filepath.Join(job.OutDir, "model")
}

// reRank runs re_rank with model over the run and returns its scores in
// the run's order, [query][hit].
func (f *scifactFit) reRank(t *testing.T, model string) [][]float64 {
	t.Helper()
	dir, err := os.MkdirTemp(f.tmp, "re_rank-")
	if err != nil {
		t.Fatal(err)
	}
	rr := &stage.Job{Address: "re_rank.fitted", OutDir: dir, Threads: 1, Params: map[string]any{
		"run": f.runP, "queries": f.queries, "docs": f.docs, "model": model,
		"head": "", "depth": 4.0, "batch_size": 8.0, "device": "cpu",
	}}
	if err := rerank.Kind().Run(context.Background(), rr); err != nil {
		t.Fatal(err)
	}
	got, err := trec.ReadRunFile(filepath.Join(rr.OutDir, "run.trec"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float64
	for _, qid := range f.run.QueryIDs() {
		byDoc := map[string]float64{}
		for _, h := range got[qid] {
			byDoc[h.DocID] = h.Score
		}
		var row []float64
		for _, h := range f.run[qid] {
			g, ok := byDoc[h.DocID]
			if !ok {
				t.Fatalf("query %s: re_rank lost doc %s", qid, h.DocID)
			}
			row = append(row, g)
		}
		out = append(out, row)
	}
	return out
}

// savedAs checks that the model fit saved in dir has model_type typ and
// the config field set to value.
func savedAs(t *testing.T, dir, typ, field string, value any) {
	t.Helper()
	var cfg map[string]any
	if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err != nil || json.Unmarshal(b, &cfg) != nil {
		t.Fatalf("fitted config.json: %v", err)
	}
	if cfg["model_type"] != typ || cfg[field] != value {
		t.Fatalf("fitted config.json has model_type %v, %s %v; want %s, %v", cfg["model_type"], field, cfg[field], typ, value)
	}
}

// maxDiff is the largest |a − b| over two score tables of the same shape.
func maxDiff(a, b [][]float64) float64 {
	var worst float64
	for i := range a {
		for k := range a[i] {
			worst = math.Max(worst, math.Abs(a[i][k]-b[i][k]))
		}
	}
	return worst
}
