package bm25

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/irflow/irflow/index/internal/bitpack"
	"github.com/irflow/irflow/index/internal/mmapfile"
)

// Index is an opened index. Its methods are safe for concurrent use; the
// Postings cursors they fill are not.
type Index struct {
	Dir  string
	Meta Meta

	dict, dictIdx, blocks, postings, norms, ids []byte
	idOffs                                      []uint32
	idRank                                      []uint32
	maps                                        [][]byte
	numTerms, numGroups                         int
	fieldIdx                                    map[string]int
}

// Open maps the index in dir into memory.
func Open(dir string) (*Index, error) {
	mb, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, fmt.Errorf("bm25: open index: %w", err)
	}
	ix := &Index{Dir: dir, fieldIdx: map[string]int{}}
	if err := json.Unmarshal(mb, &ix.Meta); err != nil {
		return nil, fmt.Errorf("bm25: %s: %w", filepath.Join(dir, metaFile), err)
	}
	if ix.Meta.Format != FormatName || ix.Meta.Version != FormatVersion {
		return nil, fmt.Errorf("bm25: %s: format %q version %d, want %q version %d", dir, ix.Meta.Format, ix.Meta.Version, FormatName, FormatVersion)
	}
	for i, f := range ix.Meta.Fields {
		ix.fieldIdx[f.Name] = i
	}
	load := func(name string) ([]byte, error) {
		b, err := mmapfile.Map(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("bm25: open index: %w", err)
		}
		if len(b) > 0 {
			ix.maps = append(ix.maps, b)
		}
		return b, nil
	}
	var offs, rank []byte
	for _, p := range []struct {
		name string
		dst  *[]byte
	}{{dictFile, &ix.dict}, {dictIdxFile, &ix.dictIdx}, {blocksFile, &ix.blocks}, {postingsFile, &ix.postings},
		{normsFile, &ix.norms}, {idsFile, &ix.ids}, {idOffsFile, &offs}, {idRankFile, &rank}} {
		if *p.dst, err = load(p.name); err != nil {
			ix.Close()
			return nil, err
		}
	}
	n := ix.Meta.NumDocs
	for _, f := range ix.Meta.Fields {
		ix.numTerms += int(f.NumTerms)
	}
	ix.numGroups = (ix.numTerms + dictGroupSize - 1) / dictGroupSize
	if len(ix.dictIdx) != dictIdxSize*ix.numGroups || len(offs) != 4*(n+1) || len(rank) != 4*n ||
		len(ix.norms) != n*len(ix.Meta.Fields) || len(ix.postings) < bitpack.Padding {
		ix.Close()
		return nil, fmt.Errorf("bm25: %s: index files are truncated or inconsistent", dir)
	}
	ix.idOffs = mmapfile.U32s(offs)
	ix.idRank = mmapfile.U32s(rank)
	return ix, nil
}

// Close unmaps the files. The Index must not be used afterwards.
func (ix *Index) Close() error {
	var first error
	for _, m := range ix.maps {
		if err := mmapfile.Unmap(m); err != nil && first == nil {
			first = err
		}
	}
	ix.maps = nil
	return first
}

// NumDocs is the number of documents.
func (ix *Index) NumDocs() int { return ix.Meta.NumDocs }

// Field returns the index of a field by name.
func (ix *Index) Field(name string) (int, bool) { i, ok := ix.fieldIdx[name]; return i, ok }

// Norms returns the norm bytes of a field, one per document.
func (ix *Index) Norms(field int) []byte {
	n := ix.Meta.NumDocs
	return ix.norms[field*n : (field+1)*n]
}

// DocID returns the external id of internal document doc.
func (ix *Index) DocID(doc uint32) string {
	return string(ix.ids[ix.idOffs[doc]:ix.idOffs[doc+1]])
}

// AppendDocID appends doc's external id to b: a caller turning many hits
// into ids gathers them in one buffer and one string instead of
// allocating a string per hit.
func (ix *Index) AppendDocID(b []byte, doc uint32) []byte {
	return append(b, ix.ids[ix.idOffs[doc]:ix.idOffs[doc+1]]...)
}

// IDRank returns the position of doc's external id in byte order; equal
// scores are ordered by it.
func (ix *Index) IDRank(doc uint32) uint32 { return ix.idRank[doc] }

// IDRanks returns IDRank for every document.
func (ix *Index) IDRanks() []uint32 { return ix.idRank }

// TermInfo locates one term's postings.
type TermInfo struct {
	Field   int
	DocFreq uint32
	// MaxTF and MinNorm bound the term's BM25 score over all documents;
	// single-block terms (DocFreq ≤ BlockSize) store no bound and report
	// math.MaxUint32 and 0.
	MaxTF   uint32
	MinNorm byte

	postOff, blockOff uint64
	nblocks           int
	docBits, tfBits   uint8
}

