// Package bm25 is irflow's on-disk inverted index for BM25: a sorted term
// dictionary, postings in bit-packed blocks of 128 with per-block score
// bounds, Lucene-compatible one-byte length norms and the external document
// id table. Build writes it with bounded memory (sorted runs spilled to a
// checkpoint directory and merged, resumable after a crash); Open maps it
// into memory for searching. Scoring lives in package search/bm25.
//
// Files of an index directory (all little-endian, see docs/bm25.md):
//
//	meta.json     format version, documents, per-field statistics, analyzer
//	dict.bin      the term dictionary: keys (a field byte, then the term)
//	              in byte order, in groups of dictGroupSize front-coded,
//	              varint entries
//	dictidx.bin   per group: its offset in dict.bin and its first term's
//	              postings and block numbers (binary search runs on groups)
//	blocks.bin    a blockHeaderSize header per postings block of terms with
//	              more than one block (single-block terms keep theirs inline)
//	postings.bin  bit-packed doc gaps and term frequencies, then padding
//	norms.bin     one Lucene norm byte per (field, document), field-major
//	ids.bin       external document ids, concatenated
//	idoffs.bin    numDocs+1 uint32 offsets into ids.bin
//	idrank.bin    per document, the rank of its id in byte order (ties in
//	              score are broken by external id, as Anserini does)
package bm25

import (
	"encoding/binary"
)

// BlockSize is the number of postings in one compressed block. Each block
// stores doc-id gaps and term frequencies bit-packed at the width of its
// largest value (package index/internal/bitpack), so a reader decodes 128
// postings with a tight loop and can skip whole blocks through their
// headers without decoding them.
const BlockSize = 128

// FormatName and FormatVersion identify the on-disk layout; Open refuses
// others.
const (
	FormatName    = "irflow-bm25"
	FormatVersion = 3
)

// File names inside an index directory.
const (
	metaFile     = "meta.json"
	dictFile     = "dict.bin"
	dictIdxFile  = "dictidx.bin"
	blocksFile   = "blocks.bin"
	postingsFile = "postings.bin"
	normsFile    = "norms.bin"
	idsFile      = "ids.bin"
	idOffsFile   = "idoffs.bin"
	idRankFile   = "idrank.bin"
)

// Meta is meta.json: what a reader needs to interpret the files and what a
// searcher needs to score like Lucene.
type Meta struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	NumDocs int          `json:"num_docs"`
	Fields  []FieldStats `json:"fields"`
	// Analyzer is the identity of the text analysis the documents went
	// through; queries must be analysed the same way.
	Analyzer string `json:"analyzer"`
	// AnalyzerConfig lets a searcher re-create that analyzer.
	AnalyzerConfig map[string]any `json:"analyzer_config,omitempty"`
}

// FieldStats are Lucene's CollectionStatistics for one field.
type FieldStats struct {
	Name string `json:"name"`
	// DocCount counts documents with at least one token in the field.
	DocCount int64 `json:"doc_count"`
	// SumTotalTermFreq is the number of tokens in the field over all documents.
	SumTotalTermFreq int64 `json:"sum_total_term_freq"`
	SumDocFreq       int64 `json:"sum_doc_freq"`
	NumTerms         int64 `json:"num_terms"`
}

// dictGroupSize terms share one dictidx.bin record; a lookup binary
// searches the groups, then decodes at most this many entries.
const dictGroupSize = 32

// dictIdxSize is the size of a dictidx.bin record: dictOff, postOff,
// blockOff (uint64 each).
const dictIdxSize = 24

