package seismic_test

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"testing"

	indexs "github.com/irflow/irflow/index/seismic"
	index "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/index/sparse/synth"
	"github.com/irflow/irflow/search/seismic"
	"github.com/irflow/irflow/search/sparse"
)

type collection struct {
	vocab   int
	docs    []index.Doc
	queries []sparse.Query
}

func synthCollection(docs, queries int, seed uint64) collection {
	g := synth.New(synth.Config{Docs: docs, Queries: queries, Seed: seed})
	c := collection{vocab: g.Config().Vocab, docs: make([]index.Doc, docs)}
	for i := range c.docs {
		c.docs[i] = g.Doc(i)
	}
	for i := range queries {
		id, t, w := g.Query(i)
		c.queries = append(c.queries, sparse.Query{ID: id, Terms: t, Weights: w})
	}
	return c
}

func build(t testing.TB, c collection, scale float64, o indexs.Options) (*index.Index, *indexs.Index) {
	t.Helper()
	dir := t.TempDir()
	seq := iter.Seq2[index.Doc, error](func(yield func(index.Doc, error) bool) {
		for _, d := range c.docs {
			if !yield(d, nil) {
				return
			}
		}
	})
	if _, err := index.Build(context.Background(), seq, dir, index.BuildOptions{VocabSize: c.vocab, Scale: scale, TmpDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	src, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	sdir := t.TempDir()
	if _, err := indexs.Build(context.Background(), sdir, src, o); err != nil {
		t.Fatal(err)
	}
	ix, err := indexs.Open(sdir, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return src, ix
}

// With nothing pruned (every posting kept, summaries of all their mass,
// every query term visited, heap_factor 1) Seismic is exact: the same ids
// and the same scores, bit for bit, as search/sparse, in a quantised
// index (narrow and wide forward index) and in an exact-float one, with 1
// and 3 threads, sorted or not.
func TestNoPruningEqualsExact(t *testing.T) {
	c := synthCollection(500, 20, 11)
	// Scale 100 gives a narrow forward index (integer values below
	// 65536), scale 1e6 values beyond it and 0 float32 values: both wide.
	for _, scale := range []float64{100, 0, 1e6} {
		o := indexs.Options{NumPostings: len(c.docs), CentroidFraction: 0.1, MinClusterSize: 2, SummaryEnergy: 1, DocCut: 15, Seed: 3}
		src, ix := build(t, c, scale, o)
		if got := ix.Meta().NarrowForward; got != (scale == 100) {
			t.Fatalf("scale %v: narrow_forward %v", scale, got)
		}
		for _, k := range []int{1, 10, 50} {
			want, err := sparse.SearchAll(context.Background(), src, c.queries, sparse.Options{K: k})
			if err != nil {
				t.Fatal(err)
			}
			for _, threads := range []int{1, 3} {
				for _, sorted := range []bool{false, true} {
					got, err := seismic.SearchAll(context.Background(), ix, c.queries,
						seismic.Options{K: k, QueryCut: 1000, HeapFactor: 1, Sorted: sorted, Threads: threads})
					if err != nil {
						t.Fatal(err)
					}
					what := fmt.Sprintf("scale %v k %d threads %d sorted %v", scale, k, threads, sorted)
					for qi := range want {
						if fmt.Sprint(got[qi]) != fmt.Sprint(want[qi]) {
							t.Fatalf("%s, query %d: got %v, want %v", what, qi, got[qi][:min(3, len(got[qi]))], want[qi][:min(3, len(want[qi]))])
						}
					}
				}
			}
		}
	}
}

// recall10 is the mean fraction of the exact top 10 found.
func recall10(exact, got [][]sparse.Hit) float64 {
	var sum float64
	for i := range exact {
		in := map[string]bool{}
		for _, h := range got[i] {
			in[h.ID] = true
		}
		n := 0
		for _, h := range exact[i] {
			if in[h.ID] {
				n++
			}
		}
		sum += float64(n) / float64(max(1, len(exact[i])))
	}
	return sum / float64(len(exact))
}

// Pruning trades recall for work, monotonically along the operating
// points, and at each point recall@10 against exact search stays within
// recallMargin of pyseismic-lsr 0.5.4's on the same collection: the 2,000
// documents and 60 queries of synth seed 2024 (what `go run
// ./scripts/bench/sparsebench gen-synth -docs 2000 -queries 60` writes,
// weights × 100 as here), measured by `go run ./scripts/bench/seismicbench
// compare -data synth-2000=DIR -num-postings 300` on 2026-12-06 with the
// other build parameters at their defaults. pyseismic clusters with its own
// random centroids (and prunes postings by a global threshold, at most 1.5
// × n_postings per term), so recall differs by a point or two either way.
func TestRecallAgainstExact(t *testing.T) {
	c := synthCollection(2000, 60, 2024)
	o := indexs.Options{NumPostings: 300, CentroidFraction: 0.1, MinClusterSize: 2, SummaryEnergy: 0.4, DocCut: 15, Seed: 1}
	src, ix := build(t, c, 100, o)
	exact, err := sparse.SearchAll(context.Background(), src, c.queries, sparse.Options{K: 10})
	if err != nil {
		t.Fatal(err)
	}
	const recallMargin = 0.05
	points := []struct {
		cut    int
		hf     float64
		anchor float64 // pyseismic-lsr's recall@10
	}{{3, 1, 0.622}, {5, 0.9, 0.817}, {10, 0.7, 0.990}, {20, 0.5, 1.000}}
	prev := 0.0
	for _, p := range points {
		got, err := seismic.SearchAll(context.Background(), ix, c.queries, seismic.Options{K: 10, QueryCut: p.cut, HeapFactor: p.hf, Sorted: true})
		if err != nil {
			t.Fatal(err)
		}
		r := recall10(exact, got)
		t.Logf("query_cut %d heap_factor %v: recall@10 %.3f (pyseismic-lsr %.3f)", p.cut, p.hf, r, p.anchor)
		if r+1e-9 < prev {
			t.Errorf("query_cut %d heap_factor %v: recall %.3f below the previous point's %.3f", p.cut, p.hf, r, prev)
		}
		if r < p.anchor-recallMargin {
			t.Errorf("query_cut %d heap_factor %v: recall@10 %.3f, pyseismic-lsr's is %.3f", p.cut, p.hf, r, p.anchor)
		}
		prev = r
	}
}

func TestSearchRejectsBadOptionsAndQueries(t *testing.T) {
	c := synthCollection(100, 2, 13)
	_, ix := build(t, c, 100, indexs.Options{NumPostings: 50, CentroidFraction: 0.1, MinClusterSize: 2, SummaryEnergy: 0.4, DocCut: 15})
	good := seismic.Options{K: 10, QueryCut: 10, HeapFactor: 0.7}
	for _, tc := range []struct {
		edit func(*seismic.Options)
		q    sparse.Query
		want string
	}{
		{func(o *seismic.Options) { o.K = 0 }, c.queries[0], "k must be positive"},
		{func(o *seismic.Options) { o.QueryCut = 0 }, c.queries[0], "query_cut"},
		{func(o *seismic.Options) { o.HeapFactor = 1.5 }, c.queries[0], "heap_factor"},
		{func(o *seismic.Options) { o.HeapFactor = 0 }, c.queries[0], "heap_factor"},
		{func(*seismic.Options) {}, sparse.Query{ID: "q", Terms: []uint32{5, 3}, Weights: []float32{1, 1}}, "strictly increasing"},
		{func(*seismic.Options) {}, sparse.Query{ID: "q", Terms: []uint32{uint32(c.vocab)}, Weights: []float32{1}}, "vocabulary"},
	} {
		o := good
		tc.edit(&o)
		_, err := seismic.SearchAll(context.Background(), ix, []sparse.Query{tc.q}, o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v %v: error %v, want %q", o, tc.q.Terms, err, tc.want)
		}
	}
}
