//go:build torch

package heads

import (
	"context"
	"math"
	"testing"

	"github.com/irflow/irflow/backends/torch"
)

// TestAggregation scores hand-made multi-vector embeddings and compares
// with the aggregation written out in plain Go: doc vectors first (masked
// ones excluded), then query vectors.
func TestAggregation(t *testing.T) {
	// 1 query of 3 vectors (the last masked), 2 docs of 2 vectors, D = 2.
	q := []float32{1, 0, 0.5, 0.5, 3, 3}
	qm := []int64{1, 1, 0}
	d := []float32{1, 1, 2, 0, 0.25, 0, 1, 3}
	dm := []int64{1, 1, 1, 0} // doc 1's second vector is masked
	dot := func(a, b []float32) float64 { return float64(a[0]*b[0] + a[1]*b[1]) }
	want := func(docAgg, qAgg string) []float64 {
		var out []float64
		for doc := 0; doc < 2; doc++ {
			var perQ []float64
			for qi := 0; qi < 3; qi++ {
				if qm[qi] == 0 {
					continue
				}
				var sims []float64
				for di := 0; di < 2; di++ {
					if dm[doc*2+di] == 1 {
						sims = append(sims, dot(q[qi*2:qi*2+2], d[doc*4+di*2:doc*4+di*2+2]))
					}
				}
				perQ = append(perQ, reduce(sims, docAgg))
			}
			out = append(out, reduce(perQ, qAgg))
		}
		return out
	}
	rt, err := torch.Open(torch.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	for _, agg := range [][2]string{{"max", "sum"}, {"max", "mean"}, {"max", "max"}, {"sum", "harmonic_mean"}, {"mean", "sum"}} {
		h := &Head{Opts: Options{Similarity: "dot", DocAggregation: agg[0], QueryAggregation: agg[1]}}
		var got []float32
		err := rt.Do(context.Background(), func(s *torch.Scope) error {
			qt, _ := s.FromFloat32(q, 1, 3, 2)
			qmt, _ := s.FromInt64(qm, 1, 3)
			dt, _ := s.FromFloat32(d, 2, 2, 2)
			dmt, _ := s.FromInt64(dm, 2, 2)
			sc, err := h.Score(s, qt, qmt, dt, dmt)
			if err != nil {
				return err
			}
			got, err = s.Float32s(sc)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		w := want(agg[0], agg[1])
		for i := range w {
			if math.Abs(float64(got[i])-w[i]) > 1e-6 {
				t.Errorf("doc %s, query %s: doc %d score %g, want %g", agg[0], agg[1], i, got[i], w[i])
			}
		}
	}
}

func reduce(x []float64, how string) float64 {
	var r float64
	switch how {
	case "max":
		r = math.Inf(-1)
		for _, v := range x {
			r = math.Max(r, v)
		}
	case "sum", "mean":
		for _, v := range x {
			r += v
		}
		if how == "mean" {
			r /= math.Max(1, float64(len(x)))
		}
	case "harmonic_mean":
		var inv float64
		for _, v := range x {
			inv += 1 / v
		}
		r = float64(len(x)) / inv
	}
	return r
}