// dictCursor decodes the entries of one dictionary group.
type dictCursor struct {
	ix                *Index
	pos, left         int
	key               []byte
	postOff, blockOff uint64
	e                 termEntry
	raw               [2]uint8 // docBits, tfBits
}

func (ix *Index) groupCursor(g int, c *dictCursor) {
	rec := ix.dictIdx[g*dictIdxSize:]
	c.ix = ix
	c.pos = int(binary.LittleEndian.Uint64(rec[0:]))
	c.postOff = binary.LittleEndian.Uint64(rec[8:])
	c.blockOff = binary.LittleEndian.Uint64(rec[16:])
	c.left = min(dictGroupSize, ix.numTerms-g*dictGroupSize)
	c.key = c.key[:0]
	c.e = termEntry{}
}

// next decodes the following entry of the group; false at its end.
func (c *dictCursor) next() bool {
	if c.left == 0 {
		return false
	}
	if c.e.docFreq > 0 { // advance past the previous term
		c.postOff += c.e.postLen
		if !c.e.single() {
			c.blockOff += uint64((c.e.docFreq + BlockSize - 1) / BlockSize)
		}
	}
	c.left--
	d := c.ix.dict
	uv := func() uint64 {
		v, n := binary.Uvarint(d[c.pos:])
		c.pos += n
		return v
	}
	prefix := int(uv())
	suffix := int(uv())
	c.key = append(c.key[:prefix], d[c.pos:c.pos+suffix]...)
	c.pos += suffix
	c.e = termEntry{docFreq: uint32(uv())}
	c.e.postLen = uv()
	c.e.postOff, c.e.blockOff = c.postOff, c.blockOff
	if c.e.single() {
		c.e.docBits, c.e.tfBits = d[c.pos], d[c.pos+1]
		c.pos += 2
		c.e.maxTF, c.e.minNorm = math.MaxUint32, 0
	} else {
		c.e.maxTF = uint32(uv())
		c.e.minNorm = d[c.pos]
		c.pos++
	}
	return true
}

func (c *dictCursor) info() TermInfo {
	e := &c.e
	ti := TermInfo{Field: int(c.key[0]), DocFreq: e.docFreq, MaxTF: e.maxTF, MinNorm: e.minNorm,
		postOff: e.postOff, blockOff: e.blockOff, nblocks: 1, docBits: e.docBits, tfBits: e.tfBits}
	if !e.single() {
		ti.nblocks = int((e.docFreq + BlockSize - 1) / BlockSize)
	}
	return ti
}

// groupFirstKey is the first key of group g (stored without a prefix).
func (ix *Index) groupFirstKey(g int) []byte {
	d := ix.dict[binary.LittleEndian.Uint64(ix.dictIdx[g*dictIdxSize:]):]
	_, n1 := binary.Uvarint(d)
	l, n2 := binary.Uvarint(d[n1:])
	return d[n1+n2 : n1+n2+int(l)]
}

// Lookup finds term in field.
func (ix *Index) Lookup(field int, term string) (TermInfo, bool) {
	want := make([]byte, 0, 1+len(term))
	want = append(append(want, byte(field)), term...)
	g := sort.Search(ix.numGroups, func(g int) bool { return bytes.Compare(ix.groupFirstKey(g), want) > 0 }) - 1
	if g < 0 {
		return TermInfo{}, false
	}
	var c dictCursor
	ix.groupCursor(g, &c)
	for c.next() {
		switch bytes.Compare(c.key, want) {
		case 0:
			return c.info(), true
		case 1:
			return TermInfo{}, false
		}
	}
	return TermInfo{}, false
}

// Terms calls fn for every term of field in byte order (for tests and tools).
func (ix *Index) Terms(field int, fn func(term string, ti TermInfo) bool) {
	var c dictCursor
	for g := 0; g < ix.numGroups; g++ {
		ix.groupCursor(g, &c)
		for c.next() {
			if int(c.key[0]) < field {
				continue
			}
			if int(c.key[0]) > field || !fn(string(c.key[1:]), c.info()) {
				return
			}
		}
	}
}

// NoMoreDocs is the doc id a cursor returns when it is exhausted.
const NoMoreDocs = ^uint32(0)

// Postings iterates over one term's postings, block by block. The zero
// value is unusable; fill it with Index.Postings.
type Postings struct {
	data    []byte // postings.bin from the term's first block
	headers []byte // the term's block headers
	nblocks int

	single  bool        // one block, header synthesised from the dictionary
	sh      blockHeader // that header
	block   int         // current block, -1 before the first
	sb      int         // block found by the last ShallowAdvance (targets only grow)
	decoded bool
	docs    [BlockSize]uint32
	n, i    int
	// The current block's packed frequencies: read one at a time, since
	// a probed clause needs one frequency of the 128.
	tfData []byte
	tfBits uint8
	doc    uint32
}

