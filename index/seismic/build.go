package seismic

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/irflow/irflow/index/internal/mmapfile"
	"github.com/irflow/irflow/index/sparse"
)

// termBatch is the number of terms built in parallel before their blocks
// are written (in term order).
const termBatch = 512

// cutFile holds each document's DocCut largest coordinates while the
// build runs (removed before it ends).
const cutFile = "doccut.tmp"

// Build writes the Seismic index of the sparse index src into dir.
// Memory: the forward index a document range at a time (MemoryBudget), two
// offsets per document, three vocabulary-sized arrays per thread and the
// blocks of one batch of terms; fwd.bin and each document's DocCut largest
// coordinates are read back through memory mappings. With a
// CheckpointDir the build commits its steps there (the forward index, then
// ranges of terms; see steps.go) and a killed build resumes after the last.
func Build(ctx context.Context, dir string, src *sparse.Index, o Options) (*Meta, error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("seismic index: %w", err)
	}
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 256 << 20
	}
	logf := func(format string, a ...any) {
		if o.Log != nil {
			o.Log(fmt.Sprintf(format, a...))
		}
	}
	sm := src.Meta()
	meta := &Meta{Kind: Kind, Format: Format, NumDocs: sm.NumDocs, VocabSize: sm.VocabSize, Scale: sm.Scale,
		NumPostings: o.NumPostings, CentroidFraction: o.CentroidFraction, MinClusterSize: o.MinClusterSize,
		SummaryEnergy: o.SummaryEnergy, DocCut: o.DocCut, Seed: o.Seed, Files: map[string]string{}}
	if o.global() {
		meta.Pruning, meta.MaxFraction = PruneGlobalThreshold, o.maxFraction()
	}
	s, err := openSteps(src, o, *meta)
	if err != nil {
		return nil, err
	}
	w := &writer{dir: dir, work: s.work(dir), meta: meta}
	if err := w.start(); err != nil {
		return nil, err
	}
	defer w.abort()
	l := &lists{w: w}
	if s.done > 0 {
		logf("resuming the seismic build from checkpoint %s: %d of %d steps done (%s)", s.dir, s.done, s.total(), s.what(s.done-1))
		if err := s.resume(w, l); err != nil {
			return nil, err
		}
	}

	var offs []uint64
	if s.done == 0 {
		logf("forward index of %d documents", sm.NumDocs)
		if offs, err = writeForward(ctx, w, src, o.MemoryBudget); err != nil {
			return nil, err
		}
		if err := s.commit(0, w, l); err != nil {
			return nil, err
		}
	} else if offs, err = readOffsets(filepath.Join(w.work, FwdOffsFile), sm.NumDocs); err != nil {
		return nil, err
	}
	meta.ForwardPostings = int64(offs[len(offs)-1])
	fwdBytes, err := mmapfile.Map(filepath.Join(w.work, FwdFile))
	if err != nil {
		return nil, fmt.Errorf("seismic index: %w", err)
	}
	defer mmapfile.Unmap(fwdBytes)
	fwd := forward{offs: offs, data: mmapfile.U32s(fwdBytes), floats: !sm.Quantized()}

	cutPath := filepath.Join(w.work, cutFile)
	defer os.Remove(cutPath)
	cut, unmap, err := writeCut(cutPath, fwd, o.DocCut)
	if err != nil {
		return nil, err
	}
	defer unmap()

	g := gate{all: true}
	if o.global() { // from the forward index, so a resumed build finds the same gate
		g = globalGate(fwd, int64(sm.VocabSize)*int64(o.NumPostings))
		logf("global threshold: %d × %d largest postings pass, at most %d a term", sm.VocabSize, o.NumPostings, o.perTerm())
	}
	logf("blocks and summaries of %d terms (%d threads, %d steps)", sm.VocabSize, o.Threads, len(s.bounds)-1)
	if err := l.write(ctx, s, src, fwd, cut, g, o); err != nil {
		return nil, err
	}
	meta.KeptPostings, meta.NumBlocks, meta.NumSumTerms, meta.NumSumEntries = int64(l.kept), int64(l.blocks), int64(l.sumTerms), int64(l.entries)
	if meta.NarrowForward, err = writeNarrow(w, fwd); err != nil {
		return nil, err
	}
	unmap()
	os.Remove(cutPath)
	if err := w.finish(); err != nil {
		return nil, err
	}
	return meta, nil
}

