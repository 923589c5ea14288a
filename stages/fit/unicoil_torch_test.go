//go:build torch

package fit

import (
	"path/filepath"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/internal/testenv"
)

// TestFitUniCoil fine-tunes a tiny random UniCOIL that Lightning IR v0.0.6
// built (doc_length 64) on the SciFact task of newScifactFit, validating
// by re-ranking. The saved model must be a unicoil that transformers and
// Lightning IR load with every weight, and re_rank's scores of it must be
// Lightning IR's own scores of the saved directory (within 1e-5 relative)
// and no longer re_rank's scores of the initial model. The oracle is lir_zoo_train.py: its
// train mode builds and saves the initial model (the two steps it then
// trains are not used), its check mode scores a saved directory.
func TestFitUniCoil(t *testing.T) {
	f := newScifactFit(t)
	stepsDir := filepath.Join(testenv.RepoRoot(t), "scripts", "oracle", "train")
	var queries []any
	var docs []any
	for _, l := range f.lists {
		queries, docs = append(queries, l["query"]), append(docs, l["docs"])
	}
	lir := filepath.Join(f.tmp, "lir")
	oracle.RunWithInput(t, new(map[string]any), map[string]any{
		"backbone": filepath.Join(oracle.TinyModels(t), "bert"), "out": lir, "steps": 2, "dump": []int{},
		"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-6, "weight_decay": 0.01, "max_norm": 1.0,
		"batches": []map[string]any{{"queries": queries[:1], "docs": docs[:1]}}, "noise": [][]float32{},
		"cases": []map[string]any{{"name": "unicoil", "arch": "unicoil", "config": map[string]any{"doc_length": 64}, "warmup": 0, "seed": 4, "scale": 0.05}},
	}, "lir_zoo_train.py", stepsDir)
	type checked struct {
		Scores    []float64
		Missing   []string
		BareEqual bool `json:"bare_equal"`
		LIREqual  bool `json:"lir_equal"`
	}
	// score has Lightning IR score every list with the model in dir.
	score := func(dir string) ([][]float64, checked) {
		var res map[string]checked
		oracle.RunWithInput(t, &res, map[string]any{"noise": [][]float32{}, "cases": []map[string]any{{
			"dir": dir, "arch": "unicoil", "queries": queries, "docs": docs,
		}}}, "lir_zoo_train.py", stepsDir, "check")
		r := res[dir]
		var rows [][]float64
		for i, l := range f.lists {
			n := len(l["docs"].([]string))
			rows = append(rows, r.Scores[i*n:(i+1)*n])
		}
		return rows, r
	}
	model := filepath.Join(lir, "unicoil", "init")
	initial := f.reRank(t, model)

	job, fitted := f.fit(t, "unicoil", model)
	savedAs(t, fitted, "unicoil", "doc_length", 64.0)
	got := f.reRank(t, fitted)
	want, loaded := score(fitted)
	if len(loaded.Missing) > 0 || !loaded.BareEqual || !loaded.LIREqual {
		t.Errorf("fitted unicoil: transformers misses %v, same weights %v; Lightning IR same weights %v", loaded.Missing, loaded.BareEqual, loaded.LIREqual)
	}
	var worst float64 // relative to max(1, |score|): dot products of vocabulary vectors
	for i := range want {
		worst = max(worst, maxDiff(got[i:i+1], want[i:i+1])/max(1, absMax(want[i])))
	}
	moved := maxDiff(got, initial)
	if worst > 1e-5 {
		t.Errorf("re_rank of the fitted unicoil: max |Δscore| %.3g (relative) against Lightning IR (tolerance 1e-5)", worst)
	}
	if moved < 1e-3 {
		t.Errorf("fit changed no score by more than %.3g: did it train?", moved)
	}
	t.Logf("fitted unicoil: re_rank vs Lightning IR max |Δscore| %.2g (relative); scores moved up to %.3g from the initial model's; metrics %v", worst, moved, job.Metrics())
}

func absMax(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = max(m, x, -x)
	}
	return m
}
