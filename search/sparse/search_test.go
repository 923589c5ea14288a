package sparse_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	index "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/index/sparse/synth"
	"github.com/irflow/irflow/search/sparse"
)

// collection is a corpus and queries of sparse vectors: synthetic here,
// and a slice of real SPLADE vectors plugs in the same way.
type collection struct {
	name    string
	vocab   int
	docs    []index.Doc
	queries []sparse.Query
}

func synthCollection(docs, queries int, seed uint64) collection {
	g := synth.New(synth.Config{Docs: docs, Queries: queries, Seed: seed})
	c := collection{name: fmt.Sprintf("synth-%d", docs), vocab: g.Config().Vocab, docs: make([]index.Doc, docs)}
	for i := range c.docs {
		c.docs[i] = g.Doc(i)
	}
	for i := range queries {
		id, t, w := g.Query(i)
		c.queries = append(c.queries, sparse.Query{ID: id, Terms: t, Weights: w})
	}
	return c
}

func seqOf(docs []index.Doc) iter.Seq2[index.Doc, error] {
	return func(yield func(index.Doc, error) bool) {
		for _, d := range docs {
			if !yield(d, nil) {
				return
			}
		}
	}
}

func buildIndex(t testing.TB, c collection, scale float64) *index.Index {
	t.Helper()
	dir := t.TempDir()
	if _, err := index.Build(context.Background(), seqOf(c.docs), dir, index.BuildOptions{VocabSize: c.vocab, Scale: scale, TmpDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

type scored struct {
	doc   int
	score float64
}

// quantize is round(w·scale), half to even (Python's round), computed
// here independently of the index package.
func quantize(w float32, scale float64) int64 { return int64(math.RoundToEven(float64(w) * scale)) }

// bruteForce is the reference: every document's dot product with the
// query by a naive scan (integers for scale > 0; float64 products summed
// in increasing term order for scale 0), all of them sorted by score
// descending then document ascending, those > 0, the first k (all for
// k < 0).
func bruteForce(c collection, q sparse.Query, scale float64, k int) []scored {
	qw := make([]float32, c.vocab)
	for i, t := range q.Terms {
		qw[t] = q.Weights[i]
	}
	var all []scored
	for d, doc := range c.docs {
		var isum int64
		var fsum float64
		for i, t := range doc.Terms {
			w := qw[t]
			if w == 0 {
				continue
			}
			if scale > 0 {
				isum += quantize(w, scale) * quantize(doc.Weights[i], scale)
			} else {
				fsum += float64(w) * float64(doc.Weights[i])
			}
		}
		s := fsum
		if scale > 0 {
			s = float64(isum)
		}
		if s > 0 {
			all = append(all, scored{d, s})
		}
	}
	slices.SortFunc(all, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return a.doc - b.doc
	})
	if k < 0 {
		return all
	}
	return all[:min(k, len(all))]
}

// sameHits compares hits with the reference: same ids, same scores bit
// for bit, same order.
func sameHits(t *testing.T, what string, c collection, got []sparse.Hit, want []scored) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d hits, want %d", what, len(got), len(want))
	}
	for i, w := range want {
		if got[i].ID != c.docs[w.doc].ID || got[i].Score != w.score {
			t.Fatalf("%s: hit %d = %s %v, want %s %v", what, i, got[i].ID, got[i].Score, c.docs[w.doc].ID, w.score)
		}
	}
}

// TestSearchEqualsBruteForce: the pruned search and the exhaustive one
// return exactly the naive scan's top k (ids, scores, tie order) in both
// storage modes, for k from 1 to 1000.
func TestSearchEqualsBruteForce(t *testing.T) {
	c := synthCollection(50000, 60, 1)
	for _, scale := range []float64{100, 0} {
		ix := buildIndex(t, c, scale)
		want := make([][]scored, len(c.queries))
		for qi, q := range c.queries {
			want[qi] = bruteForce(c, q, scale, -1)
		}
		for _, k := range []int{1, 10, 100, 1000} {
			for _, exhaustive := range []bool{false, true} {
				hits, err := sparse.SearchAll(context.Background(), ix, c.queries, sparse.Options{K: k, Exhaustive: exhaustive, Threads: 2})
				if err != nil {
					t.Fatal(err)
				}
				for qi, q := range c.queries {
					sameHits(t, fmt.Sprintf("scale %v k %d exhaustive %v query %s", scale, k, exhaustive, q.ID), c, hits[qi], want[qi][:min(k, len(want[qi]))])
				}
			}
		}
	}
}

