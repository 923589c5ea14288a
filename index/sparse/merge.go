package sparse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/irflow/irflow/index/internal/bitpack"
	"github.com/irflow/irflow/index/internal/mmapfile"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sumFile is an index file being written, with its size and CRC-32C.
type sumFile struct {
	name string
	f    *os.File
	w    *bufio.Writer
	crc  hash.Hash32
	size int64
}

func createSum(dir, name string) (*sumFile, error) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	return &sumFile{name: name, f: f, w: bufio.NewWriterSize(f, 1<<20), crc: crc32.New(castagnoli)}, nil
}

func (s *sumFile) Write(b []byte) (int, error) {
	s.crc.Write(b)
	s.size += int64(len(b))
	return s.w.Write(b)
}

// close flushes and syncs the file and records its sum in m.
func (s *sumFile) close(m *Meta) error {
	err := s.w.Flush()
	if serr := s.f.Sync(); err == nil {
		err = serr
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	m.Files[s.name] = FileSum{Size: s.size, CRC32: s.crc.Sum32()}
	return err
}

// postingsWriter turns one term's (doc, value) stream, in increasing doc
// order, into blocks of postings.bin and headers of blocks.bin.
type postingsWriter struct {
	postings, blocks *sumFile
	postOff          uint64 // bytes written to postings.bin
	nblocks          uint32 // headers written to blocks.bin

	// current term
	docs, vals [BlockSize]uint32
	n          int
	prevLast   int64 // last doc of the previous block, -1 at term start
	rec        termRecord
	err        error

	buf []byte
	hdr [blockHeaderSize]byte
}

func (w *postingsWriter) startTerm() {
	w.n, w.prevLast = 0, -1
	w.rec = termRecord{postOff: w.postOff, firstBlock: w.nblocks}
}

func (w *postingsWriter) add(doc, val uint32) {
	if w.n > 0 && doc <= w.docs[w.n-1] || w.n == 0 && int64(doc) <= w.prevLast {
		if w.err == nil {
			w.err = fmt.Errorf("sparse: postings out of order (document %d)", doc)
		}
		return
	}
	w.docs[w.n], w.vals[w.n] = doc, val
	w.n++
	if w.n == BlockSize {
		w.flushBlock()
	}
}

func (w *postingsWriter) flushBlock() {
	n := w.n
	if n == 0 || w.err != nil {
		return
	}
	h := blockHeader{lastDoc: w.docs[n-1], dataOff: uint32(w.postOff - w.rec.postOff), count: uint8(n)}
	if w.postOff-w.rec.postOff > math.MaxUint32 {
		w.err = fmt.Errorf("sparse: the postings of one term exceed 4 GiB")
		return
	}
	var gaps [BlockSize]uint32
	bitpack.Gaps(gaps[:n], w.docs[:n], uint32(w.prevLast+1))
	h.max = slices.Max(w.vals[:n])
	h.docBits = bitpack.Width(gaps[:n])
	h.valBits = bitpack.Width(w.vals[:n])
	w.buf = bitpack.Pack(w.buf[:0], gaps[:n], h.docBits)
	w.buf = bitpack.Pack(w.buf, w.vals[:n], h.valBits)
	if _, err := w.postings.Write(w.buf); err != nil {
		w.err = err
		return
	}
	w.postOff += uint64(len(w.buf))
	h.put(w.hdr[:])
	if _, err := w.blocks.Write(w.hdr[:]); err != nil {
		w.err = err
		return
	}
	w.nblocks++
	w.rec.df += uint32(n)
	w.rec.max = max(w.rec.max, h.max)
	w.prevLast = int64(h.lastDoc)
	w.n = 0
}

// finishTerm flushes the last partial block and returns the term's record.
func (w *postingsWriter) finishTerm() (termRecord, error) {
	w.flushBlock()
	return w.rec, w.err
}

// DuplicateIDError reports two documents with the same external id;
// First and Second count documents from 0 in input order.
type DuplicateIDError struct {
	ID            string
	First, Second int
}

func (e *DuplicateIDError) Error() string {
	return fmt.Sprintf("sparse: duplicate document id %q (documents #%d and #%d of the input, counting from 0)", e.ID, e.First, e.Second)
}

// merge combines the runs (in document order) into the index files in dir
// and writes meta.json last, so a directory without it is no index.
func merge(ctx context.Context, runs []string, dir string, m *Meta) error {
	readers := make([]*runReader, 0, len(runs))
	defer func() {
		for _, rr := range readers {
			rr.close()
		}
	}()
	var idBlob []byte
	idOffs := []uint64{0}
	for _, path := range runs {
		rr, err := openRun(path)
		if err != nil {
			return err
		}
		readers = append(readers, rr)
		if rr.docStart != len(idOffs)-1 {
			return rr.corrupt(fmt.Errorf("starts at document %d, want %d", rr.docStart, len(idOffs)-1))
		}
		if err := rr.readIDs(func(id []byte) {
			idBlob = append(idBlob, id...)
			idOffs = append(idOffs, uint64(len(idBlob)))
		}); err != nil {
			return err
		}
	}
	m.NumDocs = len(idOffs) - 1
	if err := checkDuplicates(idBlob, idOffs); err != nil {
		return err
	}
	m.Files = map[string]FileSum{}
	offs := make([]byte, 8*len(idOffs))
	for i, o := range idOffs {
		binary.LittleEndian.PutUint64(offs[8*i:], o)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{idsFile, idBlob}, {idOffsFile, offs}} {
		sf, err := createSum(dir, f.name)
		if err != nil {
			return err
		}
		sf.Write(f.data)
		if err := sf.close(m); err != nil {
			return err
		}
	}
	idBlob, idOffs, offs = nil, nil, nil

	var files [3]*sumFile
	for i, name := range []string{termsFile, blocksFile, postingsFile} {
		sf, err := createSum(dir, name)
		if err != nil {
			return err
		}
		defer sf.f.Close()
		files[i] = sf
	}
	terms := files[0]
	pw := &postingsWriter{blocks: files[1], postings: files[2]}
	for _, rr := range readers {
		if err := rr.nextTerm(); err != nil {
			return err
		}
	}
	floats := !m.Quantized()
	var rec [termRecordSize]byte
	for t := 0; t < m.VocabSize; t++ {
		if t%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		pw.startTerm()
		for _, rr := range readers {
			if rr.ended || int(rr.term) != t {
				continue
			}
			if err := rr.postings(pw, floats); err != nil {
				return err
			}
			if err := rr.nextTerm(); err != nil {
				return err
			}
			if !rr.ended && int(rr.term) <= t {
				return rr.corrupt(fmt.Errorf("term %d follows term %d", rr.term, t))
			}
		}
		r, err := pw.finishTerm()
		if err != nil {
			return err
		}
		if r.df > 0 {
			m.NumTerms++
			m.NumPostings += int64(r.df)
			m.MaxValue = max(m.MaxValue, valueOf(r.max, floats))
		}
		r.put(rec[:])
		terms.Write(rec[:])
	}
	for _, rr := range readers {
		if !rr.ended {
			return rr.corrupt(fmt.Errorf("term %d is not below the vocabulary size %d", rr.term, m.VocabSize))
		}
	}
	m.NumBlocks = int64(pw.nblocks)
	if _, err := files[2].Write(make([]byte, bitpack.Padding)); err != nil {
		return err
	}
	for _, sf := range files {
		if err := sf.close(m); err != nil {
			return err
		}
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return mmapfile.WriteSynced(filepath.Join(dir, metaFile), append(mb, '\n'))
}

// valueOf is a stored value as a number: the impact, or the float32 weight.
func valueOf(v uint32, floats bool) float64 {
	if floats {
		return float64(math.Float32frombits(v))
	}
	return float64(v)
}

// checkDuplicates sorts the ids (by a permutation) and reports the first
// two equal ones.
func checkDuplicates(blob []byte, offs []uint64) error {
	n := len(offs) - 1
	id := func(i uint32) []byte { return blob[offs[i]:offs[i+1]] }
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int {
		if c := bytes.Compare(id(a), id(b)); c != 0 {
			return c
		}
		return int(a) - int(b)
	})
	for i := 1; i < n; i++ {
		if bytes.Equal(id(order[i-1]), id(order[i])) {
			return &DuplicateIDError{ID: string(id(order[i])), First: int(order[i-1]), Second: int(order[i])}
		}
	}
	return nil
}