// forward is the forward index being built: document d's postings are
// data[2·offs[d] : 2·offs[d+1]], term and value interleaved.
type forward struct {
	offs   []uint64
	data   []uint32
	floats bool // values are float32 bits, else integer impacts
}

// value is the number a stored value stands for.
func (f forward) value(v uint32) float64 {
	if f.floats {
		return float64(math.Float32frombits(v))
	}
	return float64(v)
}

func (f forward) doc(d uint32) []uint32 { return f.data[2*f.offs[d] : 2*f.offs[d+1]] }

// writeForward writes fwdoffs.bin and fwd.bin from the postings of src:
// one pass counts each document's postings, then each range of documents
// whose postings fit the budget is filled by a pass over every term (so
// each document's terms come out increasing) and appended.
func writeForward(ctx context.Context, w *writer, src *sparse.Index, budget int64) ([]uint64, error) {
	n, vocab := src.NumDocs(), src.Meta().VocabSize
	counts := make([]uint64, n+1)
	var p sparse.Postings
	for t := range vocab {
		for src.Postings(uint32(t), &p); p.Doc() != sparse.NoMoreDocs; {
			docs, _ := p.Block()
			for _, d := range docs {
				counts[d+1]++
			}
			p.Consume(len(docs))
		}
		if err := p.Err(); err != nil {
			return nil, fmt.Errorf("seismic index: %w", err)
		}
	}
	for d := range n {
		counts[d+1] += counts[d]
	}
	offs := counts
	ob, err := w.create(FwdOffsFile)
	if err != nil {
		return nil, err
	}
	if err := putU64s(ob, offs); err != nil {
		return nil, err
	}
	if err := w.close(FwdOffsFile); err != nil {
		return nil, err
	}
	fb, err := w.create(FwdFile)
	if err != nil {
		return nil, err
	}
	perRange := max(1, uint64(budget/8))
	var buf []uint32
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && offs[hi+1]-offs[lo] <= perRange {
			hi++
		}
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		base := offs[lo]
		buf = slices.Grow(buf[:0], int(2*(offs[hi]-base)))[:2*(offs[hi]-base)]
		pos := make([]uint64, hi-lo)
		for d := lo; d < hi; d++ {
			pos[d-lo] = offs[d] - base
		}
		for t := range vocab {
			src.Postings(uint32(t), &p)
			for p.Advance(uint32(lo)); p.Doc() < uint32(hi); {
				docs, vals := p.Block()
				j := 0
				for ; j < len(docs) && docs[j] < uint32(hi); j++ {
					i := &pos[docs[j]-uint32(lo)]
					buf[2**i], buf[2**i+1] = uint32(t), vals[j]
					*i++
				}
				p.Consume(j)
				if j < len(docs) {
					break
				}
			}
			if err := p.Err(); err != nil {
				return nil, fmt.Errorf("seismic index: %w", err)
			}
		}
		for _, v := range buf {
			if err := putU32(fb, v); err != nil {
				return nil, err
			}
		}
		lo = hi
	}
	return offs, w.close(FwdFile)
}

// writeNarrow writes fwd16.bin: every posting of the forward index as
// term | value<<16 when all terms and values fit 16 bits and values are
// integers, else nothing (an empty file). It reports which.
func writeNarrow(w *writer, fwd forward) (bool, error) {
	narrow := !fwd.floats
	for _, v := range fwd.data {
		if v >= 1<<16 {
			narrow = false
			break
		}
	}
	b, err := w.create(FwdNarrowFile)
	if err != nil {
		return false, err
	}
	for i := 0; narrow && i < len(fwd.data); i += 2 {
		if err := putU32(b, fwd.data[i]|fwd.data[i+1]<<16); err != nil {
			return false, err
		}
	}
	return narrow, w.close(FwdNarrowFile)
}