// tiny is a hand-made collection whose scores are worked out below.
var tiny = collection{name: "tiny", vocab: 8, docs: []index.Doc{
	{ID: "a", Terms: []uint32{1, 3}, Weights: []float32{1, 2}},       // q=(1:1, 3:0.5): 1·1 + 0.5·2 = 2
	{ID: "b", Terms: []uint32{3}, Weights: []float32{4}},             // 0.5·4 = 2 (ties with a)
	{ID: "c", Terms: []uint32{2, 5}, Weights: []float32{3, 3}},       // no query term: never returned
	{ID: "d", Terms: []uint32{1, 3, 7}, Weights: []float32{2, 1, 9}}, // 2 + 0.5 = 2.5
	{ID: "e", Terms: []uint32{1}, Weights: []float32{0.004}},         // 0.004; quantised at 100: round(0.4) = 0, dropped
	{ID: "f", Terms: []uint32{0, 1}, Weights: []float32{5, 2}},       // 2 (ties with a and b)
}}

// TestSearchHandValues pins the scoring, tie and k semantics on tiny.
func TestSearchHandValues(t *testing.T) {
	q := sparse.Query{ID: "q", Terms: []uint32{1, 3, 6}, Weights: []float32{1, 0.5, 0}}
	type hit struct {
		id    string
		score float64
	}
	for _, tc := range []struct {
		name  string
		scale float64
		q     sparse.Query
		k     int
		want  []hit
	}{
		{"exact floats, ties by input order", 0, q, 10, []hit{{"d", 2.5}, {"a", 2}, {"b", 2}, {"f", 2}, {"e", 0.004000000189989805}}},
		{"k cuts inside a tie", 0, q, 2, []hit{{"d", 2.5}, {"a", 2}}},
		{"k = 1", 0, q, 1, []hit{{"d", 2.5}}},
		// Scale 100: q = (1: 100, 3: 50); docs a = 100·100 + 50·200 = 20000,
		// b = 50·400, d = 100·200 + 50·100 = 25000, f = 100·200; e's 0.4 → 0.
		{"quantised", 100, q, 10, []hit{{"d", 25000}, {"a", 20000}, {"b", 20000}, {"f", 20000}}},
		// Scale 1: q = (1: 1, 3: round(0.5) = 0, to even: dropped); a = 1, b no
		// term left, d = 2, f = 2, e = 0.
		{"quantised, half rounds to even", 1, q, 10, []hit{{"d", 2}, {"f", 2}, {"a", 1}}},
		// Scale 2: q = (1: 2, 3: 1); a = 2·2 + 1·4, b = 8, d = 2·4 + 1·2, f = 2·4, e = 0.
		{"quantised at scale 2", 2, q, 10, []hit{{"d", 10}, {"a", 8}, {"b", 8}, {"f", 8}}},
		// Scale 1: query weight 0.4 rounds to 0 and is dropped with its term.
		{"query weight dropped", 1, sparse.Query{ID: "q", Terms: []uint32{1, 3}, Weights: []float32{0.4, 1}}, 10, []hit{{"b", 4}, {"a", 2}, {"d", 1}}},
		{"no query term in the index", 100, sparse.Query{ID: "q", Terms: []uint32{4, 6}, Weights: []float32{1, 1}}, 10, nil},
		{"empty query", 100, sparse.Query{ID: "q"}, 10, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix := buildIndex(t, tiny, tc.scale)
			for _, exhaustive := range []bool{false, true} {
				hits, err := sparse.NewSearcher(ix).Search(tc.q, sparse.Options{K: tc.k, Exhaustive: exhaustive})
				if err != nil {
					t.Fatal(err)
				}
				var got []hit
				for _, h := range hits {
					got = append(got, hit{h.ID, h.Score})
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("exhaustive %v: %v, want %v", exhaustive, got, tc.want)
				}
			}
		})
	}
}