// Postings positions p before the first posting of ti.
func (ix *Index) Postings(ti TermInfo, p *Postings) {
	p.data = ix.postings[ti.postOff:]
	p.nblocks = ti.nblocks
	p.single = ti.DocFreq <= BlockSize
	if p.single {
		p.headers = nil
		// The last doc is unknown; Advance checks the block's end instead.
		p.sh = blockHeader{lastDoc: NoMoreDocs - 1, maxTF: math.MaxUint32, tf0: math.MaxUint32, tf1: math.MaxUint32,
			docBits: ti.docBits, tfBits: ti.tfBits, count: uint8(ti.DocFreq)}
	} else {
		p.headers = ix.blocks[ti.blockOff*blockHeaderSize : (ti.blockOff+uint64(ti.nblocks))*blockHeaderSize]
	}
	p.block = -1
	p.sb = 0
	p.decoded = false
	p.n, p.i = 0, 0
	p.doc = 0
}

// Doc is the current document (NoMoreDocs when exhausted).
func (p *Postings) Doc() uint32 { return p.doc }

// Freq is the term frequency in the current document.
func (p *Postings) Freq() uint32 {
	return bitpack.UnpackOne(p.tfData, p.i, p.tfBits) + 1
}

func (p *Postings) header(b int) blockHeader {
	if p.single {
		return p.sh
	}
	return getBlockHeader(p.headers[b*blockHeaderSize:])
}

// blockLastDoc returns the last doc of block b (NoMoreDocs−1 for a
// single-block term).
func (p *Postings) blockLastDoc(b int) uint32 {
	if p.single {
		return p.sh.lastDoc
	}
	return binary.LittleEndian.Uint32(p.headers[b*blockHeaderSize:])
}

func (p *Postings) decodeBlock(b int) {
	p.block = b
	h := p.header(b)
	n := int(h.count)
	bitpack.Unpack(p.docs[:], p.data[h.dataOff:], n, h.docBits)
	base := uint32(0)
	if b > 0 {
		base = p.blockLastDoc(b-1) + 1
	}
	bitpack.Undo(p.docs[:], n, base)
	p.n = n
	p.i = 0
	p.tfData = p.data[h.dataOff+uint32(bitpack.Len(n, h.docBits)):]
	p.tfBits = h.tfBits
	p.decoded = true
}

// Next moves to the next posting.
func (p *Postings) Next() uint32 {
	if p.decoded && p.i+1 < p.n {
		p.i++
		p.doc = p.docs[p.i]
		return p.doc
	}
	if p.block+1 >= p.nblocks {
		return p.exhaust()
	}
	p.decodeBlock(p.block + 1)
	p.doc = p.docs[0]
	return p.doc
}

// Advance moves to the first posting with doc ≥ target (target must be
// greater than the current doc).
func (p *Postings) Advance(target uint32) uint32 {
	if !p.decoded || p.blockLastDoc(p.block) < target {
		b := max(p.block, 0)
		if p.sb > b && p.blockLastDoc(p.sb-1) < target {
			b = p.sb
		}
		for b < p.nblocks && p.blockLastDoc(b) < target {
			b++
		}
		if b >= p.nblocks {
			return p.exhaust()
		}
		p.decodeBlock(b)
	}
	i := p.i
	for i < p.n && p.docs[i] < target {
		i++
	}
	if i == p.n { // only for a single block, whose last doc is not stored
		return p.exhaust()
	}
	p.i = i
	p.doc = p.docs[i]
	return p.doc
}

func (p *Postings) exhaust() uint32 {
	p.doc = NoMoreDocs
	p.decoded = false
	p.block = p.nblocks
	return p.doc
}

// ShallowAdvance returns the block that would hold target without
// decoding it: its last doc and impacts. ok is false when target is past
// the last posting. A single-block term reports impacts of tf
// math.MaxUint32 and norm 0 (no stored bound).
func (p *Postings) ShallowAdvance(target uint32) (lastDoc uint32, imp Impacts, ok bool) {
	b := max(p.block, 0)
	if p.sb > b && p.blockLastDoc(p.sb-1) < target {
		b = p.sb
	}
	for b < p.nblocks && p.blockLastDoc(b) < target {
		b++
	}
	p.sb = b
	if b >= p.nblocks {
		return NoMoreDocs, Impacts{}, false
	}
	h := p.header(b)
	return h.lastDoc, h.impacts(), true
}