// readOffsets reads fwdoffs.bin back (a resumed build; its checksum was
// checked against the checkpoint).
func readOffsets(path string, n int) ([]uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seismic index: %w", err)
	}
	if len(b) != 8*(n+1) {
		return nil, fmt.Errorf("seismic index: %s: %d bytes, want %d", path, len(b), 8*(n+1))
	}
	offs := make([]uint64, n+1)
	for i := range offs {
		offs[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return offs, nil
}

// writeCut writes each document's k largest coordinates (value
// descending, ties: the smaller term), what clustering compares with the
// centroids, to path and maps them back as a forward index of their own:
// found once per document instead of once per list that keeps it. Stored
// values order like the values they stand for (integers, or positive
// float32 bits), so they are compared as stored.
func writeCut(path string, fwd forward, k int) (forward, func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return forward{}, nil, fmt.Errorf("seismic index: %w", err)
	}
	b := bufio.NewWriterSize(f, 1<<20)
	n := len(fwd.offs) - 1
	offs := make([]uint64, n+1)
	type coord struct{ term, value uint32 }
	top := make([]coord, 0, k)
	for d := range n {
		v := fwd.doc(uint32(d))
		top = top[:0]
		for i := 0; i < len(v); i += 2 { // by insertion; terms come increasing
			c := coord{v[i], v[i+1]}
			if len(top) == k && c.value <= top[k-1].value {
				continue
			}
			if len(top) < k {
				top = append(top, c)
			}
			j := len(top) - 1
			for ; j > 0 && top[j-1].value < c.value; j-- {
				top[j] = top[j-1]
			}
			top[j] = c
		}
		for _, c := range top {
			putU32(b, c.term)
			if err := putU32(b, c.value); err != nil {
				f.Close()
				return forward{}, nil, fmt.Errorf("seismic index: %w", err)
			}
		}
		offs[d+1] = offs[d] + uint64(len(top))
	}
	err = b.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return forward{}, nil, fmt.Errorf("seismic index: %w", err)
	}
	m, err := mmapfile.Map(path)
	if err != nil {
		return forward{}, nil, fmt.Errorf("seismic index: %w", err)
	}
	var once sync.Once
	return forward{offs: offs, data: mmapfile.U32s(m), floats: fwd.floats}, func() { once.Do(func() { mmapfile.Unmap(m) }) }, nil
}

// list is one term's blocks and summaries, as written.
type list struct {
	kept     int
	docs     []uint32 // block by block
	ends     []uint64 // end of each block in docs
	quant    []float32
	sumTerms []uint32
	sumEnds  []uint64 // end of each summary term's entries
	sumBlock []uint16
	sumCode  []uint8
}

// listFiles are the files the lists are appended to, in term order.
var listFiles = []string{ListBlocksFile, BlockOffsFile, BlockDocsFile, BlockQuantFile, ListSumsFile, SumTermsFile, SumOffsFile, SumBlocksFile, SumCodesFile}

// lists appends the terms' blocks and summaries to their files; the
// counts are what has been written (a resumed build restores them).
type lists struct {
	w                                     *writer
	out                                   map[string]*bufio.Writer
	kept, blocks, docs, sumTerms, entries uint64
	buf                                   []byte
}

// start creates the list files, each offsets file with its leading 0.
func (l *lists) start() error {
	l.out = map[string]*bufio.Writer{}
	for _, name := range listFiles {
		b, err := l.w.create(name)
		if err != nil {
			return err
		}
		l.out[name] = b
	}
	for _, name := range []string{ListBlocksFile, BlockOffsFile, ListSumsFile, SumOffsFile} {
		if err := putU64(l.out[name], 0); err != nil {
			return err
		}
	}
	return nil
}

// write builds the terms of the steps not yet done a batch at a time on
// o.Threads goroutines, appends them in term order and commits each step.
func (l *lists) write(ctx context.Context, s *steps, src *sparse.Index, fwd, cut forward, g gate, o Options) error {
	if l.out == nil {
		if err := l.start(); err != nil {
			return err
		}
	}
	builders := make([]*builder, o.Threads)
	for i := range builders {
		builders[i] = newBuilder(src, fwd, cut, g, o)
	}
	batch := make([]list, termBatch)
	for step := max(1, s.done); step < s.total(); step++ {
		for lo, hi, end := s.bounds[step-1], 0, s.bounds[step]; lo < end; lo = hi {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			hi = batchEnd(src, lo, end, o)
			if err := buildBatch(builders, batch, lo, hi); err != nil {
				return err
			}
			for t := lo; t < hi; t++ {
				if err := l.append(&batch[t-lo]); err != nil {
					return err
				}
			}
		}
		if err := s.commit(step, l.w, l); err != nil {
			return err
		}
	}
	return nil
}

