package sparse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"iter"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/index/sparse/synth"
)

func seqOf(docs []sparse.Doc) iter.Seq2[sparse.Doc, error] {
	return func(yield func(sparse.Doc, error) bool) {
		for _, d := range docs {
			if !yield(d, nil) {
				return
			}
		}
	}
}

func synthDocs(n, vocab int, seed uint64) []sparse.Doc {
	g := synth.New(synth.Config{Docs: n, Vocab: vocab, Seed: seed})
	docs := make([]sparse.Doc, n)
	for i := range docs {
		docs[i] = g.Doc(i)
	}
	return docs
}

func build(t testing.TB, docs []sparse.Doc, o sparse.BuildOptions) (string, *sparse.Meta) {
	t.Helper()
	dir := t.TempDir()
	if o.TmpDir == "" {
		o.TmpDir = t.TempDir()
	}
	m, err := sparse.Build(context.Background(), seqOf(docs), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func open(t testing.TB, dir string) *sparse.Index {
	t.Helper()
	ix, err := sparse.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

type posting struct {
	doc uint32
	val uint32
}

// invert is the naive inversion the index must reproduce: per term, the
// (document, stored value) pairs in document order.
func invert(t *testing.T, docs []sparse.Doc, scale float64) (map[uint32][]posting, int64) {
	inv := map[uint32][]posting{}
	var dropped int64
	for d, doc := range docs {
		for i, term := range doc.Terms {
			var v uint32
			if scale == 0 {
				v = math.Float32bits(doc.Weights[i])
			} else {
				v = uint32(math.RoundToEven(float64(doc.Weights[i]) * scale))
			}
			if v == 0 {
				dropped++
				continue
			}
			inv[term] = append(inv[term], posting{uint32(d), v})
		}
	}
	return inv, dropped
}

// TestIndexMatchesNaiveInversion builds synthetic collections with a tiny
// memory budget (many runs) and checks every posting list, block bound,
// id and count against a naive inversion, in both storage modes.
func TestIndexMatchesNaiveInversion(t *testing.T) {
	const vocab = 1000
	docs := synthDocs(20000, vocab, 7)
	// Documents without any kept weight still count.
	docs[5].Terms, docs[5].Weights = []uint32{3, 9}, []float32{0, 0.001}
	docs[6].Terms, docs[6].Weights = nil, nil
	for _, scale := range []float64{100, 0} {
		runs := 0
		restore := sparse.SetOnSpill(func(n int) { runs = n })
		dir, m := build(t, docs, sparse.BuildOptions{VocabSize: vocab, Scale: scale, MemoryBudget: 2400 << 10})
		restore()
		if runs < 4 {
			t.Fatalf("scale %v: %d runs; the budget should have forced several", scale, runs)
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 6 {
			t.Fatalf("index has %d files, want 6", len(ents))
		}
		ix := open(t, dir)
		if err := ix.Verify(); err != nil {
			t.Fatal(err)
		}
		inv, dropped := invert(t, docs, scale)
		var npost int64
		for _, ps := range inv {
			npost += int64(len(ps))
		}
		got := ix.Meta()
		if got.NumDocs != len(docs) || got.NumPostings != npost || got.NumTerms != len(inv) || got.DroppedWeights != dropped ||
			got.VocabSize != vocab || got.Scale != scale || got.Format != sparse.Format || !reflectEqualMeta(got, *m) {
			t.Fatalf("scale %v: meta %+v, want %d docs, %d postings, %d terms, %d dropped", scale, got, len(docs), npost, len(inv), dropped)
		}
		for d := range docs {
			if ix.DocID(d) != docs[d].ID {
				t.Fatalf("DocID(%d) = %q, want %q", d, ix.DocID(d), docs[d].ID)
			}
		}
		var maxValue float64
		for term := uint32(0); term < vocab; term++ {
			want := inv[term]
			df, mx := ix.Term(term)
			wantMax := uint32(0)
			for _, p := range want {
				wantMax = max(wantMax, p.val)
			}
			if df != len(want) || mx != wantMax {
				t.Fatalf("scale %v term %d: Term = (%d, %d), want (%d, %d)", scale, term, df, mx, len(want), wantMax)
			}
			maxValue = max(maxValue, ix.Value(mx))
			checkCursor(t, ix, term, want)
		}
		if got.MaxValue != maxValue {
			t.Errorf("MaxValue %v, want %v", got.MaxValue, maxValue)
		}
	}
}

func reflectEqualMeta(a, b sparse.Meta) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// checkCursor walks term's postings with every cursor method and compares
// with want.
func checkCursor(t *testing.T, ix *sparse.Index, term uint32, want []posting) {
	t.Helper()
	var p sparse.Postings
	ix.Postings(term, &p)
	for i, w := range want {
		if p.Doc() != w.doc || p.Value() != w.val {
			t.Fatalf("term %d posting %d: (%d, %d), want (%d, %d)", term, i, p.Doc(), p.Value(), w.doc, w.val)
		}
		p.Next()
	}
	if p.Doc() != sparse.NoMoreDocs || p.Err() != nil {
		t.Fatalf("term %d: after the last posting Doc = %d, Err = %v", term, p.Doc(), p.Err())
	}
	// Block and Consume: runs of postings, consumed in uneven steps.
	ix.Postings(term, &p)
	var got []posting
	for step := 1; p.Doc() != sparse.NoMoreDocs; step = step%5 + 1 {
		docs, vals := p.Block()
		j := min(step, len(docs))
		for k := range j {
			got = append(got, posting{docs[k], vals[k]})
		}
		p.Consume(j)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("term %d: Block/Consume gave %d postings, want %d (or different ones)", term, len(got), len(want))
	}
	// Advance to every 7th target, and ShallowAdvance bounds.
	ix.Postings(term, &p)
	var q sparse.Postings
	ix.Postings(term, &q)
	for target := uint32(0); len(want) > 0 && target <= want[len(want)-1].doc+1; target += 7 {
		k, _ := slices.BinarySearchFunc(want, target, func(a posting, t uint32) int { return int(a.doc) - int(t) })
		wantDoc := sparse.NoMoreDocs
		if k < len(want) {
			wantDoc = want[k].doc
		}
		last, bound, ok := q.ShallowAdvance(target)
		if ok != (k < len(want)) {
			t.Fatalf("term %d ShallowAdvance(%d) ok = %v", term, target, ok)
		}
		if ok {
			// The block holds want[k]: its last doc is ≥ it and its
			// bound ≥ every value up to its last doc.
			if last < wantDoc {
				t.Fatalf("term %d ShallowAdvance(%d) last %d < next doc %d", term, target, last, wantDoc)
			}
			for j := k; j < len(want) && want[j].doc <= last; j++ {
				if want[j].val > bound {
					t.Fatalf("term %d: value %d in a block bounded by %d", term, want[j].val, bound)
				}
			}
		}
		if got := p.Advance(target); got != wantDoc {
			t.Fatalf("term %d Advance(%d) = %d, want %d", term, target, got, wantDoc)
		}
		if k < len(want) && p.Value() != want[k].val {
			t.Fatalf("term %d Advance(%d) value %d, want %d", term, target, p.Value(), want[k].val)
		}
	}
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

// TestBuildIsDeterministic: the same input gives the same bytes whatever
// the memory budget (one run or many) and thread count.
func TestBuildIsDeterministic(t *testing.T) {
	docs := synthDocs(8000, 1000, 3)
	for _, scale := range []float64{100, 0} {
		runs := 0
		restore := sparse.SetOnSpill(func(n int) { runs = n })
		a, _ := build(t, docs, sparse.BuildOptions{VocabSize: 1000, Scale: scale, MemoryBudget: 2400 << 10, Threads: 1})
		restore()
		if runs < 2 {
			t.Fatalf("%d runs", runs)
		}
		b, _ := build(t, docs, sparse.BuildOptions{VocabSize: 1000, Scale: scale, MemoryBudget: 512 << 20, Threads: 2})
		ma, mb := dirBytes(t, a), dirBytes(t, b)
		if len(ma) != 6 || len(mb) != 6 {
			t.Fatalf("%d and %d files", len(ma), len(mb))
		}
		for name, ba := range ma {
			if !bytes.Equal(ba, mb[name]) {
				t.Errorf("scale %v: %s differs (%d vs %d bytes)", scale, name, len(ba), len(mb[name]))
			}
		}
	}
}

func TestQuantize(t *testing.T) {
	for _, tc := range []struct {
		w     float32
		scale float64
		v     uint32
		ok    bool
	}{
		{1.234, 100, 123, true},
		{0.125, 100, 12, true}, // 12.5 rounds half to even
		{0.135, 100, 14, true}, // float32(0.135)·100 = 13.5000002…: not a tie
		{0.005, 100, 0, false}, // float32(0.005) is 0.00499999989: 0.4999… rounds to 0, dropped
		{0.0051, 100, 1, true}, // 0.51
		{2.5, 1, 2, true},      // half to even, as Python's round
		{3.5, 1, 4, true},
		{0.5, 1, 0, false},
		{3.75, 1000, 3750, true},
		{0, 100, 0, false},
		{1, 0, 0x3f800000, true}, // scale 0: the float32's bits
		{0, 0, 0, false},
	} {
		v, ok, err := sparse.Quantize(tc.w, tc.scale)
		if err != nil || v != tc.v || ok != tc.ok {
			t.Errorf("Quantize(%v, %v) = %d, %v, %v; want %d, %v", tc.w, tc.scale, v, ok, err, tc.v, tc.ok)
		}
	}
	if _, _, err := sparse.Quantize(3e9, 100); err == nil {
		t.Error("Quantize(3e9, 100) fits 32 bits?")
	}
}

// TestBuildRejectsBadInput: each bad document or option is an error that
// names the document and position; nothing panics.
func TestBuildRejectsBadInput(t *testing.T) {
	good := sparse.Doc{ID: "ok", Terms: []uint32{1, 5}, Weights: []float32{0.5, 1}}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		docs []sparse.Doc
		o    sparse.BuildOptions
		want string
	}{
		{"unsorted terms", []sparse.Doc{good, {ID: "b", Terms: []uint32{5, 1}, Weights: []float32{1, 1}}}, sparse.BuildOptions{}, `document "b" (#1 of the input, counting from 0): terms must be strictly increasing, but term 1 at position 1 follows 5`},
		{"repeated term", []sparse.Doc{{ID: "a", Terms: []uint32{2, 2}, Weights: []float32{1, 1}}}, sparse.BuildOptions{}, "term 2 at position 1 follows 2"},
		{"term beyond vocabulary", []sparse.Doc{{ID: "a", Terms: []uint32{1, 10}, Weights: []float32{1, 1}}}, sparse.BuildOptions{}, "term 10 at position 1 is not below the vocabulary size 10"},
		{"NaN weight", []sparse.Doc{{ID: "a", Terms: []uint32{1}, Weights: []float32{nan}}}, sparse.BuildOptions{}, "weight NaN of term 1 at position 0 is not a finite number ≥ 0"},
		{"negative weight", []sparse.Doc{good, good, {ID: "c", Terms: []uint32{1, 3}, Weights: []float32{1, -0.5}}}, sparse.BuildOptions{}, `document "c" (#2 of the input, counting from 0): weight -0.5 of term 3 at position 1`},
		{"infinite weight", []sparse.Doc{{ID: "a", Terms: []uint32{4}, Weights: []float32{inf}}}, sparse.BuildOptions{}, "weight +Inf of term 4"},
		{"float mode keeps NaN out too", []sparse.Doc{{ID: "a", Terms: []uint32{4}, Weights: []float32{nan}}}, sparse.BuildOptions{Scale: -1}, "weight NaN"},
		{"weights and terms differ", []sparse.Doc{{ID: "a", Terms: []uint32{1, 2}, Weights: []float32{1}}}, sparse.BuildOptions{}, `document "a" (#0 of the input, counting from 0) has 2 terms but 1 weights`},
		{"empty id", []sparse.Doc{good, {Terms: []uint32{1}, Weights: []float32{1}}}, sparse.BuildOptions{}, "document #1 of the input (counting from 0) has an empty id"},
		{"weight too large to quantise", []sparse.Doc{{ID: "a", Terms: []uint32{1}, Weights: []float32{1e30}}}, sparse.BuildOptions{}, "does not fit 32 bits"},
		{"duplicate ids", []sparse.Doc{good, {ID: "x", Terms: []uint32{1}, Weights: []float32{1}}, good}, sparse.BuildOptions{}, `duplicate document id "ok" (documents #0 and #2 of the input`},
		{"no vocabulary", []sparse.Doc{good}, sparse.BuildOptions{VocabSize: -1}, "vocabulary size must be in [1, 16777216], got -1"},
		{"negative scale", []sparse.Doc{good}, sparse.BuildOptions{Scale: -2}, "scale must be a finite number ≥ 0, got -2"},
		{"NaN scale", []sparse.Doc{good}, sparse.BuildOptions{Scale: math.NaN()}, "scale must be a finite number ≥ 0, got NaN"},
		{"budget too small", []sparse.Doc{good}, sparse.BuildOptions{VocabSize: 1 << 20, MemoryBudget: 8 << 20}, "too small for a vocabulary of 1048576 terms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			if o.VocabSize == 0 {
				o.VocabSize = 10
			}
			if o.Scale == 0 {
				o.Scale = 100
			} else if o.Scale == -1 {
				o.Scale = 0
			}
			_, err := sparse.Build(context.Background(), seqOf(tc.docs), t.TempDir(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	t.Run("duplicate id error type", func(t *testing.T) {
		_, err := sparse.Build(context.Background(), seqOf([]sparse.Doc{good, good}), t.TempDir(), sparse.BuildOptions{VocabSize: 10, Scale: 100})
		var dup *sparse.DuplicateIDError
		if !errors.As(err, &dup) || dup.ID != "ok" || dup.First != 0 || dup.Second != 1 {
			t.Fatalf("error %#v, want DuplicateIDError{ok, 0, 1}", err)
		}
	})
	t.Run("input error", func(t *testing.T) {
		boom := errors.New("boom")
		docs := func(yield func(sparse.Doc, error) bool) { _ = yield(good, nil) && yield(sparse.Doc{}, boom) }
		if _, err := sparse.Build(context.Background(), docs, t.TempDir(), sparse.BuildOptions{VocabSize: 10}); !errors.Is(err, boom) {
			t.Fatalf("error %v, want the input's", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := sparse.Build(ctx, seqOf(synthDocs(3000, 50, 1)), t.TempDir(), sparse.BuildOptions{VocabSize: 50}); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
}

// TestEmptyCollection: no documents still make an index that opens.
func TestEmptyCollection(t *testing.T) {
	dir, m := build(t, nil, sparse.BuildOptions{VocabSize: 5})
	ix := open(t, dir)
	if m.NumDocs != 0 || ix.NumDocs() != 0 || m.NumPostings != 0 {
		t.Fatalf("meta %+v", m)
	}
	var p sparse.Postings
	ix.Postings(3, &p)
	if p.Doc() != sparse.NoMoreDocs {
		t.Fatal("postings in an empty index")
	}
}

// rewriteMeta applies fn to meta.json.
func rewriteMeta(t *testing.T, dir string, fn func(m map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, "meta.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, _ = json.Marshal(m)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies an index so that a test can damage it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	for name, b := range dirBytes(t, src) {
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestOpenRejectsDamage: truncated files, flipped bytes, a wrong format and
// structurally inconsistent headers (with checksums made to match) are
// clear errors from Open; damaged postings are caught by Verify and by the
// cursors, without a panic.
func TestOpenRejectsDamage(t *testing.T) {
	docs := synthDocs(3000, 500, 11)
	good, _ := build(t, docs, sparse.BuildOptions{VocabSize: 500, Scale: 100})
	damage := []struct {
		name string
		fn   func(t *testing.T, dir string)
		want string
	}{
		{"missing meta", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "meta.json")) }, "open index"},
		{"missing postings", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "postings.bin")) }, "postings.bin"},
		{"other format", func(t *testing.T, dir string) { rewriteMeta(t, dir, func(m map[string]any) { m["format"] = 99 }) }, "format 99, want \"irflow-sparse\" format 1"},
		{"other kind", func(t *testing.T, dir string) {
			rewriteMeta(t, dir, func(m map[string]any) { m["kind"] = "irflow-bm25" })
		}, `index kind "irflow-bm25"`},
		{"bad json", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "meta.json"), []byte("{"), 0o644) }, "meta.json"},
	}
	for _, f := range []string{"terms.bin", "blocks.bin", "postings.bin", "ids.bin", "idoffs.bin"} {
		damage = append(damage, struct {
			name string
			fn   func(t *testing.T, dir string)
			want string
		}{"truncated " + f, func(t *testing.T, dir string) {
			p := filepath.Join(dir, f)
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()-3)
		}, f + ": "})
		if f == "postings.bin" {
			continue
		}
		damage = append(damage, struct {
			name string
			fn   func(t *testing.T, dir string)
			want string
		}{"flipped byte in " + f, func(t *testing.T, dir string) { flip(t, filepath.Join(dir, f), 0.5) }, f + ": checksum mismatch"})
	}
	// Headers that disagree, with checksums recomputed so only the
	// structural check can notice.
	for _, tc := range []struct {
		name string
		file string
		off  func(b []byte) int
		want string
	}{
		{"block count", "blocks.bin", func(b []byte) int { return 14 }, "postings, want"},
		{"block last doc", "blocks.bin", func(b []byte) int { return 2 }, "ends at document"},
		{"block data offset", "blocks.bin", func(b []byte) int { return 16 + 4 }, "data at"},
		{"term frequency", "terms.bin", func(b []byte) int { return 12 }, "term 0"},
		{"id offset", "idoffs.bin", func(b []byte) int { return 8*5 + 1 }, "idoffs.bin: offset"},
	} {
		damage = append(damage, struct {
			name string
			fn   func(t *testing.T, dir string)
			want string
		}{"inconsistent " + tc.name, func(t *testing.T, dir string) {
			p := filepath.Join(dir, tc.file)
			b, _ := os.ReadFile(p)
			b[tc.off(b)] ^= 0x40
			os.WriteFile(p, b, 0o644)
			rewriteMeta(t, dir, func(m map[string]any) {
				m["files"].(map[string]any)[tc.file].(map[string]any)["crc32c"] = crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
			})
		}, tc.want})
	}
	for _, tc := range damage {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, good)
			tc.fn(t, dir)
			ix, err := sparse.Open(dir)
			if err == nil {
				ix.Close()
				t.Fatalf("Open succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want one containing %q", err, tc.want)
			}
		})
	}
	t.Run("damaged postings", func(t *testing.T) {
		detected := 0
		for i, at := range []float64{0.11, 0.23, 0.35, 0.47, 0.59, 0.61, 0.73, 0.85, 0.97} {
			dir := copyDir(t, good)
			flip(t, filepath.Join(dir, "postings.bin"), at)
			ix := open(t, dir)
			if err := ix.Verify(); err == nil || !strings.Contains(err.Error(), "postings.bin: checksum mismatch") {
				t.Fatalf("Verify: %v", err)
			}
			// Every cursor decodes without panicking; a block that does
			// not add up is reported.
			corrupt := 0
			for term := uint32(0); term < 500; term++ {
				var p sparse.Postings
				for ix.Postings(term, &p); p.Doc() != sparse.NoMoreDocs; p.Next() {
					if int(p.Doc()) >= ix.NumDocs() {
						t.Fatalf("damage %d: term %d yields document %d of %d", i, term, p.Doc(), ix.NumDocs())
					}
					p.Value()
				}
				if err := p.Err(); err != nil {
					if !errors.Is(err, sparse.ErrCorrupt) {
						t.Fatalf("cursor error %v does not wrap ErrCorrupt", err)
					}
					corrupt++
				}
			}
			t.Logf("flip at %.0f%%: %d cursors reported damage", 100*at, corrupt)
			detected += min(corrupt, 1)
		}
		// A flip in a doc gap is always caught; one in a value only by
		// Verify. Most of these positions hit gaps.
		if detected < 3 {
			t.Fatalf("only %d of 9 damaged files were noticed by the cursors", detected)
		}
	})
}

// flip inverts the bits of the byte at fraction at of the file.
func flip(t *testing.T, path string, at float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[int(float64(len(b)-1)*at)] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
