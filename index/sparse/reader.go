package sparse

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"

	"github.com/irflow/irflow/index/internal/bitpack"
	"github.com/irflow/irflow/index/internal/mmapfile"
)

// Index is an opened index. Its methods are safe for concurrent use; the
// Postings cursors they fill are not.
type Index struct {
	dir      string
	meta     Meta
	terms    []byte   // terms.bin
	blocks   []uint32 // blocks.bin, blockWords per block
	postings []byte
	ids      []byte
	idOffs   []byte // uint64 per document + 1
	maps     [][]byte
}

// Open maps the index in dir into memory. It checks meta.json, the size
// of every file, the checksums of all files but postings.bin (Verify reads
// that one too) and the consistency of the term table and every block
// header, so a damaged index is an error here rather than a crash later;
// a damaged postings.bin is reported by the search that decodes it.
func Open(dir string) (*Index, error) {
	mb, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, fmt.Errorf("sparse: open index: %w", err)
	}
	ix := &Index{dir: dir}
	if err := json.Unmarshal(mb, &ix.meta); err != nil {
		return nil, fmt.Errorf("sparse: %s: %w", filepath.Join(dir, metaFile), err)
	}
	m := &ix.meta
	if m.Kind != Kind || m.Format != Format {
		return nil, fmt.Errorf("sparse: %s: index kind %q format %d, want %q format %d", dir, m.Kind, m.Format, Kind, Format)
	}
	if m.NumDocs < 0 || m.NumDocs >= math.MaxUint32 || m.VocabSize <= 0 || m.VocabSize > MaxVocabSize ||
		!(m.Scale >= 0) || math.IsInf(m.Scale, 0) || m.NumBlocks < 0 || m.NumBlocks > math.MaxUint32 {
		return nil, ix.corrupt(metaFile, "implausible counts")
	}
	want := map[string]int64{
		termsFile: termRecordSize * int64(m.VocabSize), blocksFile: blockHeaderSize * m.NumBlocks,
		idOffsFile: 8 * int64(m.NumDocs+1), idsFile: -1, postingsFile: -1,
	}
	var blocks []byte
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{termsFile, &ix.terms}, {blocksFile, &blocks}, {postingsFile, &ix.postings}, {idsFile, &ix.ids}, {idOffsFile, &ix.idOffs}} {
		sum, ok := m.Files[f.name]
		b, err := mmapfile.Map(filepath.Join(dir, f.name))
		if err != nil {
			ix.Close()
			return nil, fmt.Errorf("sparse: open index: %w", err)
		}
		ix.maps = append(ix.maps, b)
		*f.dst = b
		switch {
		case !ok:
			err = ix.corrupt(metaFile, "no entry for "+f.name)
		case int64(len(b)) != sum.Size:
			err = ix.corrupt(f.name, fmt.Sprintf("%d bytes, meta.json says %d (truncated?)", len(b), sum.Size))
		case want[f.name] >= 0 && sum.Size != want[f.name]:
			err = ix.corrupt(f.name, fmt.Sprintf("%d bytes, want %d", sum.Size, want[f.name]))
		case f.name != postingsFile && crc32.Checksum(b, castagnoli) != sum.CRC32:
			err = ix.corrupt(f.name, "checksum mismatch")
		}
		if err != nil {
			ix.Close()
			return nil, err
		}
	}
	ix.blocks = mmapfile.U32s(blocks)
	if err := ix.check(); err != nil {
		ix.Close()
		return nil, err
	}
	return ix, nil
}

func (ix *Index) corrupt(file, what string) error {
	return fmt.Errorf("sparse: index %s is damaged: %s: %s", ix.dir, file, what)
}

