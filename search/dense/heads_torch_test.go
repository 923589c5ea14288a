//go:build torch

package dense

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/index/dense"
	"github.com/irflow/irflow/models/heads"
)

// TestMatchesHeadsSimilarity: dense search scores every document as
// irflow's model heads do (heads.Similarity on libtorch, Lightning IR's
// definitions), for each similarity: same scores within float32 rounding,
// identical rankings.
func TestMatchesHeadsSimilarity(t *testing.T) {
	const n, dim, nq = 300, 48, 6
	r := rand.New(rand.NewPCG(21, 22))
	docs, queries := make([]float32, n*dim), make([]float32, nq*dim)
	for i := range docs {
		docs[i] = float32(r.NormFloat64())
	}
	for i := range queries {
		queries[i] = float32(r.NormFloat64())
	}
	rt, err := torch.Open(torch.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	for _, sim := range []string{"dot", "cosine", "l2"} {
		ix := buildIndex(t, dense.Options{Dim: dim, Similarity: sim}, docs)
		hits, err := SearchAll(context.Background(), ix, queries, Options{K: n, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		for qi := 0; qi < nq; qi++ {
			var want []float32
			err := rt.Do(context.Background(), func(s *torch.Scope) error {
				qt, err := s.FromFloat32(queries[qi*dim:(qi+1)*dim], 1, 1, dim)
				if err != nil {
					return err
				}
				dt, err := s.FromFloat32(docs, n, 1, dim)
				if err != nil {
					return err
				}
				sc, err := heads.Similarity(s, qt, dt, sim)
				if err != nil {
					return err
				}
				want, err = s.Float32s(sc)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			order := make([]int, n)
			for i := range order {
				order[i] = i
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
			name := fmt.Sprintf("%s/query %d", sim, qi)
			for rank, h := range hits[qi] {
				w := float64(want[h.Doc])
				if math.Abs(h.Score-w) > 1e-5*(1+math.Abs(w)) {
					t.Errorf("%s: doc %d score %g, heads.Similarity %g", name, h.Doc, h.Score, w)
				}
				if h.Doc != order[rank] {
					t.Errorf("%s: rank %d: doc %d (%g), heads ranks doc %d (%g) there", name, rank, h.Doc, h.Score, order[rank], want[order[rank]])
				}
			}
		}
	}
}
