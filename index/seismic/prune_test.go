package seismic_test

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/irflow/irflow/index/internal/stepckpt/stepckpttest"
	"github.com/irflow/irflow/index/seismic"
	"github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/index/sparse/synth"
)

// pruneDocs is a hand-worked collection of 3 terms, 10 postings:
//
//	term 0: d0 9, d1 8, d2 7, d3 6, d4 4
//	term 1: d0 4, d1 3
//	term 2: d2 2, d3 1, d5 6
//
// With num_postings 2 the global budget is 3 × 2 = 6 postings: 9, 8, 7,
// 6, 6 and one of the two 4s, (d0, t1), which comes first in document
// order; each term then keeps at most int(2 × max_fraction) of them.
func pruneDocs() []sparse.Doc {
	return []sparse.Doc{
		{ID: "d0", Terms: []uint32{0, 1}, Weights: []float32{9, 4}},
		{ID: "d1", Terms: []uint32{0, 1}, Weights: []float32{8, 3}},
		{ID: "d2", Terms: []uint32{0, 2}, Weights: []float32{7, 2}},
		{ID: "d3", Terms: []uint32{0, 2}, Weights: []float32{6, 1}},
		{ID: "d4", Terms: []uint32{0}, Weights: []float32{4}},
		{ID: "d5", Terms: []uint32{2}, Weights: []float32{6}},
	}
}

// keptDocs is the documents term t keeps, increasing.
func keptDocs(ix *seismic.Index, t int) []uint32 {
	got := []uint32{}
	lo, hi := ix.Blocks(uint32(t))
	for b := lo; b < hi; b++ {
		got = append(got, ix.BlockDocs(b)...)
	}
	slices.Sort(got)
	return got
}

func TestPruningKeptSets(t *testing.T) {
	for _, scale := range []float64{0, 1} { // float32 values and integer impacts
		src := buildSparse(t, pruneDocs(), 3, scale)
		for _, c := range []struct {
			name        string
			numPostings int
			pruning     string
			maxFraction float64
			want        [][]uint32 // kept documents by term
		}{
			{"fixed 2", 2, "", 0, [][]uint32{{0, 1}, {0, 1}, {2, 5}}},
			{"fixed 3", 3, seismic.PruneFixed, 0, [][]uint32{{0, 1, 2}, {0, 1}, {2, 3, 5}}},
			// the budget drops (d4,t0) and (d1,t1), (d2,t2), (d3,t2); the cap 3 drops (d3,t0)
			{"global 2", 2, seismic.PruneGlobalThreshold, 0, [][]uint32{{0, 1, 2}, {0}, {5}}},
			{"global 2 × 1", 2, seismic.PruneGlobalThreshold, 1, [][]uint32{{0, 1}, {0}, {5}}},
			// budget 3 × 4 = 12 ≥ 10 postings: only the cap 6 applies, and it does not bind
			{"global 4", 4, seismic.PruneGlobalThreshold, 0, [][]uint32{{0, 1, 2, 3, 4}, {0, 1}, {2, 3, 5}}},
			// budget 3, cap 2: 9, 8 and 7 pass, the cap keeps 9 and 8
			{"global 1 × 2", 1, seismic.PruneGlobalThreshold, 2, [][]uint32{{0, 1}, {}, {}}},
		} {
			o := opts()
			o.NumPostings, o.Pruning, o.MaxFraction, o.MinClusterSize = c.numPostings, c.pruning, c.maxFraction, 0
			dir := t.TempDir()
			meta, err := seismic.Build(context.Background(), dir, src, o)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			ix, err := seismic.Open(dir, src)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var total int64
			for term, want := range c.want {
				if got := keptDocs(ix, term); !slices.Equal(got, want) {
					t.Errorf("scale %v, %s: term %d keeps %v, want %v", scale, c.name, term, got, want)
				}
				total += int64(len(want))
			}
			if meta.KeptPostings != total {
				t.Errorf("scale %v, %s: kept_postings %d, want %d", scale, c.name, meta.KeptPostings, total)
			}
			wantRule, wantMF := "", 0.0
			if c.pruning == seismic.PruneGlobalThreshold {
				wantRule, wantMF = c.pruning, c.maxFraction
				if wantMF == 0 {
					wantMF = seismic.DefaultMaxFraction
				}
			}
			if m := ix.Meta(); m.Pruning != wantRule || m.MaxFraction != wantMF {
				t.Errorf("scale %v, %s: meta pruning %q max_fraction %v, want %q %v", scale, c.name, m.Pruning, m.MaxFraction, wantRule, wantMF)
			}
			ix.Close()
		}
	}
}

