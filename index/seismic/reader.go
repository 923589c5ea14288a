package seismic

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"unsafe"

	"github.com/irflow/irflow/index/internal/mmapfile"
	"github.com/irflow/irflow/index/internal/sumfile"
	"github.com/irflow/irflow/index/internal/vecfile"
	"github.com/irflow/irflow/index/sparse"
)

// Index is an opened index; safe for concurrent use.
type Index struct {
	meta       Meta
	src        *sparse.Index
	m          vecfile.Mapped
	fwdOffs    []uint64
	fwd        []uint32
	fwd16      []uint32 // fwd's postings as term | value<<16 (NarrowForward), else nil
	listBlocks []uint64
	blockOffs  []uint64
	blockDocs  []uint32
	blockQuant []float32
	listSums   []uint64
	sumTerms   []uint32
	sumOffs    []uint64
	sumBlocks  []uint16
	sumCodes   []uint8
}

const pkg = "seismic index"

// Open maps the index in dir, checks every file's size and checksum
// against meta.json and the structure the search relies on, and ties it
// to src, the sparse index it was built from (document ids, values).
func Open(dir string, src *sparse.Index) (*Index, error) {
	ix := &Index{src: src, m: vecfile.Mapped{Dir: dir}}
	if err := vecfile.ReadMeta(pkg, dir, &ix.meta); err != nil {
		return nil, err
	}
	mt := ix.meta
	metaPath := filepath.Join(dir, vecfile.MetaFile)
	if mt.Kind != Kind || mt.Format != Format {
		return nil, fmt.Errorf("%s: %s: kind %q format %d, want %q format %d", pkg, dir, mt.Kind, mt.Format, Kind, Format)
	}
	sm := src.Meta()
	if sm.NumDocs != mt.NumDocs || sm.VocabSize != mt.VocabSize || sm.Scale != mt.Scale {
		return nil, fmt.Errorf("%s: %s was built from a sparse index of %d documents, vocabulary %d, quantization %v; the one given has %d, %d, %v",
			pkg, dir, mt.NumDocs, mt.VocabSize, mt.Scale, sm.NumDocs, sm.VocabSize, sm.Scale)
	}
	if mt.ForwardPostings < 0 || mt.NumBlocks < 0 || mt.NumSumTerms < 0 || mt.NumSumEntries < 0 || mt.KeptPostings < 0 {
		return nil, fmt.Errorf("%s: %s: negative counts: corrupt", pkg, metaPath)
	}
	n, v := int64(mt.NumDocs), int64(mt.VocabSize)
	want := map[string]int64{
		FwdOffsFile: 8 * (n + 1), FwdFile: 8 * mt.ForwardPostings, FwdNarrowFile: 0,
		ListBlocksFile: 8 * (v + 1), BlockOffsFile: 8 * (mt.NumBlocks + 1), BlockDocsFile: 4 * mt.KeptPostings, BlockQuantFile: 4 * mt.NumBlocks,
		ListSumsFile: 8 * (v + 1), SumTermsFile: 4 * mt.NumSumTerms, SumOffsFile: 8 * (mt.NumSumTerms + 1),
		SumBlocksFile: 2 * mt.NumSumEntries, SumCodesFile: mt.NumSumEntries,
	}
	if mt.NarrowForward {
		want[FwdNarrowFile] = 4 * mt.ForwardPostings
	}
	fail := func(err error) (*Index, error) { ix.m.Close(); return nil, err }
	maps, err := sumfile.MapAll(pkg, &ix.m, mt.Files, want)
	if err != nil {
		return fail(err)
	}
	offsets := func(name string, total int64) []uint64 {
		if err != nil {
			return nil
		}
		var o []uint64
		o, err = vecfile.Offsets(pkg, filepath.Join(dir, name), maps[name], uint64(total))
		return o
	}
	ix.fwdOffs = offsets(FwdOffsFile, mt.ForwardPostings)
	ix.listBlocks = offsets(ListBlocksFile, mt.NumBlocks)
	ix.blockOffs = offsets(BlockOffsFile, mt.KeptPostings)
	ix.listSums = offsets(ListSumsFile, mt.NumSumTerms)
	ix.sumOffs = offsets(SumOffsFile, mt.NumSumEntries)
	if err != nil {
		return fail(err)
	}
	ix.fwd = mmapfile.U32s(maps[FwdFile])
	if mt.NarrowForward {
		ix.fwd16 = mmapfile.U32s(maps[FwdNarrowFile])
	}
	ix.blockDocs = mmapfile.U32s(maps[BlockDocsFile])
	ix.blockQuant = sumfile.F32s(maps[BlockQuantFile])
	ix.sumTerms = mmapfile.U32s(maps[SumTermsFile])
	ix.sumBlocks = u16s(maps[SumBlocksFile])
	ix.sumCodes = maps[SumCodesFile]
	if err := ix.check(dir); err != nil {
		return fail(err)
	}
	return ix, nil
}

