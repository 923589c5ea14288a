//go:build torch

package fit

import (
	"path/filepath"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
)

// TestFitSetEncoder fine-tunes a tiny random Set-Encoder (depth 4) that
// Lightning IR v0.0.6 built, on SciFact training claims with one relevant
// and two other abstracts each (so every step samples one stand-in per
// query and layer), validating by re-ranking. The saved model must be a
// set-encoder that re_rank loads, and re_rank's scores of it must be
// Lightning IR's own scores of the saved directory (within 1e-5) and no
// longer the initial model's.
func TestFitSetEncoder(t *testing.T) {
	f := newScifactFit(t)
	score := func(backbone, out string, scale float64) [][]float64 {
		var refs map[string][][]float64
		oracle.RunWithInput(t, &refs, map[string]any{"cases": []map[string]any{{
			"out": out, "backbone": backbone, "config": map[string]any{"depth": 4, "scoring_strategy": "mono"}, "lists": f.lists, "scale": scale,
		}}}, "lir_setencoder.py")
		return refs[out]
	}
	model := filepath.Join(f.tmp, "set-encoder")
	initial := score(filepath.Join(oracle.TinyModels(t), "bert"), model, 0.5)

	job, fitted := f.fit(t, "set_encoder", model)
	savedAs(t, fitted, "set-encoder", "depth", 4.0)
	got := f.reRank(t, fitted)
	// Lightning IR scores the fitted directory as saved (scale 0: its head as is).
	want := score(fitted, filepath.Join(f.tmp, "lir-fitted"), 0)
	worst, moved := maxDiff(got, want), maxDiff(got, initial)
	if worst > 1e-5 {
		t.Errorf("re_rank of the fitted set-encoder: max |Δscore| %.3g against Lightning IR (tolerance 1e-5)", worst)
	}
	if moved < 1e-3 {
		t.Errorf("fit changed no score by more than %.3g: did it train?", moved)
	}
	t.Logf("fitted set-encoder: re_rank vs Lightning IR max |Δscore| %.2g; scores moved up to %.3g from the initial model's; metrics %v", worst, moved, job.Metrics())
}
