package sparse

import (
	"fmt"

	"github.com/irflow/irflow/index/internal/bitpack"
)

// Postings iterates over one term's postings in document order, a block of
// BlockSize at a time. Fill it with Index.Postings; a cursor is not safe
// for concurrent use.
type Postings struct {
	term    uint32
	data    []byte   // postings.bin from the term's first block
	hdr     []uint32 // the term's block headers
	nblocks int

	block   int // decoded block, -1 before the first
	sb      int // block found by the last ShallowAdvance (targets only grow)
	n, i    int // postings in the decoded block, current one
	docs    [BlockSize]uint32
	vals    [BlockSize]uint32
	valsOK  bool   // vals decoded (values are read one at a time until then)
	valData []byte // the block's packed values
	valBits uint8
	doc     uint32
	err     error
}

// Postings positions p on the first posting of term t (Doc is NoMoreDocs
// for a term without postings).
func (ix *Index) Postings(t uint32, p *Postings) {
	*p = Postings{term: t, block: -1}
	df, _ := ix.Term(t)
	if df == 0 {
		p.doc = NoMoreDocs
		return
	}
	r := getTermRecord(ix.terms[int(t)*termRecordSize:])
	p.nblocks = (df + BlockSize - 1) / BlockSize
	p.data = ix.postings[r.postOff:]
	p.hdr = ix.blocks[int(r.firstBlock)*blockWords : (int(r.firstBlock)+p.nblocks)*blockWords]
	p.decode(0)
}

// Err reports damaged postings met so far (wrapping ErrCorrupt); the cursor
// is exhausted then.
func (p *Postings) Err() error { return p.err }

// Doc is the current document (NoMoreDocs when exhausted).
func (p *Postings) Doc() uint32 { return p.doc }

// Value is the stored value of the current posting.
func (p *Postings) Value() uint32 {
	if p.valsOK {
		return p.vals[p.i]
	}
	return bitpack.UnpackOne(p.valData, p.i, p.valBits)
}

func (p *Postings) lastDoc(b int) uint32 { return p.hdr[b*blockWords] }

// BlockMax is the largest value of block b.
func (p *Postings) blockMax(b int) uint32 { return p.hdr[b*blockWords+2] }

// decode loads block b and positions on its first posting. A block whose
// gaps do not end at its header's last document is damaged: the cursor
// records the error and ends.
func (p *Postings) decode(b int) {
	if b >= p.nblocks {
		p.exhaust()
		return
	}
	h := headerAt(p.hdr, b)
	n := int(h.count)
	src := p.data[h.dataOff:]
	bitpack.Unpack(p.docs[:], src, n, h.docBits)
	base := uint32(0)
	if b > 0 {
		base = p.lastDoc(b-1) + 1
	}
	// Undo the gaps in 64 bits, where they cannot wrap: a sum that ends
	// at the header's last document proves every document lies in
	// (previous block's last, this block's last].
	d := uint64(base)
	docs := p.docs[:n]
	for i, g := range docs {
		d += uint64(g)
		docs[i] = uint32(d)
		d++
	}
	if d-1 != uint64(h.lastDoc) {
		p.err = fmt.Errorf("%w: term %d, block %d decodes to document %d, its header says %d", ErrCorrupt, p.term, b, d-1, h.lastDoc)
		p.exhaust()
		return
	}
	p.block, p.n, p.i = b, n, 0
	p.valData = src[bitpack.Len(n, h.docBits):]
	p.valBits = h.valBits
	p.valsOK = false
	p.doc = p.docs[0]
}

func (p *Postings) exhaust() uint32 {
	p.doc = NoMoreDocs
	p.block = p.nblocks
	p.n, p.i = 0, 0
	return p.doc
}

// Next moves to the next posting.
func (p *Postings) Next() uint32 {
	if p.i+1 < p.n {
		p.i++
		p.doc = p.docs[p.i]
		return p.doc
	}
	if p.block >= p.nblocks {
		return p.doc
	}
	p.decode(p.block + 1)
	return p.doc
}

// Advance moves to the first posting with a document ≥ target (it stays
// put when the current one already is).
func (p *Postings) Advance(target uint32) uint32 {
	if p.doc >= target {
		return p.doc
	}
	if p.lastDoc(p.block) < target {
		b := p.block + 1
		if p.sb > b && p.lastDoc(p.sb-1) < target {
			b = p.sb
		}
		for b < p.nblocks && p.lastDoc(b) < target {
			b++
		}
		p.decode(b)
		if p.doc >= target {
			return p.doc
		}
	}
	// The block's last document is ≥ target: a short scan finds it.
	i := p.i
	for p.docs[i] < target {
		i++
	}
	p.i = i
	p.doc = p.docs[i]
	return p.doc
}

// ShallowAdvance returns the last document and the largest value of the
// block that holds target's position, without decoding it; ok is false
// when target is past the last posting.
func (p *Postings) ShallowAdvance(target uint32) (lastDoc, maxValue uint32, ok bool) {
	b := max(p.block, 0)
	if p.sb > b && p.lastDoc(p.sb-1) < target {
		b = p.sb
	}
	for b < p.nblocks && p.lastDoc(b) < target {
		b++
	}
	p.sb = b
	if b >= p.nblocks {
		return NoMoreDocs, 0, false
	}
	return p.lastDoc(b), p.blockMax(b), true
}

// Block returns the rest of the current block from the current posting:
// documents and values (decoded together here, for scoring a run of
// postings). Both are empty when the cursor is exhausted.
func (p *Postings) Block() (docs, vals []uint32) {
	if !p.valsOK && p.n > 0 {
		bitpack.Unpack(p.vals[:], p.valData, p.n, p.valBits)
		p.valsOK = true
	}
	return p.docs[p.i:p.n], p.vals[p.i:p.n]
}

// Consume moves j postings forward within the current block (j at most
// the length Block returned), to the next block's first posting when that
// uses the block up; it returns the new current document.
func (p *Postings) Consume(j int) uint32 {
	p.i += j
	if p.i < p.n {
		p.doc = p.docs[p.i]
		return p.doc
	}
	p.decode(p.block + 1)
	return p.doc
}