// check validates what search indexes with: terms below the vocabulary,
// documents below NumDocs, summary blocks within their list.
func (ix *Index) check(dir string) error {
	bad := func(file string, what string, a ...any) error {
		return fmt.Errorf("%s: %s: %s: corrupt", pkg, filepath.Join(dir, file), fmt.Sprintf(what, a...))
	}
	for i := 0; i < len(ix.fwd); i += 2 {
		if int(ix.fwd[i]) >= ix.meta.VocabSize {
			return bad(FwdFile, "posting %d has term %d", i/2, ix.fwd[i])
		}
	}
	for i, p := range ix.fwd16 {
		if t, v := ix.fwd[2*i], ix.fwd[2*i+1]; t >= 1<<16 || v >= 1<<16 || p != t|v<<16 {
			return bad(FwdNarrowFile, "posting %d is %#x, fwd.bin has term %d value %d", i, p, t, v)
		}
	}
	for i, d := range ix.blockDocs {
		if int(d) >= ix.meta.NumDocs {
			return bad(BlockDocsFile, "entry %d is document %d", i, d)
		}
	}
	for i, q := range ix.blockQuant {
		if !(q >= 0) || math.IsInf(float64(q), 0) {
			return bad(BlockQuantFile, "block %d has step %v", i, q)
		}
	}
	for t := 0; t < ix.meta.VocabSize; t++ {
		nb := uint32(ix.listBlocks[t+1] - ix.listBlocks[t])
		for s := ix.listSums[t]; s < ix.listSums[t+1]; s++ {
			if int(ix.sumTerms[s]) >= ix.meta.VocabSize {
				return bad(SumTermsFile, "summary term %d is %d", s, ix.sumTerms[s])
			}
			for e := ix.sumOffs[s]; e < ix.sumOffs[s+1]; e++ {
				if uint32(ix.sumBlocks[e]) >= nb {
					return bad(SumBlocksFile, "entry %d of term %d names block %d of %d", e, t, ix.sumBlocks[e], nb)
				}
			}
		}
	}
	return nil
}

// u16s views little-endian uint16s (a copy where the machine needs one).
func u16s(b []byte) []uint16 {
	if len(b) < 2 {
		return nil
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%2 == 0 {
		return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
	}
	out := make([]uint16, len(b)/2)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return out
}

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// Meta describes the index.
func (ix *Index) Meta() Meta { return ix.meta }

// Sparse is the sparse index the index was built from.
func (ix *Index) Sparse() *sparse.Index { return ix.src }

// Doc returns document d's forward vector: term and stored value
// interleaved, terms increasing.
func (ix *Index) Doc(d uint32) []uint32 { return ix.fwd[2*ix.fwdOffs[d] : 2*ix.fwdOffs[d+1]] }

// DocNarrow returns document d's forward vector as Doc's postings packed
// term | value<<16, one uint32 each, or nil when the index has no narrow
// forward index (Meta.NarrowForward).
func (ix *Index) DocNarrow(d uint32) []uint32 {
	if ix.fwd16 == nil {
		return nil
	}
	return ix.fwd16[ix.fwdOffs[d]:ix.fwdOffs[d+1]]
}

// Blocks returns the range of term t's blocks (numbers into BlockDocs and
// Quant).
func (ix *Index) Blocks(t uint32) (lo, hi int) {
	return int(ix.listBlocks[t]), int(ix.listBlocks[t+1])
}

// BlockDocs returns the documents of block b.
func (ix *Index) BlockDocs(b int) []uint32 { return ix.blockDocs[ix.blockOffs[b]:ix.blockOffs[b+1]] }

// Quant is block b's quantisation step: a code c stands for c × Quant(b).
func (ix *Index) Quant(b int) float32 { return ix.blockQuant[b] }

// SummaryTerms returns the range of term t's summary terms (numbers for
// SummaryTerm and SummaryEntries).
func (ix *Index) SummaryTerms(t uint32) (lo, hi int) {
	return int(ix.listSums[t]), int(ix.listSums[t+1])
}

// SummaryTermsOf returns term t's summary terms (increasing).
func (ix *Index) SummaryTermsOf(t uint32) []uint32 {
	return ix.sumTerms[ix.listSums[t]:ix.listSums[t+1]]
}

// SummaryTerm is the vocabulary id of summary term s.
func (ix *Index) SummaryTerm(s int) uint32 { return ix.sumTerms[s] }

// SummaryEntries returns summary term s's entries: the blocks (numbered
// within the list) whose summaries hold it, and their codes.
func (ix *Index) SummaryEntries(s int) (blocks []uint16, codes []uint8) {
	lo, hi := ix.sumOffs[s], ix.sumOffs[s+1]
	return ix.sumBlocks[lo:hi], ix.sumCodes[lo:hi]
}

// Close unmaps the files (not the sparse index).
func (ix *Index) Close() error { return ix.m.Close() }
