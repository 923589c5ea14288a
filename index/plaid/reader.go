package plaid

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/irflow/irflow/index/internal/mmapfile"
	"github.com/irflow/irflow/index/internal/sumfile"
	"github.com/irflow/irflow/index/internal/vecfile"
	"github.com/irflow/irflow/index/multivector"
	"github.com/irflow/irflow/internal/vecmath"
)

// Index is an opened index; safe for concurrent use.
type Index struct {
	meta      Meta
	full      *multivector.Index
	m         vecfile.Mapped
	centroids []float32
	cutoffs   []float32
	weights   []float32
	codes     []uint32
	residuals []byte
	offs      []uint64
	docs      []uint32

	// lut[b·per+i] is the weight of the i-th residual value packed in a
	// byte b (per = 8/NBits values a byte): decoding a byte is then a
	// lookup and per additions.
	lut []float32
	// norms caches, per token, the norm Normalize divides its decompressed
	// vector by (float32 bits; 0 = not yet computed, as a norm clamped to
	// CosineEps is never 0): the norm is the same for every query, and
	// its float64 sum in order of dimension is most of a decompression's
	// cost. Filled on first use (unit-norm indexes only).
	normsOnce sync.Once
	norms     []atomic.Uint32
}

// Open maps the index in dir, checks every file's size and checksum
// against meta.json, and ties it to full, the multivector index it was
// built from (ids, document rows, exact re-scoring), which must have the
// same documents, tokens, dimension and similarity.
func Open(dir string, full *multivector.Index) (*Index, error) {
	const pkg = "plaid index"
	ix := &Index{full: full, m: vecfile.Mapped{Dir: dir}}
	if err := vecfile.ReadMeta(pkg, dir, &ix.meta); err != nil {
		return nil, err
	}
	mt := ix.meta
	if mt.Kind != Kind || mt.Format != Format {
		return nil, fmt.Errorf("%s: %s: kind %q format %d, want %q format %d", pkg, dir, mt.Kind, mt.Format, Kind, Format)
	}
	fm := full.Meta()
	if fm.NumDocs != mt.NumDocs || fm.NumTokens != mt.NumTokens || fm.Dim != mt.Dim || fm.Similarity != mt.Similarity || fm.DocAggregation != mt.DocAggregation {
		return nil, fmt.Errorf("%s: %s was built from %d documents, %d tokens of %d dimensions (%s, %s), the multivector index given has %d, %d of %d (%s, %s)",
			pkg, dir, mt.NumDocs, mt.NumTokens, mt.Dim, mt.Similarity, mt.DocAggregation, fm.NumDocs, fm.NumTokens, fm.Dim, fm.Similarity, fm.DocAggregation)
	}
	o := Options{NumCentroids: mt.NumCentroids, NBits: mt.NBits, TrainSize: mt.TrainSize}
	if err := o.check(int(mt.NumTokens), mt.Dim, mt.Similarity); err != nil && mt.NumTokens > 0 {
		return nil, fmt.Errorf("%s: %s: %w", pkg, filepath.Join(dir, vecfile.MetaFile), err)
	}
	n, d, k := mt.NumTokens, int64(mt.Dim), int64(mt.NumCentroids)
	want := map[string]int64{
		CentroidsFile: 4 * k * d,
		BucketsFile:   4 * (2<<mt.NBits - 1),
		CodesFile:     4 * n,
		ResidualsFile: n * int64(mt.CodeBytes()),
		IVFOffsFile:   8 * (k + 1),
	}
	var maps map[string][]byte
	check := func(name string, size int64) error {
		b, err := sumfile.Map(pkg, &ix.m, mt.Files, name, size)
		maps[name] = b
		return err
	}
	err := func() error {
		var err error
		if maps, err = sumfile.MapAll(pkg, &ix.m, mt.Files, want); err != nil {
			return err
		}
		if ix.offs, err = vecfile.Offsets(pkg, filepath.Join(dir, IVFOffsFile), maps[IVFOffsFile], uint64(mt.IVFEntries)); err != nil {
			return err
		}
		if err := check(IVFDocsFile, 4*mt.IVFEntries); err != nil {
			return err
		}
		ix.docs = mmapfile.U32s(maps[IVFDocsFile])
		for i, doc := range ix.docs {
			if int(doc) >= mt.NumDocs {
				return fmt.Errorf("%s: %s: entry %d is document %d of %d: corrupt", pkg, filepath.Join(dir, IVFDocsFile), i, doc, mt.NumDocs)
			}
		}
		ix.codes = mmapfile.U32s(maps[CodesFile])
		for i, c := range ix.codes {
			if int64(c) >= k {
				return fmt.Errorf("%s: %s: token %d has centroid %d of %d: corrupt", pkg, filepath.Join(dir, CodesFile), i, c, k)
			}
		}
		return nil
	}()
	if err != nil {
		ix.m.Close()
		return nil, err
	}
	ix.centroids = sumfile.F32s(maps[CentroidsFile])
	b := sumfile.F32s(maps[BucketsFile])
	nc := 1<<mt.NBits - 1
	ix.cutoffs, ix.weights = b[:nc], b[nc:]
	ix.residuals = maps[ResidualsFile]
	per := 8 / mt.NBits
	ix.lut = make([]float32, 256*per)
	for b := range 256 {
		for i := range per {
			ix.lut[b*per+i] = ix.weights[b>>(i*mt.NBits)&(1<<mt.NBits-1)]
		}
	}
	return ix, nil
}

