package bm25

import (
	"bufio"
	"container/heap"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/irflow/irflow/index/internal/bitpack"
	"github.com/irflow/irflow/index/internal/mmapfile"
)

// outFile is one buffered output file of the index.
type outFile struct {
	f *os.File
	w *bufio.Writer
}

func createOut(dir, name string) (*outFile, error) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	return &outFile{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (o *outFile) close() error {
	err := o.w.Flush()
	if serr := o.f.Sync(); err == nil {
		err = serr
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// runHeap orders run readers by (field, term, run number).
type runHeap []*mergeCursor

type mergeCursor struct {
	rr  *runReader
	idx int
}

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	a, b := h[i].rr, h[j].rr
	if a.field != b.field {
		return a.field < b.field
	}
	if a.term != b.term {
		return a.term < b.term
	}
	return h[i].idx < h[j].idx
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*mergeCursor)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// merge combines the sorted runs into the final index files in outDir.
func merge(ctx context.Context, runs []*run, outDir string, opts BuildOptions) (*Meta, error) {
	nf := len(opts.Fields)
	numDocs := 0
	if len(runs) > 0 {
		last := runs[len(runs)-1]
		numDocs = last.docStart + last.numDocs
	}
	readers := make([]*runReader, len(runs))
	defer func() {
		for _, rr := range readers {
			if rr != nil {
				rr.close()
			}
		}
	}()

	// Documents: ids, norms.
	norms := make([]byte, nf*numDocs)
	idBlob := make([]byte, 0, 16*numDocs)
	idOffs := make([]uint64, 1, numDocs+1)
	for i, r := range runs {
		rr, err := openRun(r.path)
		if err != nil {
			return nil, err
		}
		readers[i] = rr
		if rr.docStart != r.docStart || rr.numDocs != r.numDocs || rr.nfields != nf {
			return nil, fmt.Errorf("bm25: run %s changed during the build", r.path)
		}
		doc := rr.docStart
		err = rr.readDocs(func(id string, nb []byte) {
			idBlob = append(idBlob, id...)
			idOffs = append(idOffs, uint64(len(idBlob)))
			for f := 0; f < nf; f++ {
				norms[f*numDocs+doc] = nb[f]
			}
			doc++
		})
		if err != nil {
			return nil, err
		}
	}
	if err := writeDocTables(outDir, norms, idBlob, idOffs); err != nil {
		return nil, err
	}

	// Terms: k-way merge; equal keys concatenate in run (= doc) order.
	meta := &Meta{Format: FormatName, Version: FormatVersion, NumDocs: numDocs,
		Analyzer: opts.AnalyzerIdentity, AnalyzerConfig: opts.AnalyzerConfig}
	for f, name := range opts.Fields {
		st := FieldStats{Name: name}
		for d := 0; d < numDocs; d++ {
			if norms[f*numDocs+d] != 0 {
				st.DocCount++
			}
		}
		meta.Fields = append(meta.Fields, st)
	}
	var files [4]*outFile
	for i, name := range []string{dictFile, dictIdxFile, postingsFile, blocksFile} {
		o, err := createOut(outDir, name)
		if err != nil {
			return nil, err
		}
		files[i] = o
		defer o.f.Close()
	}
	dict, dictIdx, postings, blocks := files[0], files[1], files[2], files[3]
	pw := &postingsWriter{postings: postings.w, blocks: blocks.w}
	dw := &dictWriter{dict: dict.w, idx: dictIdx.w}

	h := &runHeap{}
	for i, rr := range readers {
		ok, err := rr.nextTerm()
		if err != nil {
			return nil, err
		}
		if ok {
			*h = append(*h, &mergeCursor{rr: rr, idx: i})
		}
	}
	heap.Init(h)
	var key []byte
	nterms := 0
	pwField := -1
	for h.Len() > 0 {
		if nterms%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		nterms++
		field, term := (*h)[0].rr.field, (*h)[0].rr.term
		if int(field) >= nf {
			return nil, fmt.Errorf("bm25: run %s names field %d of %d", (*h)[0].rr.path, field, nf)
		}
		if int(field) != pwField {
			pw.startField(norms[int(field)*numDocs : (int(field)+1)*numDocs])
			pwField = int(field)
		}
		pw.startTerm()
		for h.Len() > 0 && (*h)[0].rr.field == field && (*h)[0].rr.term == term {
			c := (*h)[0]
			if err := decodeRunPostings(c.rr, pw); err != nil {
				return nil, err
			}
			ok, err := c.rr.nextTerm()
			if err != nil {
				return nil, err
			}
			if ok {
				heap.Fix(h, 0)
			} else {
				heap.Pop(h)
			}
		}
		e, err := pw.finishTerm()
		if err != nil {
			return nil, err
		}
		key = append(append(key[:0], field), term...)
		if err := dw.add(key, &e); err != nil {
			return nil, err
		}
		fs := &meta.Fields[field]
		fs.NumTerms++
		fs.SumDocFreq += int64(e.docFreq)
		fs.SumTotalTermFreq += int64(pw.totalTF)
	}
	if _, err := postings.w.Write(make([]byte, bitpack.Padding)); err != nil {
		return nil, err
	}
	for _, o := range files {
		if err := o.close(); err != nil {
			return nil, err
		}
	}
	mb, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(outDir, metaFile), append(mb, '\n'), 0o644); err != nil {
		return nil, err
	}
	return meta, nil
}

// decodeRunPostings feeds the current term of rr to pw.
func decodeRunPostings(rr *runReader, pw *postingsWriter) error {
	buf := rr.buf
	doc := uint64(rr.docStart)
	for i := uint32(0); i < rr.df; i++ {
		gap, n := binary.Uvarint(buf)
		if n <= 0 {
			return rr.corrupt(fmt.Errorf("bad posting of %q", rr.term))
		}
		buf = buf[n:]
		tf, n := binary.Uvarint(buf)
		if n <= 0 {
			return rr.corrupt(fmt.Errorf("bad posting of %q", rr.term))
		}
		buf = buf[n:]
		doc += gap
		if err := pw.add(uint32(doc), uint32(tf)); err != nil {
			return err
		}
	}
	return nil
}

// DuplicateIDError reports two documents with the same external id;
// First and Second count documents from 0 in input order.
type DuplicateIDError struct {
	ID            string
	First, Second int
}

func (e *DuplicateIDError) Error() string {
	return fmt.Sprintf("bm25: duplicate document id %q (documents #%d and #%d of the input, counting from 0)", e.ID, e.First, e.Second)
}

// writeDocTables writes norms.bin, ids.bin, idoffs.bin and idrank.bin.
func writeDocTables(dir string, norms, idBlob []byte, idOffs []uint64) error {
	n := len(idOffs) - 1
	id := func(i int) string { return string(idBlob[idOffs[i]:idOffs[i+1]]) }
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	sort.Slice(order, func(a, b int) bool { return id(int(order[a])) < id(int(order[b])) })
	rank := make([]byte, 4*n)
	for r, d := range order {
		if r > 0 && id(int(order[r-1])) == id(int(d)) {
			a, b := min(order[r-1], d), max(order[r-1], d)
			return &DuplicateIDError{ID: id(int(d)), First: int(a), Second: int(b)}
		}
		binary.LittleEndian.PutUint32(rank[4*d:], uint32(r))
	}
	if len(idBlob) > 1<<32-1 {
		return fmt.Errorf("bm25: document ids take %d bytes, more than the 4 GiB the format allows", len(idBlob))
	}
	offs := make([]byte, 4*len(idOffs))
	for i, o := range idOffs {
		binary.LittleEndian.PutUint32(offs[4*i:], uint32(o))
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{normsFile, norms}, {idsFile, idBlob}, {idOffsFile, offs}, {idRankFile, rank}} {
		if err := mmapfile.WriteSynced(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}
