//go:build torch

package multivector

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/index/multivector"
	"github.com/irflow/irflow/models/heads"
)

// TestMatchesHeadsScore proves the index + search compute what irflow's
// model heads (Lightning IR's scoring, on libtorch) compute: random
// documents with masked vectors (stored without them), random queries with
// masks, every similarity × doc aggregation × query aggregation. Scores
// agree to float32 rounding and the rankings are identical. Documents
// whose vectors are all masked are left out on both sides (the search
// never returns them).
func TestMatchesHeadsScore(t *testing.T) {
	const n, ld, lq, dim = 60, 9, 8, 16
	r := rand.New(rand.NewPCG(11, 12))
	// Padded documents [n ld dim] with scoring masks [n ld].
	d := make([]float32, n*ld*dim)
	dMask := make([]int64, n*ld)
	for i := range d {
		d[i] = r.Float32()
	}
	for i := 0; i < n; i++ {
		for j := 0; j < ld; j++ {
			if i%10 != 4 && r.IntN(3) > 0 { // every tenth document: nothing scored
				dMask[i*ld+j] = 1
			}
		}
	}
	queries := make([]Query, 5)
	for qi := range queries {
		queries[qi].Vectors = make([]float32, lq*dim)
		for j := range queries[qi].Vectors {
			queries[qi].Vectors[j] = r.Float32()
		}
		queries[qi].Mask = make([]bool, lq)
		for j := range queries[qi].Mask {
			queries[qi].Mask[j] = j == 0 || r.IntN(4) > 0
		}
	}
	rt, err := torch.Open(torch.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	for _, sim := range []string{"dot", "cosine", "l2"} {
		for _, dAgg := range []string{"max", "sum", "mean"} {
			dir := t.TempDir()
			w, err := multivector.Create(dir, multivector.Options{Dim: dim, Similarity: sim, DocAggregation: dAgg})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				var scored []float32
				for j := 0; j < ld; j++ {
					if dMask[i*ld+j] == 1 {
						scored = append(scored, d[(i*ld+j)*dim:(i*ld+j+1)*dim]...)
					}
				}
				if err := w.Add(fmt.Sprintf("d%d", i), scored); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.Close(); err != nil {
				t.Fatal(err)
			}
			ix, err := multivector.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, qAgg := range QueryAggregations {
				name := fmt.Sprintf("%s/%s/%s", sim, dAgg, qAgg)
				hits, err := SearchAll(context.Background(), ix, queries, Options{K: n, Threads: 2, QueryAggregation: qAgg})
				if err != nil {
					t.Fatal(err)
				}
				h := &heads.Head{Opts: heads.Options{Similarity: sim, DocAggregation: dAgg, QueryAggregation: qAgg}}
				for qi, q := range queries {
					qm := make([]int64, lq)
					for j, b := range q.Mask {
						if b {
							qm[j] = 1
						}
					}
					var want []float32
					err := rt.Do(context.Background(), func(s *torch.Scope) error {
						qt, err := s.FromFloat32(q.Vectors, 1, lq, dim)
						if err != nil {
							return err
						}
						qmt, err := s.FromInt64(qm, 1, lq)
						if err != nil {
							return err
						}
						dt, err := s.FromFloat32(d, n, ld, dim)
						if err != nil {
							return err
						}
						dmt, err := s.FromInt64(dMask, n, ld)
						if err != nil {
							return err
						}
						sc, err := h.Score(s, qt, qmt, dt, dmt)
						if err != nil {
							return err
						}
						want, err = s.Float32s(sc)
						return err
					})
					if err != nil {
						t.Fatal(err)
					}
					compareWithHeads(t, name, qi, hits[qi], want, func(doc int) bool { return doc%10 != 4 })
				}
			}
			ix.Close()
		}
	}
}

// compareWithHeads checks hits against the head's scores of every
// document: same scores within float32 rounding, and the ranking of the
// head's scores (score descending, then document number) over the
// documents kept.
func compareWithHeads(t *testing.T, name string, qi int, hits []Hit, want []float32, keep func(int) bool) {
	t.Helper()
	var order []int
	for doc := range want {
		if keep(doc) {
			order = append(order, doc)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if want[a] > want[b] {
			return -1
		}
		if want[a] < want[b] {
			return 1
		}
		return 0
	})
	if len(hits) != len(order) {
		t.Fatalf("%s: query %d: %d hits, want %d", name, qi, len(hits), len(order))
	}
	for r, hit := range hits {
		w := float64(want[hit.Doc])
		if math.Abs(hit.Score-w) > 1e-5*(1+math.Abs(w)) {
			t.Errorf("%s: query %d doc %d: score %g, heads.Score %g", name, qi, hit.Doc, hit.Score, w)
		}
		if hit.Doc != order[r] {
			t.Errorf("%s: query %d rank %d: doc %d (%g), heads.Score ranks doc %d (%g) there", name, qi, r, hit.Doc, hit.Score, order[r], want[order[r]])
		}
	}
}
