package dense

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/irflow/irflow/index/dense"
)

func randVecs(seed uint64, n, dim int) []float32 {
	r := rand.New(rand.NewPCG(seed, 11))
	v := make([]float32, n*dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func buildIndex(t testing.TB, o dense.Options, vecs []float32) *dense.Index {
	t.Helper()
	dir := t.TempDir()
	w, err := dense.Create(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(vecs)/o.Dim; i++ {
		if err := w.Add(fmt.Sprintf("d%d", i), vecs[i*o.Dim:(i+1)*o.Dim]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err := dense.Open(dir)
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

// reference scores every stored document in float64, straight from the
// definitions: dot; cosine = q/max(‖q‖,1e-8) · d (d stored normalised);
// l2 = −‖q − d‖. It sorts by score, then document number.
func reference(ix *dense.Index, q []float32) []ref {
	m := ix.Meta()
	docs := ix.Vectors(0, m.NumDocs, nil)
	qn := 1.0
	if m.Similarity == "cosine" {
		qn = 0
		for _, x := range q {
			qn += float64(x) * float64(x)
		}
		qn = max(math.Sqrt(qn), 1e-8)
	}
	out := make([]ref, m.NumDocs)
	for i := range out {
		d := docs[i*m.Dim : (i+1)*m.Dim]
		var s float64
		for j := range q {
			if m.Similarity == "l2" {
				s += (float64(q[j]) - float64(d[j])) * (float64(q[j]) - float64(d[j]))
			} else {
				s += float64(q[j]) / qn * float64(d[j])
			}
		}
		if m.Similarity == "l2" {
			s = -math.Sqrt(s)
		}
		out[i] = ref{i, s}
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

// TestMatchesReference: every similarity and dtype, several k (beyond
// the index size too) and thread counts (one shard or several), rows of a
// dimension that is not a multiple of 8 and enough documents for several
// blocks. The hits must be the reference's, in its order, with scores
// within float32 rounding.
func TestMatchesReference(t *testing.T) {
	const n, dim, nq = 1000, 100, 70
	docs, queries := randVecs(1, n, dim), randVecs(2, nq, dim)
	for _, dtype := range []string{"float32", "float16"} {
		for _, sim := range []string{"dot", "cosine", "l2"} {
			ix := buildIndex(t, dense.Options{Dim: dim, DType: dtype, Similarity: sim}, docs)
			refs := make([][]ref, nq)
			for i := range refs {
				refs[i] = reference(ix, queries[i*dim:(i+1)*dim])
			}
			for _, k := range []int{1, 10, n, n + 5} {
				for _, threads := range []int{1, 2, 3} {
					name := fmt.Sprintf("%s/%s/k=%d/threads=%d", dtype, sim, k, threads)
					hits, err := SearchAll(context.Background(), ix, queries, Options{K: k, Threads: threads})
					if err != nil {
						t.Fatal(err)
					}
					if len(hits) != nq {
						t.Fatalf("%s: %d result lists for %d queries", name, len(hits), nq)
					}
					for qi, hs := range hits {
						checkHits(t, name, qi, hs, refs[qi], min(k, n))
					}
				}
			}
		}
	}
}

// checkHits compares hits with the reference ranking: the same documents
// in the same order, except that documents whose reference scores are
// within float32 rounding of each other may come in either order.
func checkHits(t *testing.T, name string, qi int, hs []Hit, refs []ref, n int) {
	t.Helper()
	if len(hs) != n {
		t.Fatalf("%s: query %d: %d hits, want %d", name, qi, len(hs), n)
	}
	score := make(map[int]float64, len(refs))
	for _, r := range refs {
		score[r.doc] = r.score
	}
	seen := map[int]bool{}
	for r, h := range hs {
		want, ok := score[h.Doc]
		tol := 2e-5 * (1 + math.Abs(want))
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

// TestTies: documents with equal scores come in corpus order, whatever
// the thread count (several shards each hold some of the tied documents).
func TestTies(t *testing.T) {
	const dim = 16
	base := randVecs(3, 3, dim)
	var docs []float32
	for i := 0; i < 40; i++ {
		docs = append(docs, base[(i%3)*dim:(i%3+1)*dim]...)
	}
	for _, sim := range []string{"dot", "cosine", "l2"} {
		ix := buildIndex(t, dense.Options{Dim: dim, Similarity: sim}, docs)
		q := base[:dim] // the best group is documents 0, 3, 6, …
		for _, threads := range []int{1, 2, 4, 7} {
			hits, err := SearchAll(context.Background(), ix, q, Options{K: 20, Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, h := range hits[0] {
				got = append(got, h.Doc)
			}
			want := []int{0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39}
			if !slices.Equal(got[:14], want) {
				t.Errorf("%s, %d threads: best group %v, want %v", sim, threads, got[:14], want)
			}
			for _, h := range hits[0][1:14] {
				if h.Score != hits[0][0].Score {
					t.Errorf("%s: tied scores differ: %g vs %g", sim, h.Score, hits[0][0].Score)
				}
			}
			if hits[0][14].Score >= hits[0][13].Score {
				t.Errorf("%s: rank 15 score %g not below the tied group's %g", sim, hits[0][14].Score, hits[0][13].Score)
			}
		}
	}
}

// TestDeterministicAcrossThreads: scores are bit-identical whatever the
// thread count (a pair's dot product does not depend on its block).
func TestDeterministicAcrossThreads(t *testing.T) {
	const n, dim, nq = 500, 384, 9
	ix := buildIndex(t, dense.Options{Dim: dim, Similarity: "l2"}, randVecs(4, n, dim))
	queries := randVecs(5, nq, dim)
	var first [][]Hit
	for _, threads := range []int{1, 2, 5, 16} {
		hits, err := SearchAll(context.Background(), ix, queries, Options{K: 50, Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = hits
			continue
		}
		for i := range hits {
			if !slices.Equal(hits[i], first[i]) {
				t.Fatalf("%d threads: query %d differs from 1 thread", threads, i)
			}
		}
	}
}

func TestEdgeCases(t *testing.T) {
	ix := buildIndex(t, dense.Options{Dim: 4}, randVecs(6, 5, 4))
	ctx := context.Background()
	if hits, err := SearchAll(ctx, ix, nil, Options{K: 3}); err != nil || hits == nil || len(hits) != 0 {
		t.Errorf("no queries: %v, %v", hits, err)
	}
	empty := buildIndex(t, dense.Options{Dim: 4}, nil)
	if hits, err := SearchAll(ctx, empty, make([]float32, 8), Options{K: 3}); err != nil || len(hits) != 2 || hits[0] == nil || len(hits[0]) != 0 {
		t.Errorf("empty index: %v, %v", hits, err)
	}
	for _, c := range []struct {
		q     []float32
		o     Options
		error string
	}{
		{make([]float32, 6), Options{K: 3}, "6 query values is not a multiple of the index's dim 4"},
		{make([]float32, 4), Options{K: 0}, "k must be positive, got 0"},
		{[]float32{0, 0, 0, 0, 1, float32(math.Inf(-1)), 0, 0}, Options{K: 1}, "query 1, value 1 is -Inf"},
	} {
		if _, err := SearchAll(ctx, ix, c.q, c.o); err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("error %v, want %q", err, c.error)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := SearchAll(cancelled, ix, make([]float32, 4), Options{K: 1}); err != context.Canceled {
		t.Errorf("cancelled context: %v", err)
	}
	// A zero query under cosine scores 0 everywhere (its norm is clamped):
	// the first k documents in corpus order.
	cos := buildIndex(t, dense.Options{Dim: 4, Similarity: "cosine"}, randVecs(7, 5, 4))
	hits, err := SearchAll(ctx, cos, make([]float32, 4), Options{K: 2})
	if err != nil || hits[0][0].Doc != 0 || hits[0][1].Doc != 1 || hits[0][0].Score != 0 {
		t.Errorf("zero cosine query: %v, %v", hits, err)
	}
}

func TestProgress(t *testing.T) {
	ix := buildIndex(t, dense.Options{Dim: 8}, randVecs(8, 50, 8))
	for _, nq := range []int{1, 64, 65, 200} {
		var n atomic.Int64
		if _, err := SearchAll(context.Background(), ix, randVecs(9, nq, 8), Options{K: 5, Threads: 2, Progress: func(d int64) { n.Add(d) }}); err != nil {
			t.Fatal(err)
		}
		if n.Load() != int64(nq) {
			t.Errorf("%d queries: progress counted %d", nq, n.Load())
		}
	}
}