// keptBytes estimates, with room to spare, the memory a kept posting's
// share of its list takes while its batch waits to be written (on
// synth-1000000 about 14 summary entries and 7 summary terms per kept
// posting, ~130 bytes with the blocks).
const keptBytes = 256

// batchEnd is the end of the batch of terms from lo: at most termBatch
// terms, and no more kept postings than MemoryBudget/keptBytes (at least
// one term). Batches change the order of work, never the files.
func batchEnd(src *sparse.Index, lo, end int, o Options) int {
	limit := o.MemoryBudget / keptBytes
	var kept int64
	hi := lo
	for hi < end && hi-lo < termBatch {
		df, _ := src.Term(uint32(hi))
		if kept += int64(min(df, o.perTerm())); kept > limit && hi > lo {
			break
		}
		hi++
	}
	return hi
}

// buildBatch builds terms [lo, hi) into batch on the builders' goroutines.
func buildBatch(builders []*builder, batch []list, lo, hi int) error {
	var next atomic.Int64
	next.Store(int64(lo))
	errs := make([]error, len(builders))
	var wg sync.WaitGroup
	for i, b := range builders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t := int(next.Add(1) - 1)
				if t >= hi {
					return
				}
				if err := b.build(uint32(t), &batch[t-lo]); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// append writes one term's list (its offsets made global in place).
func (l *lists) append(li *list) error {
	for i := range li.ends {
		li.ends[i] += l.docs
	}
	for i := range li.sumEnds {
		li.sumEnds[i] += l.entries
	}
	l.kept += uint64(li.kept)
	l.blocks += uint64(len(li.ends))
	l.docs += uint64(len(li.docs))
	l.sumTerms += uint64(len(li.sumTerms))
	l.entries += uint64(len(li.sumCode))
	for _, f := range []struct {
		name string
		v    any
	}{{BlockOffsFile, li.ends}, {BlockDocsFile, li.docs}, {BlockQuantFile, li.quant}, {SumTermsFile, li.sumTerms},
		{SumOffsFile, li.sumEnds}, {SumBlocksFile, li.sumBlock}, {SumCodesFile, li.sumCode},
		{ListBlocksFile, l.blocks}, {ListSumsFile, l.sumTerms}} {
		var err error
		if l.buf, err = binary.Append(l.buf[:0], binary.LittleEndian, f.v); err != nil {
			return err
		}
		if _, err := l.out[f.name].Write(l.buf); err != nil {
			return err
		}
	}
	return nil
}

// builder builds one term's list at a time; one per goroutine.
type builder struct {
	src      *sparse.Index
	fwd, cut forward // cut: each document's DocCut largest coordinates
	gate     gate    // the global threshold (all pass under PruneFixed)
	o        Options

	docs, vals []uint32
	cTerm      []int32 // vocabulary: first centroid entry of a term, -1 for none
	cEnd       []int32 // vocabulary: end of its centroid entries (0 for none)
	centEnt    []centEntry
	touched    []uint32 // terms set in cTerm
	sumTouched []uint32 // terms set in maxv
	maxv       []uint32 // vocabulary: a block's coordinate-wise maximum (stored values)
	scores     []float64
	keys       []uint64
	triples    []uint64 // summary entries: term<<40 | block<<8 | code
	sorted     []uint64
	terms      termSet // the distinct summary terms of a list
	counts     []uint32
	ties       []uint64
}

type centEntry struct {
	centroid int32
	value    float64
}

func newBuilder(src *sparse.Index, fwd, cut forward, g gate, o Options) *builder {
	v := src.Meta().VocabSize
	b := &builder{src: src, fwd: fwd, cut: cut, gate: g, o: o, terms: newTermSet(v), cTerm: make([]int32, v), cEnd: make([]int32, v), maxv: make([]uint32, v)}
	for i := range b.cTerm {
		b.cTerm[i] = -1
	}
	return b
}

// build fills l with term t's blocks and summaries.
func (b *builder) build(t uint32, l *list) error {
	*l = list{docs: l.docs[:0], ends: l.ends[:0], quant: l.quant[:0], sumTerms: l.sumTerms[:0],
		sumEnds: l.sumEnds[:0], sumBlock: l.sumBlock[:0], sumCode: l.sumCode[:0]}
	docs, err := b.keep(t)
	if err != nil || len(docs) == 0 {
		return err
	}
	l.kept = len(docs)
	blocks := b.cluster(t, docs)
	b.triples = b.triples[:0]
	for i, blk := range blocks {
		l.docs = append(l.docs, blk...)
		l.ends = append(l.ends, uint64(len(l.docs)))
		l.quant = append(l.quant, b.summarize(blk, uint32(i)))
	}
	b.groupByTerm()
	for i, e := range b.triples {
		term := uint32(e >> 40)
		if i == 0 || term != uint32(b.triples[i-1]>>40) {
			if i > 0 {
				l.sumEnds = append(l.sumEnds, uint64(i))
			}
			l.sumTerms = append(l.sumTerms, term)
		}
		l.sumBlock = append(l.sumBlock, uint16(e>>8))
		l.sumCode = append(l.sumCode, uint8(e))
	}
	if len(b.triples) > 0 {
		l.sumEnds = append(l.sumEnds, uint64(len(b.triples)))
	}
	return nil
}

// keep returns term t's largest postings among those passing the gate,
// at most perTerm (ties: the smaller document), in document order.
func (b *builder) keep(t uint32) ([]uint32, error) {
	var p sparse.Postings
	b.docs, b.vals = b.docs[:0], b.vals[:0]
	for b.src.Postings(t, &p); p.Doc() != sparse.NoMoreDocs; {
		d, v := p.Block()
		b.docs = append(b.docs, d...)
		b.vals = append(b.vals, v...)
		p.Consume(len(d))
	}
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("seismic index: %w", err)
	}
	if !b.gate.all {
		n := 0
		for i, d := range b.docs {
			if b.gate.passes(d, t, b.vals[i]) {
				b.docs[n], b.vals[n] = d, b.vals[i]
				n++
			}
		}
		b.docs, b.vals = b.docs[:n], b.vals[:n]
	}
	keep := b.o.perTerm()
	if len(b.docs) <= keep {
		return slices.Clone(b.docs), nil
	}
	// value descending, then document: stored values order like the
	// values they stand for
	b.keys = b.keys[:0]
	for i, d := range b.docs {
		b.keys = append(b.keys, uint64(^b.vals[i])<<32|uint64(d))
	}
	slices.Sort(b.keys)
	kept := make([]uint32, keep)
	for i := range kept {
		kept[i] = uint32(b.keys[i])
	}
	slices.Sort(kept)
	return kept, nil
}

