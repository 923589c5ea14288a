// Package dense is irflow's exact single-vector index (Lightning IR's
// TorchDense index for DPR and sentence-transformers models): one row of
// Dim values per document, in corpus order, written by streaming and read
// memory-mapped. Search lives in package search/dense.
//
// Files of an index directory (little-endian):
//
//	meta.json    Meta, written last: without it the directory is not an index
//	vectors.bin  NumDocs rows of Dim float32 or float16 values; with cosine
//	             similarity each row is stored divided by max(‖v‖₂, 1e-8)
//	ids.bin      external document ids, concatenated
//	idoffs.bin   NumDocs+1 uint64 offsets into ids.bin
package dense

import (
	"fmt"

	"github.com/irflow/irflow/index/internal/vecfile"
)

// Format is the on-disk format version; Open refuses others.
const Format = 1

// Kind names this index type in meta.json.
const Kind = "irflow-dense"

// Options configure a new index.
type Options struct {
	Dim int
	// DType is the stored precision: "float32" (default) or "float16"
	// (half the size; decoded to float32 for scoring).
	DType string
	// Similarity is "dot" (default), "cosine" or "l2", as Lightning IR's
	// bi-encoders compute it.
	Similarity string
}

func (o *Options) defaults() {
	if o.DType == "" {
		o.DType = "float32"
	}
	if o.Similarity == "" {
		o.Similarity = "dot"
	}
}

// Meta is meta.json.
type Meta struct {
	Kind       string `json:"kind"`
	Format     int    `json:"format"`
	Dim        int    `json:"dim"`
	DType      string `json:"dtype"`
	Similarity string `json:"similarity"`
	// Normalized says the stored rows were divided by their norm (cosine).
	Normalized bool `json:"normalized"`
	NumDocs    int  `json:"num_docs"`
}

// Writer adds documents to a new index. It is not safe for concurrent use.
type Writer struct {
	w    *vecfile.Writer
	meta Meta
}

// Create starts a new index in dir. Memory use does not grow with the
// number of documents.
func Create(dir string, o Options) (*Writer, error) {
	o.defaults()
	if err := vecfile.Check("dense index", o.Dim, o.DType, o.Similarity); err != nil {
		return nil, err
	}
	cos := o.Similarity == "cosine"
	w, err := vecfile.Create(dir, o.Dim, o.DType, cos)
	if err != nil {
		return nil, fmt.Errorf("dense index: %w", err)
	}
	return &Writer{w: w, meta: Meta{Kind: Kind, Format: Format, Dim: o.Dim, DType: o.DType, Similarity: o.Similarity, Normalized: cos}}, nil
}

// Add appends a document; len(vec) must be Dim and every value finite.
func (w *Writer) Add(id string, vec []float32) error {
	if len(vec) != w.meta.Dim {
		return fmt.Errorf("dense index: document %d (%q): %d values, want dim %d", w.w.Docs(), id, len(vec), w.meta.Dim)
	}
	if err := w.w.Add(id, vec); err != nil {
		return fmt.Errorf("dense index: %w", err)
	}
	return nil
}

// Close finishes the index: data files are synced, then meta.json is
// written, so a directory without it is an unfinished build. If it fails,
// the files are removed.
func (w *Writer) Close() (*Meta, error) {
	m := w.meta
	m.NumDocs = int(w.w.Docs())
	if err := w.w.Finish(m); err != nil {
		w.w.Abort()
		return nil, fmt.Errorf("dense index: %w", err)
	}
	return &m, nil
}

// Abort stops the build and removes its files; after a successful Close
// it does nothing (so it can be deferred).
func (w *Writer) Abort() { w.w.Abort() }

// Index is an opened index; safe for concurrent use.
type Index struct {
	meta Meta
	m    vecfile.Mapped
	rows vecfile.Rows
	ids  vecfile.IDs
}

// Open maps the index in dir and checks its files against meta.json.
func Open(dir string) (*Index, error) {
	const pkg = "dense index"
	ix := &Index{m: vecfile.Mapped{Dir: dir}}
	if err := vecfile.ReadMeta(pkg, dir, &ix.meta); err != nil {
		return nil, err
	}
	mt := ix.meta
	if mt.Kind != Kind || mt.Format != Format {
		return nil, fmt.Errorf("%s: %s: kind %q format %d, want %q format %d", pkg, dir, mt.Kind, mt.Format, Kind, Format)
	}
	if err := vecfile.Check(pkg, mt.Dim, mt.DType, mt.Similarity); err != nil {
		return nil, fmt.Errorf("%s (meta.json): %w", dir, err)
	}
	if mt.NumDocs < 0 {
		return nil, fmt.Errorf("%s: %s: num_docs %d", pkg, dir, mt.NumDocs)
	}
	var err error
	if ix.rows, err = vecfile.OpenRows(pkg, &ix.m, int64(mt.NumDocs), mt.Dim, mt.DType); err == nil {
		ix.ids, err = vecfile.OpenIDs(pkg, &ix.m, mt.NumDocs)
	}
	if err != nil {
		ix.m.Close()
		return nil, err
	}
	return ix, nil
}

// Meta describes the index.
func (ix *Index) Meta() Meta { return ix.meta }

// NumDocs is the number of documents.
func (ix *Index) NumDocs() int { return ix.meta.NumDocs }

// DocID returns the external id of document i (0 ≤ i < NumDocs).
func (ix *Index) DocID(i int) string { return ix.ids.ID(i) }

// Vectors returns the rows of documents lo..hi-1 as float32, Dim values
// each: a view of the mapped file for float32 indexes, else decoded into
// buf (grown as needed; reuse the result as the next buf).
func (ix *Index) Vectors(lo, hi int, buf []float32) []float32 { return ix.rows.Get(lo, hi, buf) }

// Close unmaps the files; the Index must not be used afterwards.
func (ix *Index) Close() error { return ix.m.Close() }
