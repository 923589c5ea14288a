package fusion_test

import (
	"math"
	"strings"
	"testing"

	"github.com/irflow/irflow/ir/fusion"
	"github.com/irflow/irflow/ir/trec"
)

// Two tiny runs. A ranks d1 > d2 > d3; B gives d2 and d4 the same score,
// so trec_eval order ranks d4 first (document id descending). Query q2 is
// only in A.
func tinyRuns() []trec.Run {
	return []trec.Run{
		{
			"q1": {{DocID: "d3", Score: 1}, {DocID: "d1", Score: 3}, {DocID: "d2", Score: 2}},
			"q2": {{DocID: "d1", Score: 1}},
		},
		{
			"q1": {{DocID: "d2", Score: 5}, {DocID: "d4", Score: 5}},
		},
	}
}

// TestFuseHandComputed checks every method on the tiny runs against values
// worked out by hand from the formulas in ranx's source.
func TestFuseHandComputed(t *testing.T) {
	ln2 := math.Log(2)
	cases := []struct {
		name string
		opt  fusion.Options
		// want is q1's fused ranking; ties are listed in trec_eval order.
		want []trec.Hit
	}{
		{"rrf k=60", fusion.Options{Method: fusion.RRF},
			hits("d2", 2.0/62, "d4", 1.0/61, "d1", 1.0/61, "d3", 1.0/63)},
		{"rrf k=0.5", fusion.Options{Method: fusion.RRF, RRFK: 0.5},
			hits("d2", 2/2.5, "d4", 1/1.5, "d1", 1/1.5, "d3", 1/3.5)},
		{"isr = mnz of 1/rank²", fusion.Options{Method: fusion.ISR},
			hits("d4", 1, "d2", (0.25+0.25)*2, "d1", 1, "d3", 1.0/9)},
		{"log_isr: one run gives ln 1 = 0", fusion.Options{Method: fusion.LogISR},
			hits("d2", 0.5*ln2, "d4", 0, "d3", 0, "d1", 0)},
		// Four candidates: a run's i-th hit gets 4−i, its unretrieved
		// candidates (4 − n + 1)/2 each.
		{"bordafuse", fusion.Options{Method: fusion.BordaFuse},
			hits("d2", 3+3, "d1", 4+1.5, "d4", 1+4, "d3", 2+1.5)},
		{"w_bordafuse", fusion.Options{Method: fusion.WBordaFuse, Weights: []float64{1, 2}},
			hits("d4", 1+8, "d2", 3+6, "d1", 4+3, "d3", 2+3)},
		// B is constant: min-max makes it all 0, ranx's 1e-9 floor.
		{"sum min-max (default)", fusion.Options{Method: fusion.Sum},
			hits("d1", 1, "d2", 0.5, "d4", 0, "d3", 0)},
		{"mnz min-max", fusion.Options{Method: fusion.MNZ, Norm: fusion.MinMax},
			hits("d2", 1, "d1", 1, "d4", 0, "d3", 0)},
		{"wsum max", fusion.Options{Method: fusion.WSum, Norm: fusion.MaxNorm, Weights: []float64{1, 2}},
			hits("d2", 2.0/3+2, "d4", 2, "d1", 1, "d3", 1.0/3)},
		{"wsum without weights = sum", fusion.Options{Method: fusion.WSum, Norm: fusion.NoNorm},
			hits("d2", 7, "d4", 5, "d1", 3, "d3", 1)},
		{"wmnz none", fusion.Options{Method: fusion.WMNZ, Norm: fusion.NoNorm, Weights: []float64{1, 2}},
			hits("d2", 7*3, "d4", 5*2, "d1", 3, "d3", 1)},
		// A: (s − 1) / (6 − 3·1).
		{"sum sum-norm", fusion.Options{Method: fusion.Sum, Norm: fusion.SumNorm},
			hits("d1", 2.0/3, "d2", 1.0/3, "d4", 0, "d3", 0)},
		// A: mean 2, std √(2/3); B: std 0 → all 0.
		{"anz zmuv", fusion.Options{Method: fusion.ANZ, Norm: fusion.ZMUV},
			hits("d1", 1/math.Sqrt(2.0/3), "d4", 0, "d2", 0, "d3", -1/math.Sqrt(2.0/3))},
		// A: 1, 2/3, 1/3; B (d4, d2): 1, 1/2.
		{"anz rank", fusion.Options{Method: fusion.ANZ, Norm: fusion.RankNorm},
			hits("d4", 1, "d1", 1, "d2", (2.0/3+0.5)/2, "d3", 1.0/3)},
		// A: 1, 3/4, 1/2, unretrieved d4 1/2 − 2/8; B: 1, 3/4, unretrieved 1/2 − 1/8.
		{"sum borda", fusion.Options{Method: fusion.Sum, Norm: fusion.Borda},
			hits("d2", 1.5, "d1", 1.375, "d4", 1.25, "d3", 0.875)},
		{"mnz borda: every run holds every candidate", fusion.Options{Method: fusion.MNZ, Norm: fusion.Borda},
			hits("d2", 3, "d1", 2.75, "d4", 2.5, "d3", 1.75)},
		{"min borda", fusion.Options{Method: fusion.Min, Norm: fusion.Borda},
			hits("d2", 0.75, "d3", 0.375, "d1", 0.375, "d4", 0.25)},
		{"max none", fusion.Options{Method: fusion.Max, Norm: fusion.NoNorm},
			hits("d4", 5, "d2", 5, "d1", 3, "d3", 1)},
		{"min none: over the runs that retrieved it", fusion.Options{Method: fusion.Min, Norm: fusion.NoNorm},
			hits("d4", 5, "d1", 3, "d2", 2, "d3", 1)},
		{"med none", fusion.Options{Method: fusion.Med, Norm: fusion.NoNorm},
			hits("d4", 5, "d2", 3.5, "d1", 3, "d3", 1)},
		{"depth 1 cuts each run first", fusion.Options{Method: fusion.RRF, Depth: 1},
			hits("d4", 1.0/61, "d1", 1.0/61)},
		{"k 2 cuts the fused list", fusion.Options{Method: fusion.RRF, K: 2},
			hits("d2", 2.0/62, "d4", 1.0/61)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runs := tinyRuns()
			got, err := fusion.Fuse(runs, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			assertHits(t, got["q1"], c.want)
			if len(got) != 2 || len(got["q2"]) != 1 {
				t.Errorf("queries: %v", got)
			}
			if runs[0]["q1"][0].DocID != "d3" {
				t.Error("Fuse reordered its input")
			}
		})
	}
}