// Meta describes the index.
func (ix *Index) Meta() Meta { return ix.meta }

// Full is the multivector index the token vectors come from.
func (ix *Index) Full() *multivector.Index { return ix.full }

// Centroids are the NumCentroids × Dim centroids.
func (ix *Index) Centroids() []float32 { return ix.centroids }

// Cutoffs and Weights are the residual codec's bucket boundaries and
// values.
func (ix *Index) Cutoffs() []float32 { return ix.cutoffs }
func (ix *Index) Weights() []float32 { return ix.weights }

// Codes returns the centroid numbers of token rows lo..hi-1.
func (ix *Index) Codes(lo, hi int) []uint32 { return ix.codes[lo:hi] }

// Docs returns the documents holding a token of centroid c, increasing.
func (ix *Index) Docs(c int) []uint32 { return ix.docs[ix.offs[c]:ix.offs[c+1]] }

// Decompress writes the approximate vectors of token rows lo..hi-1
// (centroid + decoded residual, re-normalised when the token vectors are
// unit vectors) into buf, grown as needed. Every value is bit for bit
// Decode's, then vecmath.Normalize's (TestDecompressIsDecodeNormalize).
func (ix *Index) Decompress(lo, hi int, buf []float32) []float32 {
	d, cb := ix.meta.Dim, ix.meta.CodeBytes()
	buf = slices.Grow(buf[:0], (hi-lo)*d)[:(hi-lo)*d]
	if ix.meta.UnitNorm {
		ix.normsOnce.Do(func() { ix.norms = make([]atomic.Uint32, ix.meta.NumTokens) })
	}
	for i := lo; i < hi; i++ {
		c := int(ix.codes[i])
		v := buf[(i-lo)*d : (i-lo+1)*d]
		n := float32(1) // x/1 is x: no re-normalisation
		if ix.meta.UnitNorm {
			n = math.Float32frombits(ix.norms[i].Load())
		}
		if n != 0 {
			ix.decodeDiv(v, ix.centroids[c*d:(c+1)*d], ix.residuals[i*cb:(i+1)*cb], n)
			continue
		}
		// vecmath.Normalize, its norm kept for the next query
		ix.decodeDiv(v, ix.centroids[c*d:(c+1)*d], ix.residuals[i*cb:(i+1)*cb], 1)
		n = max(float32(math.Sqrt(float64(vecmath.SqNorm(v)))), vecmath.CosineEps)
		ix.norms[i].Store(math.Float32bits(n))
		for t := range v {
			v[t] /= n
		}
	}
	return buf
}

// decodeDiv is Decode through the byte table, every value then divided
// by n (1: none).
func (ix *Index) decodeDiv(out, centroid []float32, code []byte, n float32) {
	per := 8 / ix.meta.NBits
	if per == 4 && useAVX && len(code) > 0 { // 2 bits, the default
		decodeDiv2(&out[0], &centroid[:len(out)][0], &code[0], &ix.lut[0], len(code), n)
		return
	}
	for j, b := range code {
		l := ix.lut[int(b)*per : int(b)*per+per]
		o := out[j*per : j*per+per]
		c := centroid[j*per : j*per+per]
		for t := range o {
			o[t] = c[t] + l[t]
		}
	}
	if n != 1 {
		for t := range out {
			out[t] /= n
		}
	}
}

// Close unmaps the files (not the multivector index).
func (ix *Index) Close() error { return ix.m.Close() }