// cluster splits docs (increasing) into blocks: pyseismic's random
// k-means with an inverted index over the centroids and approximate dot
// products (the documents' DocCut largest coordinates). Blocks come in
// the order of their centroid documents, documents increasing within each.
func (b *builder) cluster(t uint32, docs []uint32) [][]uint32 {
	nc := max(1, int(b.o.CentroidFraction*float64(len(docs))))
	if nc == 1 {
		return [][]uint32{docs}
	}
	rng := rand.New(rand.NewPCG(b.o.Seed, uint64(t)))
	pick := make([]int, len(docs))
	for i := range pick {
		pick[i] = i
	}
	for i := range nc { // partial Fisher–Yates: nc distinct positions
		j := i + rng.IntN(len(pick)-i)
		pick[i], pick[j] = pick[j], pick[i]
	}
	cents := make([]uint32, nc)
	for i := range cents {
		cents[i] = docs[pick[i]]
	}
	slices.Sort(cents)

	// Inverted index of the centroids' full vectors, grouped by term by a
	// counting sort (centroid order within a term).
	b.touched = b.touched[:0]
	for _, d := range cents {
		v := b.fwd.doc(d)
		for i := 0; i < len(v); i += 2 {
			if b.cEnd[v[i]] == 0 {
				b.touched = append(b.touched, v[i])
			}
			b.cEnd[v[i]]++
		}
	}
	var n int32
	for _, x := range b.touched {
		b.cTerm[x] = n
		n += b.cEnd[x]
		b.cEnd[x] = b.cTerm[x] // the fill cursor, the end once filled
	}
	b.centEnt = slices.Grow(b.centEnt[:0], int(n))[:n]
	for c, d := range cents {
		v := b.fwd.doc(d)
		for i := 0; i < len(v); i += 2 {
			b.centEnt[b.cEnd[v[i]]] = centEntry{int32(c), b.fwd.value(v[i+1])}
			b.cEnd[v[i]]++
		}
	}
	defer func() {
		for _, x := range b.touched {
			b.cTerm[x], b.cEnd[x] = -1, 0
		}
	}()

	removed := make([]bool, nc)
	assign := make([]int, len(docs))
	size := make([]int, nc)
	for i, d := range docs {
		assign[i] = b.nearest(d, removed)
		size[assign[i]]++
	}
	any := false
	for c := range removed {
		removed[c] = size[c] <= b.o.MinClusterSize
		any = any || !removed[c]
	}
	if !any { // every cluster too small: one block
		return [][]uint32{docs}
	}
	for i, d := range docs {
		if removed[assign[i]] {
			assign[i] = b.nearest(d, removed)
		}
	}
	blocks := make([][]uint32, nc)
	for i, d := range docs {
		blocks[assign[i]] = append(blocks[assign[i]], d)
	}
	return slices.DeleteFunc(blocks, func(x []uint32) bool { return len(x) == 0 })
}

