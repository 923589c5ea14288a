// Package sparse is irflow's impact inverted index for learned sparse
// retrieval (SPLADE and the like; Lightning IR's TorchSparse index): each
// document is a sparse vector over a fixed vocabulary of term ids, stored
// as postings of (document, weight) in bit-packed blocks of 128 whose
// headers hold the block's largest weight, so that search/sparse can skip
// blocks that cannot reach the top k. Weights are either quantised to
// integers, round(w·Scale) (Anserini's and PISA's impact indexes), or kept
// as exact float32 values.
//
// Build writes an index with bounded memory (postings spill to sorted runs
// that are merged at the end); Open maps it into memory. The files of an
// index directory (all little-endian, see docs/neural-retrieval.md):
//
//	meta.json     Meta: format, counts, scale, size and CRC-32C of each file
//	terms.bin     per vocabulary id: postings offset (uint64), first block,
//	              document frequency, largest value (uint32 each)
//	blocks.bin    per block: last document, data offset from the term's
//	              postings offset, largest value (uint32 each), then the
//	              widths of doc gaps and values and the posting count
//	postings.bin  per block: doc gaps, then values, bit-packed; 8 bytes of
//	              padding at the end
//	ids.bin       external document ids, concatenated
//	idoffs.bin    NumDocs+1 uint64 offsets into ids.bin
package sparse

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Format is the version of the on-disk layout; Open refuses others. Bump
// it when the layout changes.
const Format = 1

// Kind names the index type in meta.json.
const Kind = "irflow-sparse"

// BlockSize is the number of postings in one compressed block.
const BlockSize = 128

// MaxVocabSize bounds BuildOptions.VocabSize: the builder keeps a table
// entry per vocabulary id, and terms.bin has one record per id.
const MaxVocabSize = 1 << 24

// File names inside an index directory.
const (
	metaFile     = "meta.json"
	termsFile    = "terms.bin"
	blocksFile   = "blocks.bin"
	postingsFile = "postings.bin"
	idsFile      = "ids.bin"
	idOffsFile   = "idoffs.bin"
)

// Meta is meta.json.
type Meta struct {
	Kind   string `json:"kind"`
	Format int    `json:"format"`
	// NumDocs counts every document of the input, including those whose
	// weights were all dropped (they exist but never match).
	NumDocs   int `json:"num_docs"`
	VocabSize int `json:"vocab_size"`
	// Scale is the quantisation: a weight w is stored as round(w·Scale);
	// 0 means float32 weights are stored exactly.
	Scale       float64 `json:"scale"`
	NumPostings int64   `json:"num_postings"`
	// NumTerms counts vocabulary ids with at least one posting.
	NumTerms  int   `json:"num_terms"`
	NumBlocks int64 `json:"num_blocks"`
	// DroppedWeights counts input weights that were 0 or quantised to 0.
	DroppedWeights int64 `json:"dropped_weights"`
	// MaxValue is the largest stored value: an integer impact, or a float32
	// weight when Scale is 0.
	MaxValue float64 `json:"max_value"`
	// Files holds the size and CRC-32C (Castagnoli) of every data file.
	Files map[string]FileSum `json:"files"`
}

// FileSum is the size and checksum of one index file.
type FileSum struct {
	Size  int64  `json:"size"`
	CRC32 uint32 `json:"crc32c"`
}

// Quantized reports whether the index stores integer impacts.
func (m *Meta) Quantized() bool { return m.Scale != 0 }

// termRecord is one terms.bin entry (termRecordSize bytes).
type termRecord struct {
	postOff    uint64 // offset of the term's first block in postings.bin
	firstBlock uint32 // number of its first header in blocks.bin
	df         uint32 // postings; 0 for ids without any
	max        uint32 // largest value of the term
}

const termRecordSize = 20

func (r *termRecord) put(b []byte) {
	binary.LittleEndian.PutUint64(b[0:], r.postOff)
	binary.LittleEndian.PutUint32(b[8:], r.firstBlock)
	binary.LittleEndian.PutUint32(b[12:], r.df)
	binary.LittleEndian.PutUint32(b[16:], r.max)
}