func TestPruningOptionsCheck(t *testing.T) {
	for _, c := range []struct {
		pruning     string
		maxFraction float64
		ok          bool
	}{
		{"", 0, true}, {seismic.PruneFixed, 0, true}, {seismic.PruneGlobalThreshold, 0, true},
		{seismic.PruneGlobalThreshold, 1.5, true}, {seismic.PruneFixed, 1.5, false},
		{"coi_threshold", 0, false}, {seismic.PruneGlobalThreshold, -1, false},
		{seismic.PruneGlobalThreshold, 0.001, false}, // 200 × 0.001 < 1 posting a term
	} {
		o := opts()
		o.Pruning, o.MaxFraction = c.pruning, c.maxFraction
		if err := o.Check(); (err == nil) != c.ok {
			t.Errorf("pruning %q max_fraction %v: Check() = %v, want ok %v", c.pruning, c.maxFraction, err, c.ok)
		}
	}
}

// smallVocab is n synthetic documents over a 1,000-term vocabulary, so
// that a global budget of a few postings a term binds.
func smallVocab(n int, seed uint64) ([]sparse.Doc, int) {
	g := synth.New(synth.Config{Docs: n, Seed: seed, Vocab: 1000})
	docs := make([]sparse.Doc, n)
	for i := range docs {
		docs[i] = g.Doc(i)
	}
	return docs, 1000
}

// On synthetic documents whose global budget binds (num_postings 6 over
// a 1,000-term vocabulary, quantised so that many values tie), the kept
// sets are the rule worked out by brute force: sort every posting by
// value descending, then document, then term; take the first
// vocabulary × 6; each term keeps the first int(6 × 1.5) = 9 it got.
func TestGlobalThresholdBruteForce(t *testing.T) {
	docs, vocab := smallVocab(200, 3)
	const scale, numPostings = 10, 6
	src := buildSparse(t, docs, vocab, scale)
	type post struct{ doc, term, val uint32 }
	var all []post
	for d, doc := range docs {
		for i, term := range doc.Terms {
			if v, _, _ := sparse.Quantize(doc.Weights[i], scale); v > 0 {
				all = append(all, post{uint32(d), term, v})
			}
		}
	}
	budget := vocab * numPostings
	if budget >= len(all) {
		t.Fatalf("budget %d covers all %d postings: the test needs it to bind", budget, len(all))
	}
	slices.SortFunc(all, func(a, b post) int {
		return cmp.Or(cmp.Compare(b.val, a.val), cmp.Compare(a.doc, b.doc), cmp.Compare(a.term, b.term))
	})
	if all[budget-1].val != all[budget].val {
		t.Fatalf("no tie across the threshold (%d, %d): the test needs one", all[budget-1].val, all[budget].val)
	}
	want := make([][]uint32, vocab)
	for _, p := range all[:budget] { // by value descending, then document: the cap keeps the first
		if len(want[p.term]) < numPostings*3/2 {
			want[p.term] = append(want[p.term], p.doc)
		}
	}
	o := opts()
	o.NumPostings, o.Pruning, o.MinClusterSize, o.Threads = numPostings, seismic.PruneGlobalThreshold, 0, 2
	meta, ix := buildOpen(t, src, o)
	var total int64
	for term, w := range want {
		slices.Sort(w)
		if got := keptDocs(ix, term); !slices.Equal(got, append([]uint32{}, w...)) {
			t.Errorf("term %d keeps %v, want %v", term, got, w)
		}
		total += int64(len(w))
	}
	if meta.KeptPostings != total {
		t.Errorf("kept_postings %d, want %d", meta.KeptPostings, total)
	}
}

// A global-threshold build resumed from any step's checkpoint writes the
// bytes of an uninterrupted one (the gate is found again from the
// forward index).
func TestGlobalThresholdResume(t *testing.T) {
	defer seismic.SetMinStepKept(1000)()
	docs, vocab := smallVocab(200, 1)
	src := buildSparse(t, docs, vocab, 100)
	build := func(out, ckpt string, log, debug func(string)) error {
		o := opts()
		o.NumPostings, o.Pruning, o.MinClusterSize = 6, seismic.PruneGlobalThreshold, 0
		o.Threads, o.CheckpointDir, o.Log, o.Debug = 2, ckpt, log, debug
		_, err := seismic.Build(context.Background(), out, src, o)
		return err
	}
	n := stepckpttest.CheckResume(t, 3, 3, stepckpttest.Build(build))
	t.Logf("%d steps", n)
}
