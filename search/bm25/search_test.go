package bm25

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"

	index "github.com/irflow/irflow/index/bm25"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/search/internal/topk"
)

// wordAnalyzer is a test analyzer: lower-cased runs of letters and digits.
// Pruning must be exact whatever the analysis, so these tests need no
// Lucene-equal analyzer.
type wordAnalyzer struct{}

func (wordAnalyzer) Analyze(text string, emit func(string)) {
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		emit(strings.ToLower(w))
	}
}

// TestIDFAndScoreHandValues checks the Lucene formulas on values worked out
// by hand (float64 reference, compared within float32 rounding).
func TestIDFAndScoreHandValues(t *testing.T) {
	// N = 1000 docs, n = 10: ln(1 + 990.5/10.5) = ln(95.333…)
	if got, want := float64(IDF(10, 1000)), math.Log(1+990.5/10.5); math.Abs(got-want) > 1e-6 {
		t.Errorf("IDF(10, 1000) = %v, want %v", got, want)
	}
	// A term in every document still has positive idf: ln(1 + 0.5/(N+0.5)).
	if got := IDF(1000, 1000); !(got > 0 && got < 0.001) {
		t.Errorf("IDF(N, N) = %v, want small positive", got)
	}
	// score = idf · tf / (tf + k1 · (1 − b + b · dl/avgdl)) for dl = avgdl = 10
	// (a norm byte decoding exactly to 10): tf=3, k1=0.9, b=0.4 → idf·3/3.9.
	idf := IDF(10, 1000)
	cache := NormCache(0.9, 0.4, 10)
	got := float64(TermScore(idf, 3, cache[index.EncodeNorm(10)]))
	want := float64(idf) * 3 / (3 + 0.9)
	if math.Abs(got-want) > 1e-5 {
		t.Errorf("score = %v, want %v", got, want)
	}
	// dl = 2·avgdl: denominator tf + k1·(0.6 + 0.8) = 3 + 1.26.
	got = float64(TermScore(idf, 3, cache[index.EncodeNorm(20)]))
	want = float64(idf) * 3 / (3 + 0.9*1.4)
	if math.Abs(got-want) > 1e-5 {
		t.Errorf("long-doc score = %v, want %v", got, want)
	}
	// b = 0: length has no effect; k1 = 0: score is idf for any tf.
	c0 := NormCache(0.9, 0, 10)
	if c0[1] != c0[200] {
		t.Error("b=0 should ignore length")
	}
	if s := TermScore(idf, 7, NormCache(0, 0.4, 10)[12]); s != idf {
		t.Errorf("k1=0: score %v, want idf %v", s, idf)
	}
	if AvgFieldLength(7, 2) != 3.5 {
		t.Error("avgdl")
	}
}

type testCollection struct {
	name   string
	fields []string // index fields, from corpus.jsonl text/title
}