func getTermRecord(b []byte) termRecord {
	return termRecord{
		postOff:    binary.LittleEndian.Uint64(b[0:]),
		firstBlock: binary.LittleEndian.Uint32(b[8:]),
		df:         binary.LittleEndian.Uint32(b[12:]),
		max:        binary.LittleEndian.Uint32(b[16:]),
	}
}

// A blocks.bin header is blockWords uint32s:
//
//	0 lastDoc   last document of the block
//	1 dataOff   offset of the block's data from the term's postOff
//	2 max       largest value in the block (its score bound)
//	3 shape     docBits | valBits<<8 | count<<16 (count 1..BlockSize)
//
// Block data is count doc gaps (bitpack.Gaps, from the previous block's
// lastDoc+1 or 0) at docBits, then count values at valBits.
const (
	blockWords      = 4
	blockHeaderSize = 4 * blockWords
)

type blockHeader struct {
	lastDoc, dataOff, max   uint32
	docBits, valBits, count uint8
}

func (h *blockHeader) put(b []byte) {
	binary.LittleEndian.PutUint32(b[0:], h.lastDoc)
	binary.LittleEndian.PutUint32(b[4:], h.dataOff)
	binary.LittleEndian.PutUint32(b[8:], h.max)
	binary.LittleEndian.PutUint32(b[12:], uint32(h.docBits)|uint32(h.valBits)<<8|uint32(h.count)<<16)
}

func headerAt(w []uint32, b int) blockHeader {
	s := w[b*blockWords+3]
	return blockHeader{lastDoc: w[b*blockWords], dataOff: w[b*blockWords+1], max: w[b*blockWords+2],
		docBits: uint8(s), valBits: uint8(s >> 8), count: uint8(s >> 16)}
}

// Doc is one document's sparse vector: Terms are strictly increasing
// vocabulary ids, Weights their weights (> 0; zeros are skipped).
type Doc struct {
	ID      string
	Terms   []uint32
	Weights []float32
}

// Quantize is the stored value of a weight w > 0 at scale: round(w·scale)
// computed in float64, half to even (Python's round and numpy's, which
// Pyserini's and irflow's SPLADE oracles use), for scale > 0; w's float32 bits for scale 0
// (positive floats order like their bits, so the largest value is the
// largest weight either way). ok is false when the weight is dropped
// (it rounds to 0); err reports a value beyond 2^32−1.
func Quantize(w float32, scale float64) (v uint32, ok bool, err error) {
	if scale == 0 {
		return math.Float32bits(w), w > 0, nil
	}
	r := math.RoundToEven(float64(w) * scale)
	if r > math.MaxUint32 {
		return 0, false, fmt.Errorf("weight %v × scale %v = %v does not fit 32 bits", w, scale, r)
	}
	return uint32(r), r > 0, nil
}

// CheckVector validates one sparse vector as Build does for documents and
// search/sparse for queries: as many weights as terms, terms strictly
// increasing and below vocab, weights finite and ≥ 0. what names the vector
// in errors (called only on error).
func CheckVector(terms []uint32, weights []float32, vocab int, what func() string) error {
	if len(terms) != len(weights) {
		return fmt.Errorf("sparse: %s has %d terms but %d weights", what(), len(terms), len(weights))
	}
	for i, t := range terms {
		if int64(t) >= int64(vocab) {
			return fmt.Errorf("sparse: %s: term %d at position %d is not below the vocabulary size %d", what(), t, i, vocab)
		}
		if i > 0 && t <= terms[i-1] {
			return fmt.Errorf("sparse: %s: terms must be strictly increasing, but term %d at position %d follows %d", what(), t, i, terms[i-1])
		}
		if w := weights[i]; !(w >= 0) || math.IsInf(float64(w), 1) {
			return fmt.Errorf("sparse: %s: weight %v of term %d at position %d is not a finite number ≥ 0", what(), w, t, i)
		}
	}
	return nil
}
