// Package multivector is irflow's exact multi-vector index for
// ColBERT-style ("col") models, Lightning IR's TorchDense index with
// several vectors per document: every document's scored token vectors as
// flat rows in corpus order, and per-document offsets into them. Writing
// streams; reading maps the files into memory. Search lives in package
// search/multivector.
//
// Only a document's scored tokens are stored (the encoder drops masked
// ones before Add), so scoring needs no document masks.
//
// Files of an index directory (little-endian):
//
//	meta.json    Meta, written last: without it the directory is not an index
//	vectors.bin  NumTokens rows of Dim float32 or float16 values; with cosine
//	             similarity each row is stored divided by max(‖v‖₂, 1e-8)
//	docoffs.bin  NumDocs+1 uint64 row offsets: document i owns rows
//	             docoffs[i]..docoffs[i+1]-1 (Lightning IR's cumsum(doc_lengths))
//	ids.bin      external document ids, concatenated
//	idoffs.bin   NumDocs+1 uint64 offsets into ids.bin
package multivector

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/irflow/irflow/index/internal/vecfile"
)

// Format is the on-disk format version; Open refuses others.
const Format = 1

// Kind names this index type in meta.json.
const Kind = "irflow-multivector"

// DocOffsFile holds the per-document row offsets.
const DocOffsFile = "docoffs.bin"

// DocAggregations are the accepted ways to reduce a query vector's
// similarities over a document's vectors (Lightning IR's doc_aggregation).
var DocAggregations = []string{"max", "sum", "mean"}

// Options configure a new index.
type Options struct {
	Dim int
	// DType is "float32" (default) or "float16" (decoded to float32 for
	// scoring).
	DType string
	// Similarity is "dot" (default), "cosine" or "l2".
	Similarity string
	// DocAggregation is "max" (default, ColBERT's MaxSim), "sum" or "mean".
	DocAggregation string
}

func (o *Options) defaults() {
	if o.DType == "" {
		o.DType = "float32"
	}
	if o.Similarity == "" {
		o.Similarity = "dot"
	}
	if o.DocAggregation == "" {
		o.DocAggregation = "max"
	}
}

func check(pkg string, dim int, dtype, sim, agg string) error {
	if err := vecfile.Check(pkg, dim, dtype, sim); err != nil {
		return err
	}
	if !slices.Contains(DocAggregations, agg) {
		return fmt.Errorf("%s: doc aggregation %q not supported (want one of %q)", pkg, agg, DocAggregations)
	}
	return nil
}

// Meta is meta.json.
type Meta struct {
	Kind           string `json:"kind"`
	Format         int    `json:"format"`
	Dim            int    `json:"dim"`
	DType          string `json:"dtype"`
	Similarity     string `json:"similarity"`
	DocAggregation string `json:"doc_aggregation"`
	// Normalized says the stored rows were divided by their norm (cosine).
	Normalized bool  `json:"normalized"`
	NumDocs    int   `json:"num_docs"`
	NumTokens  int64 `json:"num_tokens"`
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
	if err := check("multivector index", o.Dim, o.DType, o.Similarity, o.DocAggregation); err != nil {
		return nil, err
	}
	cos := o.Similarity == "cosine"
	w, err := vecfile.Create(dir, o.Dim, o.DType, cos, DocOffsFile)
	if err != nil {
		return nil, fmt.Errorf("multivector index: %w", err)
	}
	mw := &Writer{w: w, meta: Meta{Kind: Kind, Format: Format, Dim: o.Dim, DType: o.DType, Similarity: o.Similarity,
		DocAggregation: o.DocAggregation, Normalized: cos}}
	if err := mw.putOffset(); err != nil {
		w.Abort()
		return nil, err
	}
	return mw, nil
}

func (w *Writer) putOffset() error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(w.w.Rows()))
	return w.w.Extra(0, b[:])
}

// Add appends a document with its scored token vectors, n×Dim values
// (n may be 0: such a document is stored but never retrieved).
func (w *Writer) Add(id string, vecs []float32) error {
	if err := w.w.Add(id, vecs); err != nil {
		return fmt.Errorf("multivector index: %w", err)
	}
	if err := w.putOffset(); err != nil {
		return fmt.Errorf("multivector index: %w", err)
	}
	return nil
}

// Close finishes the index: data files are synced, then meta.json is
// written, so a directory without it is an unfinished build. If it fails,
// the files are removed.
func (w *Writer) Close() (*Meta, error) {
	m := w.meta
	m.NumDocs, m.NumTokens = int(w.w.Docs()), w.w.Rows()
	if err := w.w.Finish(m); err != nil {
		w.w.Abort()
		return nil, fmt.Errorf("multivector index: %w", err)
	}
	return &m, nil
}

// Abort stops the build and removes its files; after a successful Close
// it does nothing (so it can be deferred).
func (w *Writer) Abort() { w.w.Abort() }

// Index is an opened index; safe for concurrent use.
type Index struct {
	meta    Meta
	m       vecfile.Mapped
	rows    vecfile.Rows
	ids     vecfile.IDs
	docOffs []uint64
}

// Open maps the index in dir and checks its files against meta.json.
func Open(dir string) (*Index, error) {
	const pkg = "multivector index"
	ix := &Index{m: vecfile.Mapped{Dir: dir}}
	if err := vecfile.ReadMeta(pkg, dir, &ix.meta); err != nil {
		return nil, err
	}
	mt := ix.meta
	if mt.Kind != Kind || mt.Format != Format {
		return nil, fmt.Errorf("%s: %s: kind %q format %d, want %q format %d", pkg, dir, mt.Kind, mt.Format, Kind, Format)
	}
	if err := check(pkg, mt.Dim, mt.DType, mt.Similarity, mt.DocAggregation); err != nil {
		return nil, fmt.Errorf("%s (meta.json): %w", dir, err)
	}
	if mt.NumDocs < 0 || mt.NumTokens < 0 {
		return nil, fmt.Errorf("%s: %s: num_docs %d, num_tokens %d", pkg, dir, mt.NumDocs, mt.NumTokens)
	}
	err := func() error {
		var err error
		if ix.rows, err = vecfile.OpenRows(pkg, &ix.m, mt.NumTokens, mt.Dim, mt.DType); err != nil {
			return err
		}
		if ix.ids, err = vecfile.OpenIDs(pkg, &ix.m, mt.NumDocs); err != nil {
			return err
		}
		b, err := ix.m.Map(pkg, DocOffsFile, 8*int64(mt.NumDocs+1))
		if err != nil {
			return err
		}
		ix.docOffs, err = vecfile.Offsets(pkg, filepath.Join(dir, DocOffsFile), b, uint64(mt.NumTokens))
		return err
	}()
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

// NumTokens is the number of stored vectors.
func (ix *Index) NumTokens() int64 { return ix.meta.NumTokens }

// DocID returns the external id of document i (0 ≤ i < NumDocs).
func (ix *Index) DocID(i int) string { return ix.ids.ID(i) }

// DocRows returns the rows lo..hi-1 that hold document i's vectors.
func (ix *Index) DocRows(i int) (lo, hi int) { return int(ix.docOffs[i]), int(ix.docOffs[i+1]) }

// Vectors returns rows lo..hi-1 as float32, Dim values each: a view of the
// mapped file for float32 indexes, else decoded into buf (grown as needed;
// reuse the result as the next buf).
func (ix *Index) Vectors(lo, hi int, buf []float32) []float32 { return ix.rows.Get(lo, hi, buf) }

// Close unmaps the files; the Index must not be used afterwards.
func (ix *Index) Close() error { return ix.m.Close() }
