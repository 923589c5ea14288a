package bm25

import (
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/collection"
)

// wordAnalyzer is a test analyzer: lower-cased runs of letters and digits.
type wordAnalyzer struct{}

func (wordAnalyzer) Analyze(text string, emit func(string)) {
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		emit(strings.ToLower(w))
	}
}

func testOptions(t *testing.T, fields []string, budget int64) BuildOptions {
	return BuildOptions{
		Fields:           fields,
		NewAnalyzer:      func() (Analyzer, error) { return wordAnalyzer{}, nil },
		AnalyzerIdentity: "test-words",
		MemoryBudget:     budget,
		CheckpointDir:    t.TempDir(),
		Threads:          2,
	}
}

// readCollection loads a shared collection's corpus.jsonl as two-field
// documents (text, title).
func readCollection(t testing.TB, name string) []Document {
	docs, err := collection.ReadDocs(testenv.Collection(t, name, "corpus.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Document, len(docs))
	for i, d := range docs {
		out[i] = Document{ID: d.ID, Fields: []string{d.Text, d.Title}}
	}
	return out
}

func seqOf(docs []Document) iter.Seq2[Document, error] {
	return func(yield func(Document, error) bool) {
		for _, d := range docs {
			if !yield(d, nil) {
				return
			}
		}
	}
}

func build(t *testing.T, docs []Document, opts BuildOptions) string {
	t.Helper()
	out := t.TempDir()
	if _, err := Build(context.Background(), seqOf(docs), out, opts); err != nil {
		t.Fatal(err)
	}
	return out
}

// dirBytes reads every file of an index directory.
func dirBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

func sameDirs(t *testing.T, a, b string) {
	t.Helper()
	ma, mb := dirBytes(t, a), dirBytes(t, b)
	if len(ma) != len(mb) || len(ma) != 9 {
		t.Fatalf("index dirs have %d and %d files, want 9", len(ma), len(mb))
	}
	for name, ba := range ma {
		if !bytes.Equal(ba, mb[name]) {
			t.Errorf("%s differs (%d vs %d bytes)", name, len(ba), len(mb[name]))
		}
	}
}

type posting struct{ doc, tf uint32 }

// TestIndexMatchesNaiveInversion builds Cranfield with a tiny memory
// budget (many runs) and checks every posting list, statistic, norm and id
// against a straightforward in-memory inversion.
func TestIndexMatchesNaiveInversion(t *testing.T) {
	docs := readCollection(t, "cranfield")
	opts := testOptions(t, []string{"contents", "title"}, 64<<10)
	spills := 0
	opts.OnSpill = func(n int) { spills = n }
	dir := build(t, docs, opts)
	if spills < 5 {
		t.Fatalf("only %d runs: the budget did not force spilling", spills)
	}
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.NumDocs() != len(docs) {
		t.Fatalf("NumDocs = %d, want %d", ix.NumDocs(), len(docs))
	}
	sortedIDs := make([]string, len(docs))
	for i, d := range docs {
		sortedIDs[i] = d.ID
	}
	sort.Strings(sortedIDs)
	for f := range 2 {
		want := map[string][]posting{}
		var docCount, sumTTF int64
		for d, doc := range docs {
			counts := map[string]uint32{}
			n := 0
			wordAnalyzer{}.Analyze(doc.Fields[f], func(w string) { counts[w]++; n++ })
			for w, c := range counts {
				want[w] = append(want[w], posting{uint32(d), c})
			}
			if n > 0 {
				docCount++
			}
			sumTTF += int64(n)
			if got := ix.Norms(f)[d]; got != EncodeNorm(n) {
				t.Fatalf("field %d doc %d: norm %d, want %d", f, d, got, EncodeNorm(n))
			}
		}
		st := ix.Meta.Fields[f]
		if st.DocCount != docCount || st.SumTotalTermFreq != sumTTF || st.NumTerms != int64(len(want)) {
			t.Fatalf("field %d stats %+v, want docCount %d sumTTF %d terms %d", f, st, docCount, sumTTF, len(want))
		}
		seen := 0
		ix.Terms(f, func(term string, ti TermInfo) bool {
			seen++
			w := want[term]
			sort.Slice(w, func(a, b int) bool { return w[a].doc < w[b].doc })
			if int(ti.DocFreq) != len(w) {
				t.Fatalf("%q: df %d, want %d", term, ti.DocFreq, len(w))
			}
			var p Postings
			ix.Postings(ti, &p)
			var maxTF uint32
			minNorm := byte(255)
			for i, e := range w {
				if d := p.Next(); d != e.doc || p.Freq() != e.tf {
					t.Fatalf("%q posting %d: (%d,%d), want (%d,%d)", term, i, d, p.Freq(), e.doc, e.tf)
				}
				maxTF = max(maxTF, e.tf)
				minNorm = min(minNorm, ix.Norms(f)[e.doc])
			}
			if p.Next() != NoMoreDocs {
				t.Fatalf("%q: extra postings", term)
			}
			if ti.DocFreq <= BlockSize {
				maxTF, minNorm = math.MaxUint32, 0 // no stored bound
			}
			if ti.MaxTF != maxTF || ti.MinNorm != minNorm {
				t.Fatalf("%q: maxTF %d minNorm %d, want %d %d", term, ti.MaxTF, ti.MinNorm, maxTF, minNorm)
			}
			checkImpacts(t, ix, f, term, ti, w)
			// Advance to every third posting's doc from a fresh cursor.
			ix.Postings(ti, &p)
			for i := 2; i < len(w); i += 3 {
				if lastDoc, imp, ok := p.ShallowAdvance(w[i].doc); !ok || lastDoc < w[i].doc || imp[2].TF < w[i].tf {
					t.Fatalf("%q: ShallowAdvance(%d) = %d,%v,%v", term, w[i].doc, lastDoc, imp, ok)
				}
				if d := p.Advance(w[i].doc); d != w[i].doc || p.Freq() != w[i].tf {
					t.Fatalf("%q: Advance(%d) = %d", term, w[i].doc, d)
				}
			}
			return true
		})
		if seen != len(want) {
			t.Fatalf("field %d: %d terms listed, want %d", f, seen, len(want))
		}
	}
	for d, doc := range docs {
		if ix.DocID(uint32(d)) != doc.ID {
			t.Fatalf("DocID(%d) = %q, want %q", d, ix.DocID(uint32(d)), doc.ID)
		}
		if r := ix.IDRank(uint32(d)); sortedIDs[r] != doc.ID {
			t.Fatalf("IDRank(%d) = %d, which is id %q", d, r, sortedIDs[r])
		}
	}
	if _, ok := ix.Lookup(0, "no-such-term-xyz"); ok {
		t.Fatal("Lookup found a missing term")
	}
}

// TestBuildIsDeterministic: the bytes do not depend on the memory budget
// (number of runs) or the number of threads.
func TestBuildIsDeterministic(t *testing.T) {
	docs := readCollection(t, "cranfield")
	a := testOptions(t, []string{"contents", "title"}, 32<<10)
	a.Threads = 1
	b := testOptions(t, []string{"contents", "title"}, 1<<30)
	b.Threads = 3
	sameDirs(t, build(t, docs, a), build(t, docs, b))
}

// TestResumeAfterInterrupt cancels a build after k spills, resumes it from
// the checkpoint and expects the same bytes as an uninterrupted build; the
// resumed build must not redo the completed runs.
func TestResumeAfterInterrupt(t *testing.T) {
	docs := readCollection(t, "cranfield")
	ref := build(t, docs, testOptions(t, []string{"contents", "title"}, 64<<10))

	for _, k := range []int{1, 3} {
		opts := testOptions(t, []string{"contents", "title"}, 64<<10)
		ctx, cancel := context.WithCancel(context.Background())
		opts.OnSpill = func(n int) {
			if n == k {
				cancel()
			}
		}
		out := t.TempDir()
		_, err := Build(ctx, seqOf(docs), out, opts)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("k=%d: interrupted build returned %v", k, err)
		}
		runs, _ := filepath.Glob(filepath.Join(opts.CheckpointDir, "run-*.bin"))
		if len(runs) != k {
			t.Fatalf("k=%d: %d runs in the checkpoint", k, len(runs))
		}
		firstRun, _ := os.Stat(runs[0])

		var resumed int64
		opts.OnSpill = nil
		opts.Progress = func(n int64) { resumed += n }
		out2 := t.TempDir()
		if _, err := Build(context.Background(), seqOf(docs), out2, opts); err != nil {
			t.Fatal(err)
		}
		sameDirs(t, ref, out2)
		if resumed >= int64(len(docs)) {
			t.Fatalf("k=%d: resumed build re-indexed %d of %d documents", k, resumed, len(docs))
		}
		again, _ := os.Stat(runs[0])
		if !again.ModTime().Equal(firstRun.ModTime()) {
			t.Fatalf("k=%d: the first run was rewritten", k)
		}
	}
}

// TestResumeRejectsOtherInput: a checkpoint from different documents is
// reported, not silently merged.
func TestResumeRejectsOtherInput(t *testing.T) {
	docs := readCollection(t, "cranfield")
	opts := testOptions(t, []string{"contents", "title"}, 64<<10)
	ctx, cancel := context.WithCancel(context.Background())
	opts.OnSpill = func(n int) { cancel() }
	if _, err := Build(ctx, seqOf(docs), t.TempDir(), opts); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	opts.OnSpill = nil
	other := append([]Document{{ID: "intruder", Fields: []string{"x", ""}}}, docs...)
	_, err := Build(context.Background(), seqOf(other), t.TempDir(), opts)
	if err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Fatalf("got %v, want a checkpoint mismatch error", err)
	}
}

