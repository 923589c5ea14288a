package bm25

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// segment is the in-memory part of a build: documents [start, start+n)
// inverted into per-field maps of varint-encoded postings.
type segment struct {
	start int
	ids   []string
	norms [][]byte // per field, per document of the segment
	terms []map[string]*segTerm
	bytes int64 // estimated heap use
}

type segTerm struct {
	buf  []byte // uvarint (doc gap, tf) pairs; the first gap is from segment start
	last int    // last document added, -1 if none
	df   uint32
}

// Rough per-entry overheads of Go maps and headers, so the estimate tracks
// the real heap within a small factor.
const (
	segTermOverhead = 96
	segDocOverhead  = 32
)

// newSegment starts a segment at document start. prev, the segment it
// follows (or nil), sizes the maps so that they rarely grow.
func newSegment(start, nfields int, prev *segment) *segment {
	s := &segment{start: start, norms: make([][]byte, nfields), terms: make([]map[string]*segTerm, nfields)}
	for f := range s.terms {
		hint := 0
		if prev != nil {
			hint = len(prev.terms[f])
		}
		s.terms[f] = make(map[string]*segTerm, hint)
	}
	return s
}

func (s *segment) numDocs() int { return len(s.ids) }

func (s *segment) add(d *analyzedDoc) {
	doc := s.start + len(s.ids)
	s.ids = append(s.ids, d.id)
	s.bytes += int64(len(d.id)) + segDocOverhead
	var tmp [2 * binary.MaxVarintLen32]byte
	for f := range d.fields {
		af := &d.fields[f]
		s.norms[f] = append(s.norms[f], EncodeNorm(af.length))
		m := s.terms[f]
		for i, t := range af.terms {
			st := m[t]
			if st == nil {
				st = &segTerm{last: s.start}
				m[t] = st
				s.bytes += int64(len(t)) + segTermOverhead
			}
			n := binary.PutUvarint(tmp[:], uint64(doc-st.last))
			n += binary.PutUvarint(tmp[n:], uint64(af.tfs[i]))
			before := cap(st.buf)
			st.buf = append(st.buf, tmp[:n]...)
			s.bytes += int64(cap(st.buf) - before)
			st.last = doc
			st.df++
		}
	}
}

// run is one sorted run spilled to the checkpoint directory.
type run struct {
	path     string
	docStart int
	numDocs  int
	ids      []string // only while resuming (to verify the input)
}

const runMagic = "IRFRUN01"

func runName(i int) string { return fmt.Sprintf("run-%06d.bin", i) }

// spill writes the segment as run number i: a temporary file, synced and
// renamed, so a run file that exists is always complete.
func (s *segment) spill(dir string, i int) (*run, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, runName(i))
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = s.write(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("bm25: writing run %s: %w", path, err)
	}
	return &run{path: path, docStart: s.start, numDocs: len(s.ids)}, nil
}