// nearest is the centroid not removed with the largest dot product with
// document d's DocCut largest coordinates (ties, and no overlap at all:
// the first such centroid).
func (b *builder) nearest(d uint32, removed []bool) int {
	b.scores = slices.Grow(b.scores[:0], len(removed))[:len(removed)]
	clear(b.scores)
	c := b.cut.doc(d)
	for i := 0; i < len(c); i += 2 {
		if s := b.cTerm[c[i]]; s >= 0 {
			x := b.cut.value(c[i+1])
			for _, e := range b.centEnt[s:b.cEnd[c[i]]] {
				b.scores[e.centroid] += x * e.value
			}
		}
	}
	best := -1
	for c, s := range b.scores {
		if !removed[c] && (best < 0 || s > b.scores[best]) {
			best = c
		}
	}
	return best
}

// summarize records block blk's summary entries (as number blk within its
// list) and returns its quantisation step: the coordinate-wise maximum of
// its documents, largest coordinates first until SummaryEnergy of the L1
// mass is reached (pyseismic's energy-preserving summary), each stored as
// the 8-bit code c = ⌈value / quant⌉ with quant = max/255, so c × quant ≥
// value. Stored values order like the values they stand for (integers, or
// positive float32 bits), so maxima and orders are taken on them.
func (b *builder) summarize(docs []uint32, blk uint32) float32 {
	b.sumTouched = b.sumTouched[:0]
	for _, d := range docs {
		v := b.fwd.doc(d)
		for i := 0; i < len(v); i += 2 {
			t, x := v[i], v[i+1]
			if b.maxv[t] == 0 {
				b.sumTouched = append(b.sumTouched, t)
			}
			b.maxv[t] = max(b.maxv[t], x)
		}
	}
	// keys: value descending, then term ascending
	b.keys = b.keys[:0]
	var total float64
	var top uint32
	for _, t := range b.sumTouched {
		x := b.maxv[t]
		b.keys = append(b.keys, uint64(^x)<<32|uint64(t))
		total += b.fwd.value(x)
		top = max(top, x)
		b.maxv[t] = 0
	}
	if len(b.keys) == 0 {
		return 0
	}
	if until := total * b.o.SummaryEnergy; b.o.SummaryEnergy < 1 {
		if !b.fwd.floats && int(top) <= 4*len(b.keys)+256 {
			b.keys = b.largestByCount(b.keys, until, top)
		} else {
			b.keys = b.keys[:largestUntil(b.keys, until, b.fwd)]
		}
	}
	topv := b.fwd.value(top)
	quant := float32(topv / 255)
	for float64(quant)*255 < topv {
		quant = math.Nextafter32(quant, float32(math.Inf(1)))
	}
	for _, k := range b.keys {
		t, v := uint32(k), b.fwd.value(^uint32(k>>32))
		code := min(255, math.Ceil(v/float64(quant)))
		for code < 255 && code*float64(quant) < v {
			code++
		}
		b.triples = append(b.triples, uint64(t)<<40|uint64(blk)<<8|uint64(max(1, code)))
	}
	return quant
}