func buildIndex(t *testing.T, name string, multifield bool) *index.Index {
	t.Helper()
	docs, err := collection.ReadDocs(testenv.Collection(t, name, "corpus.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	fields := []string{"contents"}
	if multifield {
		fields = []string{"contents", "title"}
	}
	seq := func(yield func(index.Document, error) bool) {
		for _, d := range docs {
			f := []string{d.Title + "\n" + d.Text}
			if multifield {
				f = []string{d.Text, d.Title}
			}
			if !yield(index.Document{ID: d.ID, Fields: f}, nil) {
				return
			}
		}
	}
	dir := t.TempDir()
	_, err = index.Build(context.Background(), seq, dir, index.BuildOptions{
		Fields:        fields,
		NewAnalyzer:   func() (index.Analyzer, error) { return wordAnalyzer{}, nil },
		CheckpointDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func readQueries(t *testing.T, name string, file string) []Query {
	qs, err := collection.ReadQueriesFile(testenv.Collection(t, name, file))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Query, len(qs))
	for i, q := range qs {
		out[i] = Query{ID: q.ID, Text: q.Text}
	}
	return out
}

// TestPruningEqualsExhaustive: MaxScore with block-max bounds returns
// exactly the hits (ids, scores, order) of scoring every document, on real
// collections, flat and multi-field, for several k.
func TestPruningEqualsExhaustive(t *testing.T) {
	// Score tables for all but the rarest terms (by default only terms
	// in ≥ 16k documents have them).
	defer func(v uint32) { tableMinDF = v }(tableMinDF)
	tableMinDF = 2
	for _, tc := range []struct {
		coll, queries string
		multifield    bool
		docAtATime    bool    // the cursor-merging variant instead of windows (else windows, forced)
		titleBoost    float32 // ≠ 1: nested per-field sums
	}{
		{"scifact", "queries.tsv", false, false, 1},
		{"scifact", "queries.tsv", true, false, 1},
		{"scifact", "queries.tsv", true, true, 2},
		{"vaswani", "queries.tsv", false, false, 1},
		{"vaswani", "queries.tsv", false, true, 1},
		{"cranfield", "queries.tsv", true, false, 0.5},
	} {
		t.Run(fmt.Sprintf("%s-multifield=%v-daat=%v-boost=%v", tc.coll, tc.multifield, tc.docAtATime, tc.titleBoost), func(t *testing.T) {
			ix := buildIndex(t, tc.coll, tc.multifield)
			p := DefaultParams()
			if tc.multifield {
				p.Fields = []FieldBoost{{"contents", 1}, {"title", tc.titleBoost}}
			}
			s, err := NewSearcher(ix, p)
			if err != nil {
				t.Fatal(err)
			}
			queries := readQueries(t, tc.coll, tc.queries)
			sc := Scratch{force: forceWindows}
			if tc.docAtATime {
				sc.force = forceDocAtATime
			}
			compared, pruned := 0, 0
			for _, k := range []int{1, 10, 1000} {
				for _, q := range queries {
					terms, counts := QueryTerms(wordAnalyzer{}, q.Text, &sc)
					terms = append([]string(nil), terms...)
					want := s.SearchExhaustive(terms, counts, k, &sc)
					got := s.SearchTerms(terms, counts, k, &sc)

					if len(got) != len(want) {
						t.Fatalf("k=%d query %s: %d hits, exhaustive %d", k, q.ID, len(got), len(want))
					}
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("k=%d query %s rank %d: %+v, exhaustive %+v", k, q.ID, i+1, got[i], want[i])
						}
					}
					compared++
					if k < len(want)+1 {
						pruned++
					}
				}
			}
			if compared == 0 || pruned == 0 {
				t.Fatalf("compared %d queries (%d with a full top-k)", compared, pruned)
			}
		})
	}
}

// TestTiesBrokenByExternalID: documents with identical text score the
// same and come out in id byte order (Anserini sorts by the id field).
func TestTiesBrokenByExternalID(t *testing.T) {
	ids := []string{"b", "10", "a", "9", "100"}
	seq := func(yield func(index.Document, error) bool) {
		for _, id := range ids {
			if !yield(index.Document{ID: id, Fields: []string{"same words here"}}, nil) {
				return
			}
		}
		yield(index.Document{ID: "other", Fields: []string{"unrelated text"}}, nil)
	}
	dir := t.TempDir()
	if _, err := index.Build(context.Background(), seq, dir, index.BuildOptions{
		Fields: []string{"contents"}, CheckpointDir: t.TempDir(),
		NewAnalyzer: func() (index.Analyzer, error) { return wordAnalyzer{}, nil },
	}); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	s, _ := NewSearcher(ix, DefaultParams())
	var sc Scratch
	for _, k := range []int{3, 10} {
		hits := s.Search(wordAnalyzer{}, "words", k, &sc)
		want := []string{"10", "100", "9", "a", "b"}[:min(k, 5)]
		var got []string
		for _, h := range hits {
			got = append(got, h.ID)
			if h.Score != hits[0].Score {
				t.Fatalf("scores differ: %+v", hits)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("k=%d: order %v, want %v", k, got, want)
		}
	}
}

func TestSearchAllRemoveQuery(t *testing.T) {
	ix := buildIndex(t, "adi", false)
	s, _ := NewSearcher(ix, DefaultParams())
	docID := ix.DocID(0)
	// A query named like a document that it retrieves.
	queries := []Query{{ID: docID, Text: "information retrieval"}, {ID: "q2", Text: "information retrieval"}}
	res, err := s.SearchAll(context.Background(), queries, BatchOptions{K: 1000, Threads: 2, RemoveQuery: true,
		NewAnalyzer: func() (Analyzer, error) { return wordAnalyzer{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res[0] {
		if h.ID == docID {
			t.Fatal("the query's own id was not removed")
		}
	}
	found := false
	for _, h := range res[1] {
		found = found || h.ID == docID
	}
	if !found || len(res[0]) != len(res[1])-1 {
		t.Fatalf("remove-query changed other results: %d vs %d hits", len(res[0]), len(res[1]))
	}
}

// TestAccumulateEqualsExhaustive: term-at-a-time scoring into window
// accumulators with quickselect top-k returns exactly the hits of
// document-at-a-time scoring into a heap, for k below, near and above the
// number of matching documents.
func TestAccumulateEqualsExhaustive(t *testing.T) {
	defer func(v uint32) { tableMinDF = v }(tableMinDF)
	for _, tc := range []struct {
		coll       string
		multifield bool
		tableMinDF uint32 // score tables for terms in this many documents
	}{
		{"scifact", false, tableMinDF},
		{"scifact", false, 2},
		{"vaswani", false, 2},
		{"cranfield", true, 1},
	} {
		t.Run(fmt.Sprintf("%s-multifield=%v-tables=%d", tc.coll, tc.multifield, tc.tableMinDF), func(t *testing.T) {
			tableMinDF = tc.tableMinDF
			ix := buildIndex(t, tc.coll, tc.multifield)
			s, err := NewSearcher(ix, DefaultParams())
			if err != nil {
				t.Fatal(err)
			}
			sc := Scratch{force: forceAccumulate}
			cut := 0
			for _, k := range []int{1, 7, 100, 1000, 100000} {
				for _, q := range readQueries(t, tc.coll, "queries.tsv") {
					terms, counts := QueryTerms(wordAnalyzer{}, q.Text, &sc)
					terms = append([]string(nil), terms...)
					want := s.SearchExhaustive(terms, counts, k, &sc)
					got := s.SearchTerms(terms, counts, k, &sc)
					if !slices.Equal(got, want) {
						t.Fatalf("k=%d query %s: %d hits %v…, exhaustive %d hits %v…", k, q.ID, len(got), got[:min(3, len(got))], len(want), want[:min(3, len(want))])
					}
					if len(want) == k {
						cut++
					}
				}
			}
			if cut == 0 {
				t.Fatal("no query had more matches than k")
			}
		})
	}
}

// TestTopKeys: quickselect and sort against sorting everything, for k
// around the number of keys and keys that arrive sorted either way (bad
// pivots for a naive quickselect).
func TestTopKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct {
		n     int
		order string
	}{{0, "random"}, {1, "random"}, {17, "random"}, {5000, "random"}, {5000, "ascending"}, {5000, "descending"}, {100000, "random"}} {
		keys := make([]uint64, tc.n)
		for i := range keys {
			keys[i] = uint64(i)<<32 | uint64(r.Uint32())
		}
		switch tc.order {
		case "random":
			r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		case "descending":
			slices.Reverse(keys)
		}
		want := slices.Clone(keys)
		slices.Sort(want)
		slices.Reverse(want)
		for _, k := range []int{1, 2, 16, 17, 1000, tc.n - 1, tc.n, tc.n + 1} {
			if k < 1 {
				continue
			}
			got := topKeys(slices.Clone(keys), k)
			if w := want[:min(k, tc.n)]; !slices.Equal(got, w) {
				t.Fatalf("n=%d %s k=%d: got %d keys, first %v, want first %v", tc.n, tc.order, k, len(got), got[:min(3, len(got))], w[:min(3, len(w))])
			}
		}
	}
}

// TestHitKeyOrder: keys order like topk.Entry.Better (score, then smaller
// rank), negative scores and −0 included, and give the score back.
func TestHitKeyOrder(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	scores := []float32{float32(math.Inf(-1)), -3.5, -1e-30, negZero, 0, 1e-30, 0.5, 21.678133, 21.678135, float32(math.MaxFloat32)}
	for _, a := range scores {
		for _, b := range scores {
			for _, ranks := range [][2]uint32{{0, 1}, {1, 0}, {7, 7}, {0, math.MaxUint32}} {
				ea := topk.Entry{Score: float64(a), Rank: ranks[0]}
				eb := topk.Entry{Score: float64(b), Rank: ranks[1]}
				ka, kb := hitKey(a, ranks[0]), hitKey(b, ranks[1])
				if ea.Better(eb) != (ka > kb) {
					t.Fatalf("(%v, %d) vs (%v, %d): Better %v, keys %x > %x", a, ranks[0], b, ranks[1], ea.Better(eb), ka, kb)
				}
			}
		}
		if got := keyScore(hitKey(a, 3)); got != a {
			t.Fatalf("keyScore(hitKey(%v)) = %v", a, got)
		}
	}
}

// TestKeyHeap: the heap keeps what sorting keeps, and reports a rising
// threshold only once full.
func TestKeyHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	var h keyHeap
	for _, tc := range []struct{ n, k int }{{0, 3}, {5, 10}, {10, 10}, {1000, 1}, {5000, 1000}} {
		keys := make([]uint64, tc.n)
		h.reset(tc.k)
		for i := range keys {
			keys[i] = uint64(r.IntN(50))<<32 | uint64(i)
			full := h.full()
			var worst uint64
			if full {
				worst = h.worst()
			}
			changed := h.offer(keys[i])
			if want := full && keys[i] > worst || !full && i+1 == tc.k; changed != want {
				t.Fatalf("n=%d k=%d offer %d: changed %v, want %v", tc.n, tc.k, i, changed, want)
			}
		}
		if want := topKeys(keys, tc.k); !slices.Equal(h.sorted(), want) {
			t.Fatalf("n=%d k=%d: heap keeps other keys than sorting", tc.n, tc.k)
		}
	}
}
