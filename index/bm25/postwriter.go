package bm25

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/irflow/irflow/index/internal/bitpack"
)

// postingsWriter turns one term's (doc, tf) stream, in increasing doc
// order, into blocks of postings.bin and headers of blocks.bin. The first
// block's header is held back: a term with a single block keeps its
// header in the dictionary instead.
type postingsWriter struct {
	postings *bufio.Writer
	blocks   *bufio.Writer
	norms    []byte // this field's norms, for the per-block minimum
	// lengthWeight[norm] ∝ 1/((1−b)+b·length/avgdl) at Lucene's default
	// b: it only chooses how a block's impacts are merged into three.
	lengthWeight [256]float32

	postOff  uint64 // bytes written to postings.bin
	blockOff uint64 // headers written to blocks.bin

	// current term
	docs, tfs [BlockSize]uint32
	n         int
	nblocks   int
	first     blockHeader // header of the first block, written once a second exists
	prevLast  int64       // last doc of the previous block, -1 at term start
	lastDoc   int64
	entry     termEntry
	totalTF   uint64 // occurrences of the current term

	buf []byte
	hdr [blockHeaderSize]byte
}

// startField prepares the writer for the terms of one field.
func (w *postingsWriter) startField(norms []byte) {
	w.norms = norms
	var sum float64
	var n int
	for _, nb := range norms {
		if nb != 0 {
			sum += float64(LengthTable[nb])
			n++
		}
	}
	avgdl := float32(1)
	if n > 0 {
		avgdl = float32(sum / float64(n))
	}
	const b = 0.4
	for i := range w.lengthWeight {
		w.lengthWeight[i] = 1 / ((1 - b) + b*LengthTable[i]/avgdl)
	}
}

func (w *postingsWriter) startTerm() {
	w.n, w.nblocks = 0, 0
	w.prevLast, w.lastDoc = -1, -1
	w.entry = termEntry{postOff: w.postOff, blockOff: w.blockOff, minNorm: 255}
	w.totalTF = 0
}

func (w *postingsWriter) add(doc, tf uint32) error {
	if int64(doc) <= w.lastDoc {
		return fmt.Errorf("bm25: postings out of order (doc %d after %d)", doc, w.lastDoc)
	}
	if tf == 0 {
		return fmt.Errorf("bm25: zero term frequency for doc %d", doc)
	}
	w.lastDoc = int64(doc)
	w.docs[w.n], w.tfs[w.n] = doc, tf
	w.n++
	w.entry.docFreq++
	w.totalTF += uint64(tf)
	if tf > w.entry.maxTF {
		w.entry.maxTF = tf
	}
	if w.n == BlockSize {
		return w.flushBlock()
	}
	return nil
}

func (w *postingsWriter) writeHeader(h *blockHeader) error {
	h.put(w.hdr[:])
	_, err := w.blocks.Write(w.hdr[:])
	w.blockOff++
	return err
}

func (w *postingsWriter) flushBlock() error {
	n := w.n
	if n == 0 {
		return nil
	}
	h := blockHeader{lastDoc: w.docs[n-1], dataOff: uint32(w.postOff - w.entry.postOff), count: uint8(n), minNorm: 255}
	var gaps, tfm [BlockSize]uint32
	bitpack.Gaps(gaps[:n], w.docs[:n], uint32(w.prevLast+1))
	for i := 0; i < n; i++ {
		tfm[i] = w.tfs[i] - 1
		if w.tfs[i] > h.maxTF {
			h.maxTF = w.tfs[i]
		}
		if nb := w.norms[w.docs[i]]; nb < h.minNorm {
			h.minNorm = nb
		}
	}
	w.setImpacts(&h, n)
	h.docBits = bitpack.Width(gaps[:n])
	h.tfBits = bitpack.Width(tfm[:n])
	w.buf = bitpack.Pack(w.buf[:0], gaps[:n], h.docBits)
	w.buf = bitpack.Pack(w.buf, tfm[:n], h.tfBits)
	if _, err := w.postings.Write(w.buf); err != nil {
		return err
	}
	w.postOff += uint64(len(w.buf))
	switch w.nblocks {
	case 0:
		w.first = h
	case 1:
		if err := w.writeHeader(&w.first); err != nil {
			return err
		}
		fallthrough
	default:
		if err := w.writeHeader(&h); err != nil {
			return err
		}
	}
	w.nblocks++
	if h.minNorm < w.entry.minNorm {
		w.entry.minNorm = h.minNorm
	}
	w.prevLast = int64(w.docs[n-1])
	w.n = 0
	return nil
}

