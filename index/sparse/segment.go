package sparse

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
)

// segment holds the postings of documents [start, start+numDocs) in memory
// until they are spilled as a run. Postings live in one arena allocated
// once for the whole build: each term owns a chain of chunks (32 bytes,
// doubling up to 8 KiB) carved from it, so the heap neither grows by
// copying nor churns, and the memory used is the arena whatever the corpus.
//
// A term's postings are (uvarint gap from the previous document + 1, or
// from start; value) pairs. The value is a uvarint (integer impacts) or 4
// little-endian bytes (float32 bits).
type segment struct {
	start  int
	ids    []byte   // external ids, concatenated
	idEnds []uint32 // end of each id in ids
	arena  []byte
	used   int
	terms  []segTerm // per vocabulary id
	active []uint32  // ids with postings in this segment
	floats bool
}

// segTerm is one term's chain. A chunk is an 8-byte header (payload bytes
// used, offset of the next chunk) and its payload.
type segTerm struct {
	head, tail uint32 // first and last chunk (valid when df > 0)
	pos, lim   uint32 // write position and end of the tail chunk
	next       uint32 // doc number (relative to start) the next gap counts from
	df         uint32
	nbytes     uint32 // payload bytes in all chunks
	class      uint8  // size class of the tail chunk
}

const (
	chunkHeader    = 8
	minChunkClass  = 5  // 32 bytes
	maxChunkClass  = 13 // 8 KiB
	maxPostingSize = binary.MaxVarintLen32 * 2
	// maxArena keeps chunk offsets within 32 bits.
	maxArena = 1<<32 - 1
)

func newSegment(arenaSize, vocab int, floats bool) *segment {
	return &segment{arena: make([]byte, arenaSize), terms: make([]segTerm, vocab), floats: floats}
}

func (s *segment) numDocs() int { return len(s.idEnds) }

// reset empties the segment for documents from start on, keeping its
// memory.
func (s *segment) reset(start int) {
	for _, t := range s.active {
		s.terms[t] = segTerm{}
	}
	s.active = s.active[:0]
	s.ids = s.ids[:0]
	s.idEnds = s.idEnds[:0]
	s.used = 0
	s.start = start
}

// room returns the arena bytes that adding a document with these terms
// may take: a new chunk for each term whose tail cannot hold one more
// posting.
func (s *segment) room(terms []uint32) int {
	n := 0
	for _, t := range terms {
		st := &s.terms[t]
		switch {
		case st.df == 0:
			n += 1 << minChunkClass
		case st.lim-st.pos < maxPostingSize:
			n += 1 << min(st.class+1, maxChunkClass)
		}
	}
	return n
}

func (s *segment) fits(terms []uint32, idLen int) bool {
	return s.used+s.room(terms) <= len(s.arena) && len(s.ids)+idLen <= len(s.arena)/8
}

func (s *segment) newChunk(class uint8) uint32 {
	off := uint32(s.used)
	s.used += 1 << class
	binary.LittleEndian.PutUint64(s.arena[off:], 0)
	return off
}

// add appends one document whose postings (terms, values) were checked to
// fit (fits).
func (s *segment) add(id string, terms, vals []uint32) {
	doc := uint32(len(s.idEnds))
	s.ids = append(s.ids, id...)
	s.idEnds = append(s.idEnds, uint32(len(s.ids)))
	for i, t := range terms {
		st := &s.terms[t]
		if st.df == 0 {
			off := s.newChunk(minChunkClass)
			*st = segTerm{head: off, tail: off, pos: off + chunkHeader, lim: off + 1<<minChunkClass, class: minChunkClass}
			s.active = append(s.active, t)
		} else if st.lim-st.pos < maxPostingSize {
			c := min(st.class+1, maxChunkClass)
			off := s.newChunk(c)
			// Seal the tail: its used payload and the link to the new chunk.
			binary.LittleEndian.PutUint32(s.arena[st.tail:], st.pos-st.tail-chunkHeader)
			binary.LittleEndian.PutUint32(s.arena[st.tail+4:], off)
			st.tail, st.pos, st.lim, st.class = off, off+chunkHeader, off+1<<c, c
		}
		b := s.arena[st.pos:st.lim]
		n := binary.PutUvarint(b, uint64(doc-st.next))
		if s.floats {
			binary.LittleEndian.PutUint32(b[n:], vals[i])
			n += 4
		} else {
			n += binary.PutUvarint(b[n:], uint64(vals[i]))
		}
		st.pos += uint32(n)
		st.nbytes += uint32(n)
		st.next = doc + 1
		st.df++
	}
}

// A run file (one spilled segment) is:
//
//	runMagic
//	uvarint docStart, numDocs; then per document uvarint len(id), id
//	uvarint terms; per term in increasing id order:
//	    uvarint id, uvarint df, uvarint bytes, the segment's postings bytes
const runMagic = "IRFSPR01"

// spill writes the segment to the run file path.
func (s *segment) spill(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var vb [binary.MaxVarintLen64]byte
	uv := func(x uint64) { w.Write(vb[:binary.PutUvarint(vb[:], x)]) }
	w.WriteString(runMagic)
	uv(uint64(s.start))
	uv(uint64(len(s.idEnds)))
	prev := uint32(0)
	for _, e := range s.idEnds {
		uv(uint64(e - prev))
		w.Write(s.ids[prev:e])
		prev = e
	}
	slices.Sort(s.active)
	uv(uint64(len(s.active)))
	for _, t := range s.active {
		st := &s.terms[t]
		uv(uint64(t))
		uv(uint64(st.df))
		uv(uint64(st.nbytes))
		for c := st.head; ; {
			if c == st.tail {
				w.Write(s.arena[c+chunkHeader : st.pos])
				break
			}
			n := binary.LittleEndian.Uint32(s.arena[c:])
			w.Write(s.arena[c+chunkHeader : c+chunkHeader+n])
			c = binary.LittleEndian.Uint32(s.arena[c+4:])
		}
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sparse: writing run %s: %w", path, err)
	}
	return nil
}
