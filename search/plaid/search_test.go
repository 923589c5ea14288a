package plaid_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/irflow/irflow/index/multivector"
	plaidx "github.com/irflow/irflow/index/plaid"
	"github.com/irflow/irflow/index/plaid/plaidtest"
	multis "github.com/irflow/irflow/search/multivector"
	"github.com/irflow/irflow/search/plaid"
)

func open(t *testing.T, src *multivector.Index, o plaidx.Options) *plaidx.Index {
	t.Helper()
	dir := t.TempDir()
	if _, err := plaidx.Build(context.Background(), dir, src, o); err != nil {
		t.Fatal(err)
	}
	ix, err := plaidx.Open(dir, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func queries(col plaidtest.Collection) []plaid.Query {
	qs := make([]plaid.Query, len(col.Queries))
	for i, v := range col.Queries {
		n := len(v) / col.Dim
		mask := make([]bool, n)
		for j := range mask {
			mask[j] = j%5 != 3 // some vectors not scored
		}
		qs[i] = plaid.Query{Vectors: v, Mask: mask}
	}
	return qs
}

// TestExhaustiveEqualsExact: every centroid a candidate source, no
// pruning, every document a survivor and re-scoring from the full
// vectors give exactly exact search's hits and scores, for every doc and
// query aggregation, similarity and storage type.
func TestExhaustiveEqualsExact(t *testing.T) {
	col := plaidtest.Make(11, 150, 12, 16, 20)
	qs := queries(col)
	for _, sim := range []string{"dot", "cosine"} {
		for _, dtype := range []string{"float32", "float16"} {
			for _, dAgg := range multivector.DocAggregations {
				src := plaidtest.Index(t, col, multivector.Options{Similarity: sim, DType: dtype, DocAggregation: dAgg})
				ix := open(t, src, plaidx.Options{NumCentroids: 16, NBits: 2, Seed: 1})
				for _, qAgg := range multis.QueryAggregations {
					name := fmt.Sprintf("%s/%s/%s/%s", sim, dtype, dAgg, qAgg)
					want, err := multis.SearchAll(context.Background(), src, qs, multis.Options{K: 20, QueryAggregation: qAgg})
					if err != nil {
						t.Fatal(err)
					}
					got, err := plaid.SearchAll(context.Background(), ix, qs, plaid.Options{K: 20, NCells: 16, CentroidScoreThreshold: math.Inf(-1),
						CandidateK: 150, Rescore: true, QueryAggregation: qAgg, Threads: 2})
					if err != nil {
						t.Fatal(err)
					}
					for qi := range want {
						if !slices.Equal(got[qi], want[qi]) {
							t.Fatalf("%s query %d:\n got %v\nwant %v", name, qi, got[qi], want[qi])
						}
					}
				}
			}
		}
	}
}

// TestDecompressedScores: without re-scoring, the scores come from the
// decompressed tokens; with max doc aggregation and sum over the query,
// each differs from the exact score of the same document by at most
// Σ_r ‖q_r‖ · max_t ‖x_t − x̂_t‖ (Cauchy–Schwarz; x̂ read back through the
// index), and the error shrinks with more bits.
func TestDecompressedScores(t *testing.T) {
	col := plaidtest.Make(12, 200, 20, 32, 30)
	qs := queries(col)
	src := plaidtest.Index(t, col, multivector.Options{})
	exact, err := multis.SearchAll(context.Background(), src, qs, multis.Options{K: 200})
	if err != nil {
		t.Fatal(err)
	}
	var prev float64 = math.Inf(1)
	for _, nbits := range []int{1, 2, 4} {
		ix := open(t, src, plaidx.Options{NumCentroids: 32, NBits: nbits, Seed: 1})
		var maxErr float64
		lo, hi := 0, int(src.NumTokens())
		x := src.Vectors(lo, hi, nil)
		dec := ix.Decompress(lo, hi, nil)
		for i := 0; i < len(x); i += col.Dim {
			var s float64
			for t2 := 0; t2 < col.Dim; t2++ {
				e := float64(x[i+t2]) - float64(dec[i+t2])
				s += e * e
			}
			maxErr = max(maxErr, math.Sqrt(s))
		}
		got, err := plaid.SearchAll(context.Background(), ix, qs, plaid.Options{K: 200, NCells: 32, CentroidScoreThreshold: math.Inf(-1), CandidateK: 200})
		if err != nil {
			t.Fatal(err)
		}
		var worst float64
		for qi, q := range qs {
			var qn float64
			for j := 0; j < len(q.Vectors)/col.Dim; j++ {
				if q.Mask[j] {
					var s float64
					for _, v := range q.Vectors[j*col.Dim : (j+1)*col.Dim] {
						s += float64(v) * float64(v)
					}
					qn += math.Sqrt(s)
				}
			}
			ex := map[int]float64{}
			for _, h := range exact[qi] {
				ex[h.Doc] = h.Score
			}
			if len(got[qi]) != len(exact[qi]) {
				t.Fatalf("n_bits %d query %d: %d hits, exact %d", nbits, qi, len(got[qi]), len(exact[qi]))
			}
			for _, h := range got[qi] {
				d := math.Abs(h.Score - ex[h.Doc])
				if d > qn*maxErr*(1+1e-5)+1e-5 {
					t.Fatalf("n_bits %d query %d doc %d: score %g, exact %g: off by %g > bound %g", nbits, qi, h.Doc, h.Score, ex[h.Doc], d, qn*maxErr)
				}
				worst = max(worst, d)
			}
		}
		t.Logf("n_bits %d: max token reconstruction error %.4f, max score error %.4f", nbits, maxErr, worst)
		if worst >= prev {
			t.Errorf("n_bits %d: score error %g not below the fewer bits' %g", nbits, worst, prev)
		}
		prev = worst
	}
}

// reference computes the candidates and approximate scores of PLAID's
// stages 2–3 in float64 from their definitions.
func reference(ix *plaidx.Index, src *multivector.Index, q []float32, dim, nCells int, thr float64) map[int]float64 {
	cents := ix.Centroids()
	k := ix.Meta().NumCentroids
	nr := len(q) / dim
	s := make([][]float64, nr) // s[r][c]
	for r := range s {
		s[r] = make([]float64, k)
		for c := 0; c < k; c++ {
			for t := 0; t < dim; t++ {
				s[r][c] += float64(q[r*dim+t]) * float64(cents[c*dim+t])
			}
		}
	}
	probed := map[int]bool{}
	for r := range s {
		order := make([]int, k)
		for c := range order {
			order[c] = c
		}
		sort.SliceStable(order, func(a, b int) bool { return s[r][order[a]] > s[r][order[b]] })
		for _, c := range order[:nCells] {
			probed[c] = true
		}
	}
	kept := make([]bool, k)
	for c := 0; c < k; c++ {
		m := math.Inf(-1)
		for r := range s {
			m = max(m, s[r][c])
		}
		kept[c] = m >= thr
	}
	out := map[int]float64{}
	for doc := 0; doc < src.NumDocs(); doc++ {
		lo, hi := src.DocRows(doc)
		codes := ix.Codes(lo, hi)
		cand := false
		for _, c := range codes {
			cand = cand || probed[int(c)]
		}
		if !cand {
			continue
		}
		var sum float64
		for r := range s {
			best := -9999.0
			for _, c := range codes {
				if kept[c] {
					best = max(best, s[r][c])
				}
			}
			sum += best
		}
		out[doc] = sum
	}
	return out
}

// TestCandidatesAndPruning: with candidate_k = k the hits are exactly the
// k candidates with the best approximate scores, for several n_cells and
// thresholds (queries' scored vectors only; rounding between float32 and
// the float64 reference may swap documents whose scores are within 1e-4).
func TestCandidatesAndPruning(t *testing.T) {
	col := plaidtest.Make(13, 300, 15, 32, 40)
	src := plaidtest.Index(t, col, multivector.Options{})
	ix := open(t, src, plaidx.Options{NumCentroids: 64, NBits: 2, Seed: 5})
	qs := make([]plaid.Query, len(col.Queries))
	for i, v := range col.Queries {
		qs[i] = plaid.Query{Vectors: v}
	}
	const k = 10
	for _, nCells := range []int{1, 2, 8} {
		for _, thr := range []float64{math.Inf(-1), 0.3, 0.5, 0.7} {
			got, err := plaid.SearchAll(context.Background(), ix, qs, plaid.Options{K: k, NCells: nCells, CentroidScoreThreshold: thr, CandidateK: k, Rescore: true})
			if err != nil {
				t.Fatal(err)
			}
			for qi, q := range qs {
				ref := reference(ix, src, q.Vectors, col.Dim, nCells, thr)
				docs := make([]int, 0, len(ref))
				for d := range ref {
					docs = append(docs, d)
				}
				sort.Slice(docs, func(a, b int) bool {
					if ref[docs[a]] != ref[docs[b]] {
						return ref[docs[a]] > ref[docs[b]]
					}
					return docs[a] < docs[b]
				})
				want := docs[:min(k, len(docs))]
				if len(got[qi]) != len(want) {
					t.Fatalf("n_cells %d thr %g query %d: %d hits, want %d", nCells, thr, qi, len(got[qi]), len(want))
				}
				cut := math.Inf(-1)
				if len(docs) > k {
					cut = ref[docs[k]]
				}
				for _, h := range got[qi] {
					sc, ok := ref[h.Doc]
					if !ok {
						t.Fatalf("n_cells %d thr %g query %d: doc %d is no candidate", nCells, thr, qi, h.Doc)
					}
					if !slices.Contains(want, h.Doc) && sc < cut-1e-4 {
						t.Fatalf("n_cells %d thr %g query %d: doc %d (approx %g) is below the k-th candidate (%g)", nCells, thr, qi, h.Doc, sc, cut)
					}
				}
			}
		}
	}
}

// TestRecall: at a moderate operating point recall@10 against exact
// search stays high on clustered token vectors.
func TestRecall(t *testing.T) {
	col := plaidtest.Make(14, 1000, 50, 32, 80)
	src := plaidtest.Index(t, col, multivector.Options{})
	qs := queries(col)
	exact, err := multis.SearchAll(context.Background(), src, qs, multis.Options{K: 10})
	if err != nil {
		t.Fatal(err)
	}
	ix := open(t, src, plaidx.Options{NBits: 2, Seed: 42})
	for _, c := range []struct {
		o   plaid.Options
		min float64
	}{
		{plaid.Options{NCells: 4, CentroidScoreThreshold: 0.4, CandidateK: 100, Rescore: true}, 0.95},
		{plaid.Options{NCells: 4, CentroidScoreThreshold: 0.4, CandidateK: 100}, 0.85},
	} {
		c.o.K = 10
		got, err := plaid.SearchAll(context.Background(), ix, qs, c.o)
		if err != nil {
			t.Fatal(err)
		}
		var hit, all int
		for qi := range exact {
			want := map[int]bool{}
			for _, h := range exact[qi] {
				want[h.Doc] = true
			}
			for _, h := range got[qi] {
				if want[h.Doc] {
					hit++
				}
			}
			all += len(exact[qi])
		}
		r := float64(hit) / float64(all)
		t.Logf("%d centroids, %+v: recall@10 %.3f", ix.Meta().NumCentroids, c.o, r)
		if r < c.min {
			t.Errorf("recall@10 %.3f < %.2f", r, c.min)
		}
	}
}

func TestBadOptions(t *testing.T) {
	col := plaidtest.Make(15, 40, 2, 16, 10)
	src := plaidtest.Index(t, col, multivector.Options{})
	ix := open(t, src, plaidx.Options{NumCentroids: 8})
	qs := []plaid.Query{{Vectors: col.Queries[0]}}
	for _, c := range []struct {
		o    plaid.Options
		want string
	}{
		{plaid.Options{K: 0, NCells: 1}, "k must be positive"},
		{plaid.Options{K: 5, NCells: 9}, "n_cells = 9"},
		{plaid.Options{K: 5, NCells: 0}, "n_cells = 0"},
		{plaid.Options{K: 5, NCells: 1, CandidateK: 4}, "candidate_k = 4 is below k = 5"},
		{plaid.Options{K: 5, NCells: 1, CentroidScoreThreshold: math.NaN()}, "NaN"},
	} {
		if _, err := plaid.SearchAll(context.Background(), ix, qs, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
}