// largestUntil moves the smallest keys (the largest values) to the front
// of keys, in order, until their values sum to at least until, and
// returns how many: a heap, so only those are ordered (a summary keeps a
// small share of its block's coordinates).
func largestUntil(keys []uint64, until float64, f forward) int {
	n := len(keys)
	down := func(i, n int) {
		for {
			c := 2*i + 1
			if c >= n {
				return
			}
			if c+1 < n && keys[c+1] < keys[c] {
				c++
			}
			if keys[i] <= keys[c] {
				return
			}
			keys[i], keys[c] = keys[c], keys[i]
			i = c
		}
	}
	for i := n/2 - 1; i >= 0; i-- {
		down(i, n)
	}
	// Pop the minimum to the back of the heap region; the popped keys
	// collect, in order, at the end of keys.
	var acc float64
	k := 0
	for k < n {
		last := n - 1 - k
		keys[0], keys[last] = keys[last], keys[0]
		acc += f.value(^uint32(keys[last] >> 32))
		k++
		down(0, last)
		if acc >= until {
			break
		}
	}
	slices.Reverse(keys[n-k:])
	copy(keys, keys[n-k:]) // overlapping: copy moves forward correctly (memmove)
	return k
}

// largestByCount keeps of keys (integer values at most top) the same
// ones as largestUntil, in another order (summaries are grouped by term
// afterwards, so their order within a block does not matter), in time
// proportional to len(keys) + top: sums of integers are exact in float64
// whatever their order, so a count of the keys per value finds the value
// at which the sum of the largest reaches until; of the keys with that
// value, the smallest terms first, as many as it takes.
func (b *builder) largestByCount(keys []uint64, until float64, top uint32) []uint64 {
	b.counts = slices.Grow(b.counts[:0], int(top)+1)[:top+1]
	for _, k := range keys {
		b.counts[^uint32(k>>32)]++
	}
	var acc float64
	v := top
	for ; v > 0; v-- {
		if s := acc + float64(b.counts[v])*float64(v); s < until {
			acc = s
			continue
		}
		break
	}
	clear(b.counts)
	if v == 0 { // not reached (until is at most the sum): all of them
		return keys
	}
	take := 0 // keys of value v, the smallest terms
	for acc+float64(take)*float64(v) < until {
		take++
	}
	b.ties = b.ties[:0]
	n := 0
	for _, k := range keys {
		switch x := ^uint32(k >> 32); {
		case x > v:
			keys[n] = k
			n++
		case x == v:
			b.ties = append(b.ties, k)
		}
	}
	slices.Sort(b.ties)
	return append(keys[:n], b.ties[:take]...)
}

// groupByTerm orders the summary entries by term by a counting sort,
// keeping block order within a term (they were made block by block); the
// distinct terms come in order out of a bitmap.
func (b *builder) groupByTerm() {
	for _, e := range b.triples {
		t := uint32(e >> 40)
		if b.maxv[t] == 0 {
			b.terms.add(t)
		}
		b.maxv[t]++
	}
	b.sumTouched = b.terms.drain(b.sumTouched[:0])
	var n uint32
	for _, t := range b.sumTouched {
		c := b.maxv[t]
		b.maxv[t] = n
		n += c
	}
	b.sorted = slices.Grow(b.sorted[:0], len(b.triples))[:len(b.triples)]
	for _, e := range b.triples {
		t := uint32(e >> 40)
		b.sorted[b.maxv[t]] = e
		b.maxv[t]++
	}
	for _, t := range b.sumTouched {
		b.maxv[t] = 0
	}
	b.triples, b.sorted = b.sorted, b.triples
}

// termSet is a set of terms as a bitmap over the vocabulary with a bitmap
// of its non-zero words above it: drain lists the terms in order in time
// proportional to their number plus vocabulary/4096, where sorting them
// took a twelfth of a build.
type termSet struct{ words, upper []uint64 }

func newTermSet(vocab int) termSet {
	return termSet{words: make([]uint64, vocab/64+1), upper: make([]uint64, vocab/4096+1)}
}

func (s termSet) add(t uint32) {
	s.words[t>>6] |= 1 << (t & 63)
	s.upper[t>>12] |= 1 << (t >> 6 & 63)
}

// drain appends the terms to out, increasing, and empties the set.
func (s termSet) drain(out []uint32) []uint32 {
	for u, up := range s.upper {
		for ; up != 0; up &= up - 1 {
			w := u<<6 | bits.TrailingZeros64(up)
			for x := s.words[w]; x != 0; x &= x - 1 {
				out = append(out, uint32(w<<6|bits.TrailingZeros64(x)))
			}
			s.words[w] = 0
		}
		s.upper[u] = 0
	}
	return out
}