func TestBuildRejectsDuplicateIDs(t *testing.T) {
	docs := []Document{{ID: "a", Fields: []string{"x"}}, {ID: "b", Fields: []string{"y"}}, {ID: "a", Fields: []string{"z"}}}
	_, err := Build(context.Background(), seqOf(docs), t.TempDir(), testOptions(t, []string{"contents"}, 0))
	var dup *DuplicateIDError
	if !errors.As(err, &dup) || dup.ID != "a" || dup.First != 0 || dup.Second != 2 {
		t.Fatalf("got %v", err)
	}
}

func TestBuildReportsInputErrors(t *testing.T) {
	bad := func(yield func(Document, error) bool) {
		if yield(Document{ID: "a", Fields: []string{"x"}}, nil) {
			yield(Document{}, io.ErrUnexpectedEOF)
		}
	}
	_, err := Build(context.Background(), bad, t.TempDir(), testOptions(t, []string{"contents"}, 0))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v", err)
	}
}

// TestEmptyCollection: an empty input gives a valid, empty index.
func TestEmptyCollection(t *testing.T) {
	dir := build(t, nil, testOptions(t, []string{"contents"}, 0))
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.NumDocs() != 0 || ix.Meta.Fields[0].NumTerms != 0 {
		t.Fatalf("meta %+v", ix.Meta)
	}
	if _, ok := ix.Lookup(0, "anything"); ok {
		t.Fatal("found a term in an empty index")
	}
}

