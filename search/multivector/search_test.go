package multivector

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/irflow/irflow/index/multivector"
)

type doc struct {
	vecs []float32
}

// randDocs makes n documents of 0..maxTok vectors with values uniform in
// [0, 1) (similarities of one sign keep harmonic_mean well conditioned);
// every seventh document has no vectors.
func randDocs(seed uint64, n, maxTok, dim int) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 5))
	out := make([][]float32, n)
	for i := range out {
		m := 1 + r.IntN(maxTok)
		if i%7 == 2 {
			m = 0
		}
		out[i] = make([]float32, m*dim)
		for j := range out[i] {
			out[i][j] = r.Float32()
		}
	}
	return out
}

func buildIndex(t testing.TB, o multivector.Options, docs [][]float32) *multivector.Index {
	t.Helper()
	dir := t.TempDir()
	w, err := multivector.Create(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range docs {
		if err := w.Add(fmt.Sprintf("d%d", i), d); err != nil {
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
	t.Cleanup(func() { ix.Close() })
	return ix
}

type ref struct {
	doc   int
	score float64
}

// reference scores a query against every stored document in float64,
// straight from Lightning IR's definitions: similarity of each scored
// query vector with each document vector, doc aggregation, then query
// aggregation. Documents without vectors are left out.
func reference(ix *multivector.Index, q Query, qAgg string) []ref {
	return rank(perVector(ix, q), qAgg)
}

type docPer struct {
	doc int
	per []float64 // doc-aggregated similarity per scored query vector
}

// perVector is the reference up to the doc aggregation.
func perVector(ix *multivector.Index, q Query) []docPer {
	m := ix.Meta()
	dim := m.Dim
	var qv [][]float64
	for t := 0; t < len(q.Vectors)/dim; t++ {
		if q.Mask != nil && !q.Mask[t] {
			continue
		}
		v := make([]float64, dim)
		var n float64
		for j := range v {
			v[j] = float64(q.Vectors[t*dim+j])
			n += v[j] * v[j]
		}
		if m.Similarity == "cosine" {
			for j := range v {
				v[j] /= max(math.Sqrt(n), 1e-8)
			}
		}
		qv = append(qv, v)
	}
	var out []docPer
	for d := 0; d < ix.NumDocs(); d++ {
		lo, hi := ix.DocRows(d)
		if lo == hi {
			continue
		}
		rows := ix.Vectors(lo, hi, nil)
		var per []float64
		for _, v := range qv {
			var sims []float64
			for t := 0; t < hi-lo; t++ {
				var s float64
				for j := range v {
					x := float64(rows[t*dim+j])
					if m.Similarity == "l2" {
						s += (v[j] - x) * (v[j] - x)
					} else {
						s += v[j] * x
					}
				}
				if m.Similarity == "l2" {
					s = -math.Sqrt(s)
				}
				sims = append(sims, s)
			}
			per = append(per, reduce(sims, m.DocAggregation))
		}
		out = append(out, docPer{d, per})
	}
	return out
}

// rank applies the query aggregation and sorts by score, then document.
func rank(docs []docPer, qAgg string) []ref {
	out := make([]ref, len(docs))
	for i, d := range docs {
		out[i] = ref{d.doc, reduce(d.per, qAgg)}
	}
	slices.SortStableFunc(out, func(a, b ref) int {
		if a.score > b.score {
			return -1
		}
		if a.score < b.score {
			return 1
		}
		return 0
	})
	return out
}

func reduce(x []float64, how string) float64 {
	switch how {
	case "max":
		r := math.Inf(-1)
		for _, v := range x {
			r = max(r, v)
		}
		return r
	case "harmonic_mean":
		var inv float64
		for _, v := range x {
			inv += 1 / v
		}
		return float64(len(x)) / inv
	}
	var s float64
	for _, v := range x {
		s += v
	}
	if how == "mean" {
		s /= float64(len(x))
	}
	return s
}

// checkHits compares hits with the reference ranking: the same documents
// in the same order, except that documents whose reference scores are
// within float32 rounding of each other may swap.
func checkHits(t *testing.T, name string, qi int, hs []Hit, refs []ref, k int) {
	t.Helper()
	if len(hs) != min(k, len(refs)) {
		t.Fatalf("%s: query %d: %d hits, want %d", name, qi, len(hs), min(k, len(refs)))
	}
	score := map[int]float64{}
	for _, r := range refs {
		score[r.doc] = r.score
	}
	seen := map[int]bool{}
	for r, h := range hs {
		want, ok := score[h.Doc]
		tol := 1e-5 * (1 + math.Abs(want))
		if !ok || seen[h.Doc] || h.ID != fmt.Sprintf("d%d", h.Doc) || math.Abs(want-refs[r].score) > tol {
			t.Fatalf("%s: query %d rank %d: doc %d (%s, %g), want doc %d (%g)", name, qi, r, h.Doc, h.ID, h.Score, refs[r].doc, refs[r].score)
		}
		seen[h.Doc] = true
		if math.Abs(h.Score-want) > tol {
			t.Fatalf("%s: query %d doc %d: score %g, want %g", name, qi, h.Doc, h.Score, want)
		}
		if r > 0 && !(h.Score < hs[r-1].Score || h.Score == hs[r-1].Score && h.Doc > hs[r-1].Doc) {
			t.Fatalf("%s: query %d rank %d: (%g, doc %d) after (%g, doc %d)", name, qi, r, h.Score, h.Doc, hs[r-1].Score, hs[r-1].Doc)
		}
	}
}

// randQueries makes queries of 1..maxTok vectors; every third has a mask
// that leaves some out.
func randQueries(seed uint64, n, maxTok, dim int) []Query {
	r := rand.New(rand.NewPCG(seed, 9))
	qs := make([]Query, n)
	for i := range qs {
		m := 1 + r.IntN(maxTok)
		qs[i].Vectors = make([]float32, m*dim)
		for j := range qs[i].Vectors {
			qs[i].Vectors[j] = r.Float32()
		}
		if i%3 == 1 {
			qs[i].Mask = make([]bool, m)
			for j := range qs[i].Mask {
				qs[i].Mask[j] = j%2 == 0
			}
		}
	}
	return qs
}

// TestMatchesReference: every similarity × doc aggregation × query
// aggregation, float32 and float16, one or several threads, k below and
// above the number of documents.
func TestMatchesReference(t *testing.T) {
	const n, dim = 250, 20
	docs := randDocs(1, n, 30, dim)
	queries := randQueries(2, 12, 40, dim)
	for _, dtype := range []string{"float32", "float16"} {
		for _, sim := range []string{"dot", "cosine", "l2"} {
			for _, dAgg := range []string{"max", "sum", "mean"} {
				ix := buildIndex(t, multivector.Options{Dim: dim, DType: dtype, Similarity: sim, DocAggregation: dAgg}, docs)
				pers := make([][]docPer, len(queries))
				for i, q := range queries {
					pers[i] = perVector(ix, q)
				}
				for _, qAgg := range QueryAggregations {
					refs := make([][]ref, len(queries))
					for i := range queries {
						refs[i] = rank(pers[i], qAgg)
					}
					for _, c := range []struct{ k, threads int }{{5, 1}, {1000, 3}} {
						name := fmt.Sprintf("%s/%s/%s/%s/k=%d/threads=%d", dtype, sim, dAgg, qAgg, c.k, c.threads)
						hits, err := SearchAll(context.Background(), ix, queries, Options{K: c.k, Threads: c.threads, QueryAggregation: qAgg})
						if err != nil {
							t.Fatal(err)
						}
						for qi, hs := range hits {
							checkHits(t, name, qi, hs, refs[qi], c.k)
						}
					}
				}
			}
		}
	}
}

// TestLongDocuments: documents longer than a block (blocks hold whole
// documents, so such a document is a block alone).
func TestLongDocuments(t *testing.T) {
	const dim = 512 // a block is 288 vectors
	docs := randDocs(3, 12, 700, dim)
	queries := randQueries(4, 5, 64, dim)
	ix := buildIndex(t, multivector.Options{Dim: dim, Similarity: "cosine"}, docs)
	hits, err := SearchAll(context.Background(), ix, queries, Options{K: 20, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	for qi, hs := range hits {
		checkHits(t, "long", qi, hs, reference(ix, queries[qi], "sum"), 20)
	}
}

// TestEmptyQueriesAndDocuments: a query without scored vectors has no
// hits; documents without vectors are never returned, even when k exceeds
// the number of documents; progress counts every query.
func TestEmptyQueriesAndDocuments(t *testing.T) {
	const dim = 4
	docs := [][]float32{{}, {1, 0, 0, 0}, {}, {0, 1, 0, 0, 0, 0, 1, 0}, {}}
	ix := buildIndex(t, multivector.Options{Dim: dim}, docs)
	queries := []Query{
		{Vectors: nil},
		{Vectors: []float32{1, 1, 0, 0}, Mask: []bool{false}},
		{Vectors: []float32{1, 1, 0, 0, 0, 0, 1, 0}, Mask: []bool{true, false}},
	}
	for _, agg := range QueryAggregations {
		var progress atomic.Int64
		hits, err := SearchAll(context.Background(), ix, queries, Options{K: 10, QueryAggregation: agg, Progress: func(n int64) { progress.Add(n) }})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits[0]) != 0 || hits[0] == nil || len(hits[1]) != 0 {
			t.Errorf("%s: empty queries got %v and %v", agg, hits[0], hits[1])
		}
		// Only the first query vector counts: doc 1 scores 1, doc 3 scores 1
		// (max over its vectors), ties in corpus order.
		if len(hits[2]) != 2 || hits[2][0].Doc != 1 || hits[2][1].Doc != 3 || hits[2][0].Score != 1 || hits[2][1].Score != 1 {
			t.Errorf("%s: hits %+v, want docs 1 and 3 scoring 1", agg, hits[2])
		}
		if progress.Load() != 3 {
			t.Errorf("%s: progress %d, want 3", agg, progress.Load())
		}
	}
	empty := buildIndex(t, multivector.Options{Dim: dim}, [][]float32{{}, {}})
	hits, err := SearchAll(context.Background(), empty, queries[2:], Options{K: 3})
	if err != nil || len(hits) != 1 || len(hits[0]) != 0 {
		t.Errorf("index of empty documents: %v, %v", hits, err)
	}
	if hits, err := SearchAll(context.Background(), ix, nil, Options{K: 3}); err != nil || hits == nil || len(hits) != 0 {
		t.Errorf("no queries: %v, %v", hits, err)
	}
}

// TestTies: equal documents come in corpus order whatever the threads.
func TestTies(t *testing.T) {
	const dim = 8
	base := randDocs(5, 3, 4, dim)
	var docs [][]float32
	for i := 0; i < 30; i++ {
		docs = append(docs, base[i%3])
	}
	ix := buildIndex(t, multivector.Options{Dim: dim}, docs)
	q := []Query{{Vectors: base[0]}}
	for _, threads := range []int{1, 2, 5} {
		hits, err := SearchAll(context.Background(), ix, q, Options{K: 30, Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, h := range hits[0] {
			got = append(got, h.Doc)
		}
		// docs 2, 9, 16, 23 are the empty ones (randDocs: i%7 == 2), but here
		// every doc is one of base's three; base[2] is empty.
		var want []int
		for d := 0; d < 30; d += 3 {
			want = append(want, d)
		}
		if !slices.Equal(got[:10], want) {
			t.Errorf("%d threads: %v, want %v first", threads, got, want)
		}
		if len(got) != 20 {
			t.Errorf("%d threads: %d hits, want 20 (base[2] has no vectors)", threads, len(got))
		}
	}
}

func TestDeterministicAcrossThreads(t *testing.T) {
	ix := buildIndex(t, multivector.Options{Dim: 32, Similarity: "l2", DocAggregation: "max"}, randDocs(6, 400, 50, 32))
	queries := randQueries(7, 20, 32, 32)
	var first [][]Hit
	for _, threads := range []int{1, 2, 7} {
		hits, err := SearchAll(context.Background(), ix, queries, Options{K: 25, Threads: threads, QueryAggregation: "mean"})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = hits
		}
		for i := range hits {
			if !slices.Equal(hits[i], first[i]) {
				t.Fatalf("%d threads: query %d differs", threads, i)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	ix := buildIndex(t, multivector.Options{Dim: 2}, [][]float32{{1, 2}})
	for _, c := range []struct {
		q     []Query
		o     Options
		error string
	}{
		{[]Query{{Vectors: []float32{1, 2, 3}}}, Options{K: 1}, "query 0: 3 values is not a multiple of the index's dim 2"},
		{[]Query{{}, {Vectors: []float32{1, 2}, Mask: []bool{true, true}}}, Options{K: 1}, "query 1: mask of 2 for 1 vectors"},
		{[]Query{{Vectors: []float32{1, float32(math.NaN())}}}, Options{K: 1}, "query 0: vector 0, value 1 is NaN"},
		{nil, Options{K: 0}, "k must be positive"},
		{nil, Options{K: 1, QueryAggregation: "median"}, `query aggregation "median" not supported`},
	} {
		if _, err := SearchAll(context.Background(), ix, c.q, c.o); err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("error %v, want %q", err, c.error)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := SearchAll(ctx, ix, []Query{{Vectors: []float32{1, 2}}}, Options{K: 1}); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
}