// check validates the id offsets, the term table and the block headers
// against each other and the file sizes: everything a cursor relies on to
// stay inside the mapped files.
func (ix *Index) check() error {
	m := &ix.meta
	prev := uint64(0)
	for d := 0; d <= m.NumDocs; d++ {
		o := binary.LittleEndian.Uint64(ix.idOffs[8*d:])
		if o < prev || d == 0 && o != 0 || o > uint64(len(ix.ids)) {
			return ix.corrupt(idOffsFile, fmt.Sprintf("offset %d of document %d", o, d))
		}
		prev = o
	}
	if prev != uint64(len(ix.ids)) {
		return ix.corrupt(idOffsFile, "the last offset is not the end of ids.bin")
	}
	if len(ix.postings) < bitpack.Padding {
		return ix.corrupt(postingsFile, "shorter than its padding")
	}
	dataEnd := uint64(len(ix.postings) - bitpack.Padding)
	var postOff uint64
	var block uint32
	var postings int64
	terms := 0
	for t := 0; t < m.VocabSize; t++ {
		r := getTermRecord(ix.terms[t*termRecordSize:])
		bad := func(what string) error {
			return ix.corrupt(termsFile+"/"+blocksFile, fmt.Sprintf("term %d: %s", t, what))
		}
		if r.postOff != postOff || r.firstBlock != block {
			return bad("postings or blocks do not follow the previous term's")
		}
		if r.df == 0 {
			if r.max != 0 {
				return bad("a maximum without postings")
			}
			continue
		}
		if int(r.df) > m.NumDocs {
			return bad("more postings than documents")
		}
		nb := (r.df + BlockSize - 1) / BlockSize
		if uint64(block)+uint64(nb) > uint64(m.NumBlocks) {
			return bad("blocks beyond blocks.bin")
		}
		lastDoc := int64(-1)
		var data uint64
		var maxVal uint32
		for b := range nb {
			h := headerAt(ix.blocks, int(block+b))
			wantCount := uint32(BlockSize)
			if b == nb-1 {
				wantCount = r.df - BlockSize*(nb-1)
			}
			switch {
			case uint32(h.count) != wantCount:
				return bad(fmt.Sprintf("block %d holds %d postings, want %d", b, h.count, wantCount))
			case h.docBits > 32 || h.valBits > 32:
				return bad(fmt.Sprintf("block %d has bit widths %d and %d", b, h.docBits, h.valBits))
			case int64(h.lastDoc)-lastDoc < int64(h.count) || int(h.lastDoc) >= m.NumDocs:
				return bad(fmt.Sprintf("block %d ends at document %d after %d", b, h.lastDoc, lastDoc))
			case uint64(h.dataOff) != data:
				return bad(fmt.Sprintf("block %d data at %d, want %d", b, h.dataOff, data))
			case h.max == 0:
				return bad(fmt.Sprintf("block %d has maximum 0", b))
			}
			lastDoc = int64(h.lastDoc)
			data += uint64(bitpack.Len(int(h.count), h.docBits) + bitpack.Len(int(h.count), h.valBits))
			maxVal = max(maxVal, h.max)
		}
		if maxVal != r.max {
			return bad(fmt.Sprintf("maximum %d, but its blocks' is %d", r.max, maxVal))
		}
		if postOff+data > dataEnd {
			return bad("postings beyond postings.bin")
		}
		postOff += data
		block += nb
		postings += int64(r.df)
		terms++
	}
	if postOff != dataEnd || int64(block) != m.NumBlocks || postings != m.NumPostings || terms != m.NumTerms {
		return ix.corrupt(termsFile, "the terms' postings and blocks do not add up to the files and meta.json")
	}
	return nil
}

// Verify checks every file's checksum, postings.bin included (Open skips
// it because it is by far the largest).
func (ix *Index) Verify() error {
	if got := crc32.Checksum(ix.postings, castagnoli); got != ix.meta.Files[postingsFile].CRC32 {
		return ix.corrupt(postingsFile, "checksum mismatch")
	}
	return nil
}

// Close unmaps the files. The Index must not be used afterwards.
func (ix *Index) Close() error {
	var first error
	for _, b := range ix.maps {
		if err := mmapfile.Unmap(b); err != nil && first == nil {
			first = err
		}
	}
	ix.maps = nil
	return first
}

// Meta returns the index metadata.
func (ix *Index) Meta() Meta { return ix.meta }

// Dir is the directory the index was opened from.
func (ix *Index) Dir() string { return ix.dir }

// NumDocs is the number of documents.
func (ix *Index) NumDocs() int { return ix.meta.NumDocs }

// DocID returns the external id of document n (0 ≤ n < NumDocs, input
// order).
func (ix *Index) DocID(n int) string {
	a := binary.LittleEndian.Uint64(ix.idOffs[8*n:])
	b := binary.LittleEndian.Uint64(ix.idOffs[8*n+8:])
	return string(ix.ids[a:b])
}

// Term returns the number of postings of vocabulary id t and its largest
// value (0, 0 for an id without postings or beyond the vocabulary).
func (ix *Index) Term(t uint32) (df int, maxValue uint32) {
	if int64(t) >= int64(ix.meta.VocabSize) {
		return 0, 0
	}
	r := getTermRecord(ix.terms[int(t)*termRecordSize:])
	return int(r.df), r.max
}

// Value converts a stored value to the number it stands for: the integer
// impact of a quantised index, else the float32 weight.
func (ix *Index) Value(v uint32) float64 { return valueOf(v, !ix.meta.Quantized()) }

// NoMoreDocs is the document a cursor returns when it is exhausted.
const NoMoreDocs = ^uint32(0)

// ErrCorrupt is wrapped by the error a cursor reports when postings.bin
// does not decode to its block headers.
var ErrCorrupt = errors.New("sparse: postings.bin is damaged")
