package seismic_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/index/internal/vecfile/damage"
	"github.com/irflow/irflow/index/seismic"
	"github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/index/sparse/synth"
)

func synthDocs(n int, seed uint64) ([]sparse.Doc, int) {
	g := synth.New(synth.Config{Docs: n, Seed: seed})
	docs := make([]sparse.Doc, n)
	for i := range docs {
		docs[i] = g.Doc(i)
	}
	return docs, g.Config().Vocab
}

func buildSparse(t testing.TB, docs []sparse.Doc, vocab int, scale float64) *sparse.Index {
	t.Helper()
	dir := t.TempDir()
	seq := iter.Seq2[sparse.Doc, error](func(yield func(sparse.Doc, error) bool) {
		for _, d := range docs {
			if !yield(d, nil) {
				return
			}
		}
	})
	if _, err := sparse.Build(context.Background(), seq, dir, sparse.BuildOptions{VocabSize: vocab, Scale: scale, TmpDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	ix, err := sparse.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func opts() seismic.Options {
	return seismic.Options{NumPostings: 200, CentroidFraction: 0.1, MinClusterSize: 2, SummaryEnergy: 0.4, DocCut: 15, Seed: 7}
}

// The same seed gives byte-identical files whatever the threads and the
// memory budget (a small budget writes the forward index in many ranges).
// buildOpen builds an index of src with o in a temporary directory and
// opens it; the index is closed when the test ends.
func buildOpen(t *testing.T, src *sparse.Index, o seismic.Options) (*seismic.Meta, *seismic.Index) {
	t.Helper()
	dir := t.TempDir()
	meta, err := seismic.Build(context.Background(), dir, src, o)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := seismic.Open(dir, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return meta, ix
}

func TestBuildDeterministic(t *testing.T) {
	docs, vocab := synthDocs(800, 1)
	src := buildSparse(t, docs, vocab, 100)
	read := func(dir string) map[string][]byte {
		out := map[string][]byte{}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = b
		}
		return out
	}
	var first map[string][]byte
	for _, c := range []struct {
		threads int
		budget  int64
	}{{1, 0}, {3, 0}, {3, 16 << 10}} {
		dir := t.TempDir()
		o := opts()
		o.Threads, o.MemoryBudget = c.threads, c.budget
		if _, err := seismic.Build(context.Background(), dir, src, o); err != nil {
			t.Fatal(err)
		}
		files := read(dir)
		if first == nil {
			first = files
			continue
		}
		if len(files) != len(first) {
			t.Fatalf("threads %d budget %d: %d files, want %d", c.threads, c.budget, len(files), len(first))
		}
		for name, b := range first {
			if !bytes.Equal(files[name], b) {
				t.Errorf("threads %d budget %d: %s differs", c.threads, c.budget, name)
			}
		}
	}
	o := opts()
	o.Seed = 8
	dir := t.TempDir()
	if _, err := seismic.Build(context.Background(), dir, src, o); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, seismic.BlockDocsFile)); bytes.Equal(b, first[seismic.BlockDocsFile]) {
		t.Error("another seed gave the same blocks")
	}
}

// The structure against the documents themselves: the forward index is
// each document's quantised vector; each term keeps its num_postings
// largest postings (ties: smaller document), split into blocks holding
// each kept document once; with summary_energy 1 a block's summary is the
// coordinate-wise maximum of its documents, rounded up by less than a step.
func TestBuildStructure(t *testing.T) {
	docs, vocab := synthDocs(300, 2)
	const scale = 100
	src := buildSparse(t, docs, vocab, scale)
	for _, energy := range []float64{1, 0.4} {
		t.Run(fmt.Sprint("summary_energy=", energy), func(t *testing.T) { testStructure(t, docs, vocab, src, energy) })
	}
}

func testStructure(t *testing.T, docs []sparse.Doc, vocab int, src *sparse.Index, energy float64) {
	const scale = 100
	o := opts()
	o.NumPostings, o.SummaryEnergy = 20, energy
	meta, ix := buildOpen(t, src, o)
	q := func(w float32) uint32 { v, _, _ := sparse.Quantize(w, scale); return v }
	type post struct{ doc, val uint32 }
	lists := make([][]post, vocab)
	for d, doc := range docs {
		var want []uint32
		for i, term := range doc.Terms {
			if v := q(doc.Weights[i]); v > 0 {
				want = append(want, term, v)
				lists[term] = append(lists[term], post{uint32(d), v})
			}
		}
		if got := ix.Doc(uint32(d)); !slices.Equal(got, want) {
			t.Fatalf("forward vector of document %d: %v, want %v", d, got[:min(6, len(got))], want[:min(6, len(want))])
		}
		// Scale 100 keeps every value below 65536: the narrow copy
		// packs each posting as term | value<<16.
		var narrow []uint32
		for i := 0; i < len(want); i += 2 {
			narrow = append(narrow, want[i]|want[i+1]<<16)
		}
		if got := ix.DocNarrow(uint32(d)); !meta.NarrowForward || !slices.Equal(got, narrow) {
			t.Fatalf("narrow forward vector of document %d (narrow_forward %v): %x, want %x", d, meta.NarrowForward, got[:min(3, len(got))], narrow[:min(3, len(narrow))])
		}
	}
	var kept int64
	for term, l := range lists {
		slices.SortFunc(l, func(a, b post) int { return cmp.Or(cmp.Compare(b.val, a.val), cmp.Compare(a.doc, b.doc)) })
		l = l[:min(len(l), o.NumPostings)]
		want := make([]uint32, len(l))
		for i, p := range l {
			want[i] = p.doc
		}
		slices.Sort(want)
		lo, hi := ix.Blocks(uint32(term))
		var got []uint32
		for b := lo; b < hi; b++ {
			bd := ix.BlockDocs(b)
			if len(bd) == 0 || !slices.IsSorted(bd) {
				t.Fatalf("term %d block %d: %v: want documents, increasing", term, b, bd)
			}
			got = append(got, bd...)
			// summary of the block from the documents
			maxv := map[uint32]float64{}
			for _, d := range bd {
				v := ix.Doc(d)
				for i := 0; i < len(v); i += 2 {
					maxv[v[i]] = max(maxv[v[i]], float64(v[i+1]))
				}
			}
			// energy: the largest maxima (ties: smaller term) until their sum
			// reaches energy × the total
			type tv struct {
				t uint32
				v float64
			}
			var all []tv
			var total float64
			for t, v := range maxv {
				all = append(all, tv{t, v})
				total += v
			}
			slices.SortFunc(all, func(a, b tv) int { return cmp.Or(cmp.Compare(b.v, a.v), cmp.Compare(a.t, b.t)) })
			keep := len(all)
			if energy < 1 {
				var acc float64
				for i, x := range all {
					acc += x.v
					if acc >= energy*total {
						keep = i + 1
						break
					}
				}
			}
			want := map[uint32]float64{}
			for _, x := range all[:keep] {
				want[x.t] = x.v
			}
			maxv = want
			step := float64(ix.Quant(b))
			seen := 0
			slo, shi := ix.SummaryTerms(uint32(term))
			for s := slo; s < shi; s++ {
				blocks, codes := ix.SummaryEntries(s)
				for j, blk := range blocks {
					if int(blk) != b-lo {
						continue
					}
					seen++
					m, ok := maxv[ix.SummaryTerm(s)]
					if !ok {
						t.Fatalf("term %d block %d: summary holds term %d, not among the largest", term, b, ix.SummaryTerm(s))
					}
					v := float64(codes[j]) * step
					if v < m || v > m+step*1.0001 {
						t.Fatalf("term %d block %d: summary of term %d is %v, the maximum %v (step %v)", term, b, ix.SummaryTerm(s), v, m, step)
					}
				}
			}
			if seen != len(maxv) {
				t.Fatalf("term %d block %d: %d summary terms, want all %d", term, b, seen, len(maxv))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("term %d: blocks hold %v, want %v", term, got, want)
		}
		kept += int64(len(want))
		if n := len(want); n > 0 {
			if nb := hi - lo; nb > max(1, int(o.CentroidFraction*float64(n))) {
				t.Errorf("term %d: %d blocks for %d postings", term, nb, n)
			}
		}
	}
	if meta.KeptPostings != kept {
		t.Errorf("kept postings %d, want %d", meta.KeptPostings, kept)
	}
}

func TestBuildRejectsBadOptions(t *testing.T) {
	docs, vocab := synthDocs(50, 3)
	src := buildSparse(t, docs, vocab, 100)
	for _, c := range []struct {
		edit func(*seismic.Options)
		want string
	}{
		{func(o *seismic.Options) { o.NumPostings = 0 }, "num_postings"},
		{func(o *seismic.Options) { o.CentroidFraction = 0 }, "centroid_fraction"},
		{func(o *seismic.Options) { o.CentroidFraction = 1.5 }, "centroid_fraction"},
		{func(o *seismic.Options) { o.MinClusterSize = -1 }, "min_cluster_size"},
		{func(o *seismic.Options) { o.SummaryEnergy = 0 }, "summary_energy"},
		{func(o *seismic.Options) { o.SummaryEnergy = 1.01 }, "summary_energy"},
		{func(o *seismic.Options) { o.DocCut = 0 }, "doc_cut"},
	} {
		o := opts()
		c.edit(&o)
		_, err := seismic.Build(context.Background(), t.TempDir(), src, o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %s", o, err, c.want)
		}
	}
}

// A damaged file, a truncated one or an index of another sparse index is
// an error at Open; a cancelled build leaves no index behind.
func TestOpenRejectsDamage(t *testing.T) {
	docs, vocab := synthDocs(150, 4)
	src := buildSparse(t, docs, vocab, 100)
	other := buildSparse(t, docs[:149], vocab, 100)
	build := func() string {
		dir := t.TempDir()
		if _, err := seismic.Build(context.Background(), dir, src, opts()); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	for _, c := range []struct {
		name string
		harm func(dir string)
		with *sparse.Index
		want string
	}{
		{"flipped byte", func(dir string) {
			p := filepath.Join(dir, seismic.BlockDocsFile)
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 1
			os.WriteFile(p, b, 0o644)
		}, src, "checksum mismatch"},
		{"truncated", func(dir string) {
			p := filepath.Join(dir, seismic.FwdFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-8], 0o644)
		}, src, "truncated"},
		{"other sparse index", func(string) {}, other, "was built from"},
		{"format 1 (before fwd16.bin)", func(dir string) { damage.EditMeta(t, dir, `"format": 2`, `"format": 1`) }, src, "format 1, want"},
		{"narrow copy disagrees, checksum updated", func(dir string) {
			p := filepath.Join(dir, seismic.FwdNarrowFile)
			b, _ := os.ReadFile(p)
			old := sha256.Sum256(b)
			b[len(b)/2] ^= 1
			sum := sha256.Sum256(b)
			os.WriteFile(p, b, 0o644)
			damage.EditMeta(t, dir, hex.EncodeToString(old[:]), hex.EncodeToString(sum[:]))
		}, src, "fwd16.bin: posting"},
		{"no meta", func(dir string) { os.Remove(filepath.Join(dir, "meta.json")) }, src, "did not finish"},
	} {
		dir := build()
		c.harm(dir)
		ix, err := seismic.Open(dir, c.with)
		if err == nil {
			ix.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := build()
	if _, err := seismic.Build(ctx, dir, src, opts()); err == nil {
		t.Fatal("a cancelled build succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a cancelled build left %d files", len(ents))
	}
}