// TestQueryInOneRun: a query missing from a run is fused as if the run
// returned nothing for it, as ranx does after Run.make_comparable.
func TestQueryInOneRun(t *testing.T) {
	cases := []struct {
		opt  fusion.Options
		want float64
	}{
		{fusion.Options{Method: fusion.RRF}, 1.0 / 61},
		{fusion.Options{Method: fusion.Sum}, 0}, // one hit: min-max of a constant
		{fusion.Options{Method: fusion.Sum, Norm: fusion.NoNorm}, 1},
		{fusion.Options{Method: fusion.MNZ, Norm: fusion.MaxNorm}, 1},
		// One candidate: 1 point from A, (1 − 0 + 1)/2 from the empty B.
		{fusion.Options{Method: fusion.BordaFuse}, 2},
		{fusion.Options{Method: fusion.Sum, Norm: fusion.Borda}, 1 + 1},
		{fusion.Options{Method: fusion.Max, Norm: fusion.ZMUV}, 0},
	}
	for _, c := range cases {
		got, err := fusion.Fuse(tinyRuns(), c.opt)
		if err != nil {
			t.Fatal(err)
		}
		assertHits(t, got["q2"], hits("d1", c.want))
	}
}

func TestFuseQueryOnItsOwn(t *testing.T) {
	runs := tinyRuns()
	got, err := fusion.FuseQuery([][]trec.Hit{runs[0]["q1"], runs[1]["q1"], nil}, fusion.Options{Method: fusion.Sum, Norm: fusion.NoNorm})
	if err != nil {
		t.Fatal(err)
	}
	assertHits(t, got, hits("d2", 7, "d4", 5, "d1", 3, "d3", 1))
}

func TestOptionErrors(t *testing.T) {
	cases := []struct {
		runs int
		opt  fusion.Options
		want string
	}{
		{1, fusion.Options{Method: fusion.RRF}, "at least two"},
		{2, fusion.Options{Method: "combsum"}, `method "combsum": want one of`},
		{2, fusion.Options{Method: fusion.Sum, Norm: "minmax"}, `normalization "minmax": want one of`},
		{2, fusion.Options{Method: fusion.RRF, Norm: fusion.MinMax}, `method "rrf" fuses ranks`},
		{2, fusion.Options{Method: fusion.Sum, Weights: []float64{1, 2}}, `method "sum" takes no weights`},
		{3, fusion.Options{Method: fusion.WSum, Weights: []float64{1, 2}}, "2 weights for 3 runs"},
		{2, fusion.Options{Method: fusion.WSum, Weights: []float64{1, math.NaN()}}, "weight 2 is NaN"},
		{2, fusion.Options{Method: fusion.RRF, RRFK: -1}, "rrf_k = -1"},
		{2, fusion.Options{Method: fusion.RRF, Depth: -1}, "depth = -1"},
		{2, fusion.Options{Method: fusion.RRF, K: -5}, "k = -5"},
	}
	for _, c := range cases {
		err := c.opt.Check(c.runs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v on %d runs: error %v, want %q", c.opt, c.runs, err, c.want)
		}
		if _, err := fusion.Fuse(make([]trec.Run, c.runs), c.opt); err == nil {
			t.Errorf("%+v: Fuse accepted it", c.opt)
		}
	}
	if err := (fusion.Options{Method: fusion.RRF, Norm: fusion.NoNorm}).Check(2); err != nil {
		t.Errorf("rrf with normalization none: %v", err)
	}
}

// hits builds a hit list from alternating ids and scores.
func hits(kv ...any) []trec.Hit {
	var h []trec.Hit
	for i := 0; i < len(kv); i += 2 {
		var s float64
		switch v := kv[i+1].(type) {
		case int:
			s = float64(v)
		case float64:
			s = v
		}
		h = append(h, trec.Hit{DocID: kv[i].(string), Score: s})
	}
	return h
}

func assertHits(t *testing.T, got, want []trec.Hit) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i].DocID != want[i].DocID || math.Abs(got[i].Score-want[i].Score) > 1e-12*math.Max(1, math.Abs(want[i].Score)) {
			t.Fatalf("rank %d: got %v, want %v\n got %v\nwant %v", i+1, got[i], want[i], got, want)
		}
	}
}