// TestEmptyDocuments: documents without tokens are indexed (they keep
// their ids) but do not count in the field's document count.
func TestEmptyDocuments(t *testing.T) {
	docs := []Document{{ID: "a", Fields: []string{"x y"}}, {ID: "b", Fields: []string{""}}, {ID: "c", Fields: []string{"... ,"}}, {ID: "d", Fields: []string{"y"}}}
	dir := build(t, docs, testOptions(t, []string{"contents"}, 0))
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	st := ix.Meta.Fields[0]
	if ix.NumDocs() != 4 || st.DocCount != 2 || st.SumTotalTermFreq != 3 || ix.DocID(2) != "c" {
		t.Fatalf("docs %d, stats %+v", ix.NumDocs(), st)
	}
	if n := ix.Norms(0); n[1] != 0 || n[2] != 0 || n[0] != 2 {
		t.Fatalf("norms %v", n)
	}
}

// checkImpacts: every posting is dominated (tf ≤, norm ≥) by one of its
// block's impacts; the first impact has the block's smallest norm and the
// last its largest tf.
func checkImpacts(t *testing.T, ix *Index, field int, term string, ti TermInfo, want []posting) {
	t.Helper()
	var p Postings
	ix.Postings(ti, &p)
	norms := ix.Norms(field)
	for i, e := range want {
		_, imp, ok := p.ShallowAdvance(e.doc)
		if !ok {
			t.Fatalf("%q: no block for doc %d", term, e.doc)
		}
		if !dominated(Impact{e.tf, norms[e.doc]}, imp) {
			t.Fatalf("%q: posting (tf %d, norm %d) of doc %d above its block's impacts %v", term, e.tf, norms[e.doc], e.doc, imp)
		}
		if ti.DocFreq <= BlockSize {
			continue
		}
		start := i / BlockSize * BlockSize
		maxTF, minNorm := uint32(0), byte(255)
		for _, b := range want[start:min(len(want), start+BlockSize)] {
			maxTF, minNorm = max(maxTF, b.tf), min(minNorm, norms[b.doc])
		}
		if imp[0].Norm != minNorm || imp[2].TF != maxTF {
			t.Fatalf("%q block %d: impacts %v, want first norm %d and last tf %d", term, i/BlockSize, imp, minNorm, maxTF)
		}
	}
}