// A dict.bin entry is:
//
//	uvarint prefixLen   bytes shared with the previous key of the group (0 for the first)
//	uvarint suffixLen, suffix bytes
//	uvarint docFreq
//	uvarint postLen     bytes of the term in postings.bin (terms follow each other)
//	if docFreq ≤ BlockSize (one block, no header in blocks.bin):
//	    byte docBits, byte tfBits
//	else (ceil(docFreq/BlockSize) headers in blocks.bin, numbered in term order):
//	    uvarint maxTF, byte minNorm   (bounds over all the term's documents)
//
// A single-block term has no stored score bound; readers report
// MaxTF = math.MaxUint32 and MinNorm = 0, whose BM25 bound is the term's
// weight (BM25 saturates there), like Lucene for short postings lists.
type termEntry struct {
	docFreq          uint32
	postOff, postLen uint64
	blockOff         uint64
	docBits, tfBits  uint8 // single block
	maxTF            uint32
	minNorm          uint8
}

func (e *termEntry) single() bool { return e.docFreq <= BlockSize }

// blockHeader layout (blockHeaderSize bytes):
//
//	0  lastDoc  uint32  last document id in the block
//	4  dataOff  uint32  offset of the block's data from the term's postOff
//	8  maxTF    uint32  largest frequency in the block
//	12 minNorm  uint8   smallest norm byte in the block (shortest document)
//	13 docBits  uint8   width of the packed doc gaps
//	14 tfBits   uint8   width of the packed frequencies minus one
//	15 count    uint8   postings in the block (1..128)
//	16 tf0      uint16  \ the block's impacts: three (tf, norm) pairs
//	18 tf1      uint16  | (tf0, minNorm), (tf1, norm1), (maxTF, norm2)
//	20 norm1    uint8   | such that every posting has tf ≤ and norm ≥
//	21 norm2    uint8   / those of one of them; tf 0xFFFF means maxTF
//
// Block data is count doc gaps (the first relative to the previous block's
// lastDoc+1, or to 0; then doc[i]-doc[i-1]-1) followed by count
// frequencies minus one.
const blockHeaderSize = 22

type blockHeader struct {
	lastDoc, dataOff, maxTF         uint32
	minNorm, docBits, tfBits, count uint8
	tf0, tf1                        uint32
	norm1, norm2                    uint8
}

// satTF is the stored form of an impact's tf: 0xFFFF (read back as the
// block's maxTF, still an upper bound) when it does not fit.
func satTF(tf uint32) uint16 { return uint16(min(tf, 0xFFFF)) }

func (h *blockHeader) put(b []byte) {
	binary.LittleEndian.PutUint32(b[0:], h.lastDoc)
	binary.LittleEndian.PutUint32(b[4:], h.dataOff)
	binary.LittleEndian.PutUint32(b[8:], h.maxTF)
	b[12], b[13], b[14], b[15] = h.minNorm, h.docBits, h.tfBits, h.count
	binary.LittleEndian.PutUint16(b[16:], satTF(h.tf0))
	binary.LittleEndian.PutUint16(b[18:], satTF(h.tf1))
	b[20], b[21] = h.norm1, h.norm2
}

func getBlockHeader(b []byte) blockHeader {
	h := blockHeader{
		lastDoc: binary.LittleEndian.Uint32(b[0:]),
		dataOff: binary.LittleEndian.Uint32(b[4:]),
		maxTF:   binary.LittleEndian.Uint32(b[8:]),
		minNorm: b[12], docBits: b[13], tfBits: b[14], count: b[15],
		tf0:   uint32(binary.LittleEndian.Uint16(b[16:])),
		tf1:   uint32(binary.LittleEndian.Uint16(b[18:])),
		norm1: b[20], norm2: b[21],
	}
	if h.tf0 == 0xFFFF {
		h.tf0 = h.maxTF
	}
	if h.tf1 == 0xFFFF {
		h.tf1 = h.maxTF
	}
	return h
}

// Impact is a (term frequency, norm byte) pair: a BM25 score bound for
// every posting with at most that frequency and at least that norm (a
// document at least as long), whatever k1, b and the field's average
// length (Lucene's impacts).
type Impact struct {
	TF   uint32
	Norm byte
}

// Impacts bound the postings of one block: each is dominated by one of
// them.
type Impacts [3]Impact

func (h *blockHeader) impacts() Impacts {
	return Impacts{{h.tf0, h.minNorm}, {h.tf1, h.norm1}, {h.maxTF, h.norm2}}
}
