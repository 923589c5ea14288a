package evaluate_test

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
	"github.com/irflow/irflow/stages/evaluate"
)

func hits(pairs ...any) []trec.Hit {
	var h []trec.Hit
	for i := 0; i < len(pairs); i += 2 {
		h = append(h, trec.Hit{DocID: pairs[i].(string), Score: pairs[i+1].(float64)})
	}
	return h
}

// TestOverlap checks recall against a reference run on hand-worked cases.
func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		name     string
		run, ref trec.Run
		ks       []int
		want     []float64
		missing  int
	}{
		{"identical", trec.Run{"q": hits("a", 3.0, "b", 2.0, "c", 1.0)}, trec.Run{"q": hits("a", 3.0, "b", 2.0, "c", 1.0)},
			[]int{1, 2, 3}, []float64{1, 1, 1}, 0},
		// The run's order is by score, not by file order: its top 1 is b.
		{"ranked by score", trec.Run{"q": hits("a", 1.0, "b", 2.0)}, trec.Run{"q": hits("a", 3.0, "b", 2.0)},
			[]int{1, 2}, []float64{0, 1}, 0},
		// Score ties are broken by document id descending: the reference's
		// top 1 of {x, y} tied is y.
		{"ties", trec.Run{"q": hits("y", 1.0)}, trec.Run{"q": hits("x", 5.0, "y", 5.0)},
			[]int{1, 2}, []float64{1, 0.5}, 0},
		// A reference with fewer than k hits is recalled out of what it has.
		{"short reference", trec.Run{"q": hits("a", 3.0, "z", 2.0, "b", 1.0)}, trec.Run{"q": hits("a", 1.0, "b", 0.5)},
			[]int{2, 10}, []float64{0.5, 1}, 0},
		// A query the run lacks counts as 0; one only the run has is ignored.
		{"missing query", trec.Run{"q1": hits("a", 1.0), "extra": hits("a", 1.0)}, trec.Run{"q1": hits("a", 1.0), "q2": hits("b", 1.0)},
			[]int{1}, []float64{0.5}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mean, _, missing := evaluate.Overlap(tc.run, tc.ref, tc.ks)
			for i := range tc.ks {
				if math.Abs(mean[i]-tc.want[i]) > 1e-12 {
					t.Errorf("recall@%d = %v, want %v", tc.ks[i], mean[i], tc.want[i])
				}
			}
			if len(missing) != tc.missing {
				t.Errorf("missing %v, want %d", missing, tc.missing)
			}
		})
	}
}

// TestOverlapStage runs the stage on the bundled DL19 BM25 run against the
// TAS-B run. The expected values were computed by an independent
// 12-line Python script over the same two files (sort by score then id,
// both descending; |top-k ∩ top-k| / |reference top-k|, mean over the 43
// reference queries): 0.265116 at 10 and 0.327442 at 100.
func TestOverlapStage(t *testing.T) {
	k, ok := stage.Lookup("evaluate", evaluate.MethodOverlap)
	if !ok {
		t.Fatal("evaluate/overlap is not registered")
	}
	runs := testenv.Collection(t, "msmarco-passage", "rerank", "runs")
	j := &stage.Job{Address: "evaluate.overlap", OutDir: t.TempDir(), CheckpointDir: t.TempDir(), Threads: 1, Params: map[string]any{
		"run":       filepath.Join(runs, "bm25.dl19.top100.trec"),
		"reference": filepath.Join(runs, "tasb.dl19.top100.trec"),
		"metrics":   []string{"recall@10", " recall@100"},
	}}
	if err := k.Run(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"recall@10": 0.265116, "recall@100": 0.327442} {
		if got := j.Metrics()[name]; math.Abs(got-want) > 5e-7 {
			t.Errorf("%s = %.6f, want %.6f", name, got, want)
		}
	}
	b, err := os.ReadFile(filepath.Join(j.OutDir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res evaluate.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Queries != 43 || len(res.PerQuery) != 43 || res.Mean["recall@10"] != j.Metrics()["recall@10"] {
		t.Errorf("metrics.json: %d queries, %d per query, mean %v", res.Queries, len(res.PerQuery), res.Mean)
	}
}

func TestOverlapMetricsChecked(t *testing.T) {
	k, _ := stage.Lookup("evaluate", evaluate.MethodOverlap)
	var check func(any) error
	for _, p := range k.Params {
		if p.Name == "metrics" {
			check = p.Check
		}
	}
	for _, tc := range []struct {
		in   []string
		want string // "" = accepted
	}{
		{[]string{"recall@10", "recall@1000"}, ""},
		{[]string{}, "empty"},
		{[]string{"recall@10", "nDCG@10"}, "metrics[1]"},
		{[]string{"recall@0"}, "≥ 1"},
		{[]string{"recall@10", "recall@10"}, "repeats metrics[0]"},
	} {
		err := check(tc.in)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}