func (s *segment) write(w *bufio.Writer) error {
	var vb [binary.MaxVarintLen64]byte
	uv := func(x uint64) { n := binary.PutUvarint(vb[:], x); w.Write(vb[:n]) }
	w.WriteString(runMagic)
	uv(uint64(len(s.norms)))
	uv(uint64(s.start))
	uv(uint64(len(s.ids)))
	for d, id := range s.ids {
		uv(uint64(len(id)))
		w.WriteString(id)
		for f := range s.norms {
			w.WriteByte(s.norms[f][d])
		}
	}
	total := 0
	for _, m := range s.terms {
		total += len(m)
	}
	uv(uint64(total))
	type kv struct {
		term string
		st   *segTerm
	}
	var sorted []kv
	for f, m := range s.terms {
		sorted = sorted[:0]
		for t, st := range m {
			sorted = append(sorted, kv{t, st})
		}
		slices.SortFunc(sorted, func(a, b kv) int { return strings.Compare(a.term, b.term) })
		for _, e := range sorted {
			t, st := e.term, e.st
			w.WriteByte(byte(f))
			uv(uint64(len(t)))
			w.WriteString(t)
			uv(uint64(st.df))
			uv(uint64(len(st.buf)))
			if _, err := w.Write(st.buf); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadRuns finds the completed runs of an interrupted build, in order, and
// reads their document ids. Leftover temporary files are removed.
func loadRuns(dir string, nfields int) ([]*run, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "run-") && strings.HasSuffix(name, ".bin.tmp"):
			os.Remove(filepath.Join(dir, name))
		case strings.HasPrefix(name, "run-") && strings.HasSuffix(name, ".bin"):
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var runs []*run
	next := 0
	for i, name := range names {
		if name != runName(i) {
			return nil, fmt.Errorf("bm25: checkpoint %s: unexpected run %s (want %s); delete the checkpoint directory", dir, name, runName(i))
		}
		rr, err := openRun(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		r := &run{path: rr.path, docStart: rr.docStart, numDocs: rr.numDocs}
		err = rr.readDocs(func(id string, _ []byte) { r.ids = append(r.ids, id) })
		rr.close()
		if err != nil {
			return nil, err
		}
		if rr.nfields != nfields || r.docStart != next {
			return nil, fmt.Errorf("bm25: checkpoint run %s does not continue the previous runs; delete the checkpoint directory", r.path)
		}
		next = r.docStart + r.numDocs
		runs = append(runs, r)
	}
	return runs, nil
}

// runReader streams one run: header, documents, then sorted terms.
type runReader struct {
	path     string
	f        *os.File
	r        *bufio.Reader
	nfields  int
	docStart int
	numDocs  int
	terms    int // terms left to read

	// current term
	field byte
	term  string
	df    uint32
	buf   []byte
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
		return nil, fmt.Errorf("bm25: %s is not a run file", path)
	}
	var vals [3]uint64
	for i := range vals {
		if vals[i], err = binary.ReadUvarint(rr.r); err != nil {
			f.Close()
			return nil, rr.corrupt(err)
		}
	}
	rr.nfields, rr.docStart, rr.numDocs = int(vals[0]), int(vals[1]), int(vals[2])
	return rr, nil
}

func (rr *runReader) corrupt(err error) error {
	return fmt.Errorf("bm25: run %s is corrupt: %v", rr.path, err)
}

func (rr *runReader) close() { rr.f.Close() }

// readDocs calls fn with each document's id and norms (fn must copy them).
func (rr *runReader) readDocs(fn func(id string, norms []byte)) error {
	norms := make([]byte, rr.nfields)
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
		if _, err := io.ReadFull(rr.r, norms); err != nil {
			return rr.corrupt(err)
		}
		fn(string(idb), norms)
	}
	n, err := binary.ReadUvarint(rr.r)
	if err != nil {
		return rr.corrupt(err)
	}
	rr.terms = int(n)
	return nil
}

// nextTerm loads the next term; it returns false at the end.
func (rr *runReader) nextTerm() (bool, error) {
	if rr.terms == 0 {
		return false, nil
	}
	rr.terms--
	fb, err := rr.r.ReadByte()
	if err != nil {
		return false, rr.corrupt(err)
	}
	rr.field = fb
	n, err := binary.ReadUvarint(rr.r)
	if err != nil {
		return false, rr.corrupt(err)
	}
	tb := make([]byte, n)
	if _, err := io.ReadFull(rr.r, tb); err != nil {
		return false, rr.corrupt(err)
	}
	rr.term = string(tb)
	df, err := binary.ReadUvarint(rr.r)
	if err != nil {
		return false, rr.corrupt(err)
	}
	rr.df = uint32(df)
	n, err = binary.ReadUvarint(rr.r)
	if err != nil {
		return false, rr.corrupt(err)
	}
	if cap(rr.buf) < int(n) {
		rr.buf = make([]byte, n)
	}
	rr.buf = rr.buf[:n]
	if _, err := io.ReadFull(rr.r, rr.buf); err != nil {
		return false, rr.corrupt(err)
	}
	return true, nil
}