// finishTerm flushes the last partial block and returns the term's entry.
func (w *postingsWriter) finishTerm() (termEntry, error) {
	if err := w.flushBlock(); err != nil {
		return termEntry{}, err
	}
	w.entry.postLen = w.postOff - w.entry.postOff
	if w.entry.postLen > 1<<32-1 {
		return termEntry{}, fmt.Errorf("bm25: postings of one term exceed 4 GiB")
	}
	if w.entry.single() {
		w.entry.docBits, w.entry.tfBits = w.first.docBits, w.first.tfBits
	}
	return w.entry, nil
}

// dictWriter writes dict.bin and dictidx.bin.
type dictWriter struct {
	dict, idx *bufio.Writer
	off       uint64 // bytes written to dict.bin
	n         int    // terms written
	prevKey   []byte
	buf       []byte
}

func (d *dictWriter) add(key []byte, e *termEntry) error {
	if d.n%dictGroupSize == 0 {
		var rec [dictIdxSize]byte
		binary.LittleEndian.PutUint64(rec[0:], d.off)
		binary.LittleEndian.PutUint64(rec[8:], e.postOff)
		binary.LittleEndian.PutUint64(rec[16:], e.blockOff)
		if _, err := d.idx.Write(rec[:]); err != nil {
			return err
		}
		d.prevKey = d.prevKey[:0]
	}
	prefix := 0
	for prefix < len(key) && prefix < len(d.prevKey) && key[prefix] == d.prevKey[prefix] {
		prefix++
	}
	b := d.buf[:0]
	b = binary.AppendUvarint(b, uint64(prefix))
	b = binary.AppendUvarint(b, uint64(len(key)-prefix))
	b = append(b, key[prefix:]...)
	b = binary.AppendUvarint(b, uint64(e.docFreq))
	b = binary.AppendUvarint(b, e.postLen)
	if e.single() {
		b = append(b, e.docBits, e.tfBits)
	} else {
		b = binary.AppendUvarint(b, uint64(e.maxTF))
		b = append(b, e.minNorm)
	}
	d.buf = b
	if _, err := d.dict.Write(b); err != nil {
		return err
	}
	d.off += uint64(len(b))
	d.prevKey = append(d.prevKey[:0], key...)
	d.n++
	return nil
}

// setImpacts stores the block's impacts: the Pareto frontier of its
// (tf, norm) pairs (no other posting has a higher tf and a lower norm),
// merged into three consecutive groups, each bounded by (its largest tf,
// its smallest norm). The split minimises the largest group bound at
// Lucene's default b; any split is a valid bound.
func (w *postingsWriter) setImpacts(h *blockHeader, n int) {
	var pairs [BlockSize]Impact
	for i := 0; i < n; i++ {
		pairs[i] = Impact{w.tfs[i], w.norms[w.docs[i]]}
	}
	ps := pairs[:n]
	slices.SortFunc(ps, func(a, b Impact) int {
		if a.Norm != b.Norm {
			return cmp.Compare(a.Norm, b.Norm)
		}
		return cmp.Compare(b.TF, a.TF)
	})
	front := ps[:0]
	for _, p := range ps { // ascending norm: keep each that raises the tf
		if len(front) == 0 || p.TF > front[len(front)-1].TF {
			front = append(front, p)
		}
	}
	r := len(front)
	bound := func(lo, hi int) float32 { // group front[lo..hi]
		return float32(front[hi].TF) * w.lengthWeight[front[lo].Norm]
	}
	// Groups [0..i], [i+1..j], [j+1..r-1]; with r ≤ 3 each pair is its own.
	bi, bj := min(0, r-1), min(1, r-1)
	if r > 3 {
		best := float32(math.Inf(1))
		for i := 0; i < r-2; i++ {
			for j := i + 1; j < r-1; j++ {
				if m := max(bound(0, i), bound(i+1, j), bound(j+1, r-1)); m < best {
					best, bi, bj = m, i, j
				}
			}
		}
	}
	// A group starts after the previous one ends (clamped: with r < 3 the
	// later groups repeat the last pair).
	h.tf0, h.tf1 = front[bi].TF, front[bj].TF
	h.norm1, h.norm2 = front[min(bi+1, r-1)].Norm, front[min(bj+1, r-1)].Norm
}