func dominated(p Impact, imp Impacts) bool {
	for _, m := range imp {
		if p.TF <= m.TF && p.Norm >= m.Norm {
			return true
		}
	}
	return false
}

// TestImpactsBoundEveryPosting: on random blocks, the three stored impacts
// dominate every posting; when the Pareto frontier has at most three
// pairs they are exactly that frontier (no bound is loosened).
func TestImpactsBoundEveryPosting(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	norms := make([]byte, 4096)
	for i := range norms {
		norms[i] = byte(1 + r.IntN(255))
	}
	w := &postingsWriter{}
	w.startField(norms)
	for trial := range 2000 {
		n := 1 + r.IntN(BlockSize)
		maxTF := 1 + r.IntN([]int{2, 5, 40, 100000}[trial%4])
		docs := r.Perm(len(norms))[:n]
		slices.Sort(docs)
		for i, d := range docs {
			w.docs[i], w.tfs[i] = uint32(d), uint32(1+r.IntN(maxTF))
		}
		var h blockHeader
		w.setImpacts(&h, n)
		var buf [blockHeaderSize]byte
		h.maxTF = 0
		h.minNorm = 255
		for i := 0; i < n; i++ {
			h.maxTF, h.minNorm = max(h.maxTF, w.tfs[i]), min(h.minNorm, norms[w.docs[i]])
		}
		h.put(buf[:])
		got := getBlockHeader(buf[:])
		imp := got.impacts()
		var front []Impact
		for i := 0; i < n; i++ {
			p := Impact{w.tfs[i], norms[w.docs[i]]}
			if !dominated(p, imp) {
				t.Fatalf("trial %d: posting %v above impacts %v", trial, p, imp)
			}
			onFront := true
			for j := 0; j < n; j++ {
				q := Impact{w.tfs[j], norms[w.docs[j]]}
				if q != p && q.TF >= p.TF && q.Norm <= p.Norm {
					onFront = false
				}
			}
			if onFront && !slices.Contains(front, p) {
				front = append(front, p)
			}
		}
		if imp[0].Norm != h.minNorm || imp[2].TF != h.maxTF {
			t.Fatalf("trial %d: impacts %v, want first norm %d, last tf %d", trial, imp, h.minNorm, h.maxTF)
		}
		if len(front) <= 3 && maxTF < 0xFFFF {
			for _, p := range front {
				if !slices.Contains(imp[:], p) {
					t.Fatalf("trial %d: frontier %v, impacts %v lack %v", trial, front, imp, p)
				}
			}
		}
	}
}