// TestExactFloatOrder: a float sum whose value depends on the order of
// its terms is the brute force's, in increasing term order.
func TestExactFloatOrder(t *testing.T) {
	// In term order: 1 + 1 = 2, then + 2^53 = 2^53 + 2 exactly. Adding the
	// large term first would give 2^53 (each 1 rounds away).
	c := collection{vocab: 3, docs: []index.Doc{{ID: "x", Terms: []uint32{0, 1, 2}, Weights: []float32{1, 1, 1 << 53}}}}
	ix := buildIndex(t, c, 0)
	hits, err := sparse.NewSearcher(ix).Search(sparse.Query{Terms: []uint32{0, 1, 2}, Weights: []float32{1, 1, 1}}, sparse.Options{K: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Score != 1<<53+2 {
		t.Fatalf("hits %v, want x with 2^53+2", hits)
	}
}

// TestSearchRejectsBadQueries: clear errors naming the query and position.
func TestSearchRejectsBadQueries(t *testing.T) {
	ix := buildIndex(t, tiny, 100)
	for _, tc := range []struct {
		name string
		q    sparse.Query
		k    int
		want string
	}{
		{"unsorted", sparse.Query{ID: "q1", Terms: []uint32{3, 1}, Weights: []float32{1, 1}}, 5, `query "q1": terms must be strictly increasing, but term 1 at position 1 follows 3`},
		{"beyond vocabulary", sparse.Query{ID: "q2", Terms: []uint32{1, 8}, Weights: []float32{1, 1}}, 5, `query "q2": term 8 at position 1 is not below the vocabulary size 8`},
		{"NaN", sparse.Query{ID: "q3", Terms: []uint32{1}, Weights: []float32{float32(math.NaN())}}, 5, "weight NaN of term 1 at position 0"},
		{"negative", sparse.Query{ID: "q4", Terms: []uint32{1}, Weights: []float32{-1}}, 5, "weight -1 of term 1"},
		{"lengths differ", sparse.Query{ID: "q5", Terms: []uint32{1}}, 5, `query "q5" has 1 terms but 0 weights`},
		{"too large to quantise", sparse.Query{ID: "q6", Terms: []uint32{1}, Weights: []float32{1e20}}, 5, "does not fit 32 bits"},
		{"k = 0", sparse.Query{ID: "q8"}, 0, "k must be positive, got 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sparse.SearchAll(context.Background(), ix, []sparse.Query{{ID: "ok", Terms: []uint32{1}, Weights: []float32{1}}, tc.q}, sparse.Options{K: tc.k})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	t.Run("scores beyond 2^53", func(t *testing.T) {
		// 4e9 · 4e9 ≈ 1.6e19: integer scores would no longer be exact.
		big := buildIndex(t, collection{vocab: 2, docs: []index.Doc{{ID: "x", Terms: []uint32{1}, Weights: []float32{4e7}}}}, 100)
		_, err := sparse.NewSearcher(big).Search(sparse.Query{ID: "q7", Terms: []uint32{1}, Weights: []float32{4e7}}, sparse.Options{K: 1})
		if err == nil || !strings.Contains(err.Error(), `query "q7": scores could reach 1.6e+19, beyond the 2^53`) {
			t.Fatalf("error %v", err)
		}
	})
}

func TestSearchAllOrderAndCancel(t *testing.T) {
	ix := buildIndex(t, tiny, 0)
	qs := []sparse.Query{{ID: "1", Terms: []uint32{0}, Weights: []float32{1}}, {ID: "2", Terms: []uint32{7}, Weights: []float32{1}}, {ID: "3"}}
	var progress int64
	hits, err := sparse.SearchAll(context.Background(), ix, qs, sparse.Options{K: 3, Threads: 3, Progress: func(n int64) { progress += n }})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 3 || len(hits[0]) != 1 || hits[0][0].ID != "f" || hits[1][0].ID != "d" || len(hits[2]) != 0 || progress != 3 {
		t.Fatalf("hits %v, progress %d", hits, progress)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sparse.SearchAll(ctx, ix, qs, sparse.Options{K: 3}); err != context.Canceled {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// TestDamagedPostingsAreErrors: searching an index whose postings.bin was
// damaged (Open cannot notice: it does not read it) gives results or an
// error wrapping index.ErrCorrupt, never a panic.
func TestDamagedPostingsAreErrors(t *testing.T) {
	c := synthCollection(5000, 20, 5)
	dir := t.TempDir()
	if _, err := index.Build(context.Background(), seqOf(c.docs), dir, index.BuildOptions{VocabSize: c.vocab, Scale: 100}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "postings.bin")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(b); i += 97 {
		b[i] ^= 0x5a
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	_, err = sparse.SearchAll(context.Background(), ix, c.queries, sparse.Options{K: 100})
	if !errors.Is(err, index.ErrCorrupt) || !strings.Contains(err.Error(), "index "+dir) {
		t.Fatalf("error %v, want one wrapping ErrCorrupt and naming the index", err)
	}
}
