package sparse

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// runReader streams one run file: its documents, then its terms in
// increasing id order.
type runReader struct {
	path     string
	f        *os.File
	r        *bufio.Reader
	docStart int
	numDocs  int
	terms    int // terms left to read

	// current term
	term  uint32
	df    uint32
	buf   []byte
	ended bool
}

func openRun(path string) (*runReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	rr := &runReader{path: path, f: f, r: bufio.NewReaderSize(f, 256<<10)}
	magic := make([]byte, len(runMagic))
	if _, err := io.ReadFull(rr.r, magic); err != nil || string(magic) != runMagic {
		f.Close()
		return nil, fmt.Errorf("sparse: %s is not a run file", path)
	}
	var v [2]uint64
	for i := range v {
		if v[i], err = binary.ReadUvarint(rr.r); err != nil {
			f.Close()
			return nil, rr.corrupt(err)
		}
	}
	rr.docStart, rr.numDocs = int(v[0]), int(v[1])
	return rr, nil
}

func (rr *runReader) corrupt(err error) error {
	return fmt.Errorf("sparse: run %s is corrupt: %v", rr.path, err)
}

func (rr *runReader) close() { rr.f.Close() }

// readIDs calls fn with each document id (fn must copy it), then reads the
// number of terms.
func (rr *runReader) readIDs(fn func(id []byte)) error {
	var idb []byte
	for i := 0; i < rr.numDocs; i++ {
		n, err := binary.ReadUvarint(rr.r)
		if err != nil {
			return rr.corrupt(err)
		}
		idb = append(idb[:0], make([]byte, n)...)
		if _, err := io.ReadFull(rr.r, idb); err != nil {
			return rr.corrupt(err)
		}
		fn(idb)
	}
	n, err := binary.ReadUvarint(rr.r)
	if err != nil {
		return rr.corrupt(err)
	}
	rr.terms = int(n)
	return nil
}

// nextTerm loads the next term; at the end it sets ended.
func (rr *runReader) nextTerm() error {
	if rr.terms == 0 {
		rr.ended = true
		return nil
	}
	rr.terms--
	var v [3]uint64
	for i := range v {
		x, err := binary.ReadUvarint(rr.r)
		if err != nil {
			return rr.corrupt(err)
		}
		v[i] = x
	}
	rr.term, rr.df = uint32(v[0]), uint32(v[1])
	if cap(rr.buf) < int(v[2]) {
		rr.buf = make([]byte, v[2])
	}
	rr.buf = rr.buf[:v[2]]
	if _, err := io.ReadFull(rr.r, rr.buf); err != nil {
		return rr.corrupt(err)
	}
	return nil
}

// postings feeds the current term's postings to w.
func (rr *runReader) postings(w *postingsWriter, floats bool) error {
	buf := rr.buf
	doc := uint64(rr.docStart)
	for i := uint32(0); i < rr.df; i++ {
		gap, n := binary.Uvarint(buf)
		if n <= 0 {
			return rr.corrupt(fmt.Errorf("bad posting of term %d", rr.term))
		}
		buf = buf[n:]
		var v uint64
		if floats {
			if len(buf) < 4 {
				return rr.corrupt(fmt.Errorf("bad posting of term %d", rr.term))
			}
			v, n = uint64(binary.LittleEndian.Uint32(buf)), 4
		} else if v, n = binary.Uvarint(buf); n <= 0 {
			return rr.corrupt(fmt.Errorf("bad posting of term %d", rr.term))
		}
		buf = buf[n:]
		doc += gap
		w.add(uint32(doc), uint32(v))
		doc++
	}
	return w.err
}
