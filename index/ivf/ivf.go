// Package ivf builds irflow's approximate single-vector indexes on top of
// an exact index/dense index (whose vectors it reads, and which search
// uses for re-scoring and document ids): IVF-Flat ("ivf": vectors
// clustered by k-means into inverted lists, stored per list), product
// quantisation ("pq": m bytes per vector, 8-bit codes) and IVF-PQ
// ("ivfpq": residuals to the list centroid quantised), optionally with an
// OPQ rotation. These are faiss's IndexIVFFlat, IndexPQ, IndexIVFPQ and
// OPQ pre-transform, which Lightning IR's FaissIVFIndexConfig,
// FaissPQIndexConfig and FaissIVFPQIndexConfig build. Search lives in
// package search/ivf.
//
// Training is seeded and deterministic: a random sample of TrainSize
// vectors, k-means++ seeding, a fixed number of Lloyd iterations with sums
// in row order; the same input, options and seed give byte-identical
// files whatever the number of threads. With Options.CheckpointDir set,
// every training step and block of encoded vectors is committed there, and
// a build killed part-way resumes after the last one with the same bytes
// (checkpoint.go).
//
// Files of an index directory (little-endian):
//
//	meta.json      Meta, written last, with every other file's sha256
//	centroids.bin  NLists × Dim float32 list centroids (ivf, ivfpq)
//	rotation.bin   Dim × Dim float32 OPQ rotation R, row-major: x ↦ R·x (opq)
//	codebooks.bin  M × 256 × Dim/M float32 codewords (pq, ivfpq)
//	listoffs.bin   L+1 uint64 offsets into the list order (L = NLists, 1 for pq)
//	listdocs.bin   NumDocs uint32 document numbers, list by list, increasing within a list
//	listdata.bin   list by list: Dim float32 per vector (ivf) or M code bytes (pq, ivfpq)
//	listnorms.bin  NumDocs float32 ‖x‖² in list order (ivf with l2 similarity)
package ivf

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/irflow/irflow/index/dense"
	"github.com/irflow/irflow/index/internal/mmapfile"
	"github.com/irflow/irflow/index/internal/stepckpt"
	"github.com/irflow/irflow/index/internal/sumfile"
	"github.com/irflow/irflow/index/internal/vecfile"
	"github.com/irflow/irflow/internal/vecmath"
)

// Format is the on-disk format version; Open refuses others. 2: the
// coarse centroids of a dot-product index are trained by inner product
// (the same files as 1, other centroids).
const Format = 2

// Kind names this index type in meta.json.
const Kind = "irflow-ivf"

// Methods.
const (
	MethodIVF   = "ivf"   // IVF-Flat
	MethodPQ    = "pq"    // product quantisation, one list
	MethodIVFPQ = "ivfpq" // IVF with product-quantised residuals
)

// Methods lists the methods.
var Methods = []string{MethodIVF, MethodPQ, MethodIVFPQ}

// File names.
const (
	CentroidsFile = "centroids.bin"
	RotationFile  = "rotation.bin"
	CodebooksFile = "codebooks.bin"
	ListOffsFile  = "listoffs.bin"
	ListDocsFile  = "listdocs.bin"
	ListDataFile  = "listdata.bin"
	ListNormsFile = "listnorms.bin"
)

// Options configure Build.
type Options struct {
	Method string
	// NLists is the number of inverted lists (k-means centroids); ivf and
	// ivfpq only.
	NLists int
	// M is the number of sub-quantisers (code bytes per vector); it must
	// divide the dimension. pq and ivfpq only.
	M int
	// OPQ learns a rotation before product quantisation (pq, ivfpq).
	OPQ bool
	// TrainSize is the number of vectors, drawn at random without
	// replacement, that k-means (and OPQ) train on; ≤ 0 or beyond the
	// collection means all. It must reach NLists, and 256 for PQ.
	TrainSize int
	// Iterations of Lloyd's algorithm for every k-means (default 25, faiss's).
	Iterations int
	Seed       uint64
	// Threads (default GOMAXPROCS) change the speed, never the result.
	Threads int
	// CheckpointDir, if set, keeps the build's finished steps (training
	// steps and encoding blocks; checkpoint.go) so that a build killed
	// part-way resumes after the last one with the same result. The caller
	// removes it once the index is safely elsewhere (the engine does).
	CheckpointDir string
	// Log, if set, is told what the build is doing; Debug, if set, about
	// every checkpointed step.
	Log, Debug func(msg string)
}

// DefaultIterations is faiss's ClusteringParameters.niter.
const DefaultIterations = 25

// Meta is meta.json.
type Meta struct {
	Kind       string `json:"kind"`
	Format     int    `json:"format"`
	Method     string `json:"method"`
	Dim        int    `json:"dim"`
	Similarity string `json:"similarity"`
	NumDocs    int    `json:"num_docs"`
	NLists     int    `json:"n_lists"`
	M          int    `json:"m"`
	NBits      int    `json:"nbits"`
	OPQ        bool   `json:"opq"`
	TrainSize  int    `json:"train_size"` // vectors trained on
	Iterations int    `json:"iterations"`
	Seed       uint64 `json:"seed"`
	// Files maps each data file to its sha256 (hex), checked by Open.
	Files map[string]string `json:"files"`
}

// Lists is the number of inverted lists (1 for pq).
func (m Meta) Lists() int {
	if m.Method == MethodPQ {
		return 1
	}
	return m.NLists
}

// Check validates the options against an index of n vectors of dim d.
func (o Options) Check(n, d int) error {
	if !slices.Contains(Methods, o.Method) {
		return fmt.Errorf("method %q: want one of %q", o.Method, Methods)
	}
	ivf, pq := o.Method != MethodPQ, o.Method != MethodIVF
	train := n
	if o.TrainSize > 0 {
		train = min(n, o.TrainSize)
	}
	switch {
	case ivf && o.NLists <= 0:
		return fmt.Errorf("n_lists = %d: want > 0", o.NLists)
	case !ivf && o.NLists != 0:
		return fmt.Errorf("n_lists = %d: method pq has no inverted lists", o.NLists)
	case pq && o.M <= 0:
		return fmt.Errorf("m = %d: want > 0", o.M)
	case pq && d%o.M != 0:
		return fmt.Errorf("m = %d does not divide the dimension %d", o.M, d)
	case !pq && (o.M != 0 || o.OPQ):
		return fmt.Errorf("method ivf stores full vectors: m and opq are for pq and ivfpq")
	case ivf && train < o.NLists:
		return fmt.Errorf("n_lists = %d: only %d training vectors (train_size %d, %d documents): k-means needs at least one per list", o.NLists, train, o.TrainSize, n)
	case pq && train < KSub:
		return fmt.Errorf("only %d training vectors (train_size %d, %d documents): 8-bit product quantisation needs at least %d", train, o.TrainSize, n, KSub)
	}
	return nil
}

// Build trains and writes an index of the vectors of src into dir. Memory:
// the training sample (TrainSize × Dim float32, twice with OPQ), 4 bytes
// per document for its list (ivf, ivfpq) and M bytes for its code (pq,
// ivfpq); the vectors themselves are read from src's mapping a block at a
// time (once more to checksum them when checkpointing).
func Build(ctx context.Context, dir string, src *dense.Index, o Options) (*Meta, error) {
	sm := src.Meta()
	n, d := sm.NumDocs, sm.Dim
	if o.Iterations <= 0 {
		o.Iterations = DefaultIterations
	}
	if err := o.Check(n, d); err != nil {
		return nil, fmt.Errorf("ivf index: %w", err)
	}
	logf := func(format string, a ...any) {
		if o.Log != nil {
			o.Log(fmt.Sprintf(format, a...))
		}
	}
	meta := &Meta{Kind: Kind, Format: Format, Method: o.Method, Dim: d, Similarity: sm.Similarity, NumDocs: n,
		NLists: o.NLists, M: o.M, OPQ: o.OPQ, Iterations: o.Iterations, Seed: o.Seed, Files: map[string]string{}}
	if o.Method != MethodIVF {
		meta.NBits = 8
	}
	ipAssign := sm.Similarity != "l2"
	// The directory stops being an index (of earlier files) at once.
	w, err := sumfile.Start("ivf index", dir, CentroidsFile, RotationFile, CodebooksFile, ListOffsFile, ListDocsFile, ListDataFile, ListNormsFile)
	if err != nil {
		return nil, err
	}
	defer w.Abort()

	sp := planSteps(o)
	nblocks := (n + blockRows - 1) / blockRows
	var ck *stepckpt.Store
	if o.CheckpointDir != "" {
		id := buildID{Format: checkpointFormat, Method: o.Method, NLists: o.NLists, M: o.M, OPQ: o.OPQ, TrainSize: o.TrainSize,
			Iterations: o.Iterations, Seed: o.Seed, BlockRows: blockRows, NumDocs: n, Dim: d, Similarity: sm.Similarity, Vectors: stepckpt.Digest(n, src.Vectors)}
		if ck, err = stepckpt.Open(o.CheckpointDir, id, sp.total(), nblocks, o.Log, o.Debug); err != nil {
			return nil, fmt.Errorf("ivf index: checkpoint: %w", err)
		}
	}
	st, err := loadTrain(ck)
	if err != nil {
		return nil, fmt.Errorf("ivf index: %w", err)
	}
	if st.Step > 0 {
		logf("resuming the %s build from checkpoint %s: %d of %d training steps done (%s)", o.Method, o.CheckpointDir, st.Step, sp.total(), sp.describe(st.Step))
	}
	save := func() error { return saveTrain(ck, sp, st) }

	// Training sample, in document order.
	idx := sample(n, trainCount(n, o.TrainSize), newRNG(o.Seed, streamSample))
	meta.TrainSize = len(idx)
	x := make([]float32, 0, len(idx)*d)
	var buf []float32
	for _, i := range idx {
		buf = src.Vectors(i, i+1, buf)
		x = append(x, buf...)
	}
	nt := len(idx)

	var rot []float32
	if o.OPQ {
		var resume *opqState
		if st.Step > 0 {
			resume = &opqState{Done: min(st.Step, sp.opq), Rotation: st.Rotation, Codebooks: st.OPQCodebooks}
			err := ck.Need(ckptRotation, resume.Rotation, d*d)
			if err == nil && resume.Done < sp.opq {
				err = ck.Need(ckptOPQCodebooks, resume.Codebooks, KSub*d)
			}
			if err != nil {
				return nil, fmt.Errorf("ivf index: %w", err)
			}
		}
		if st.Step < sp.opq {
			logf("training the OPQ rotation on %d vectors", min(nt, opqMaxTrain))
		}
		rot, err = trainOPQ(ctx, x, nt, d, o.M, o.Seed, o.Threads, resume, func(s opqState) error {
			st.Step, st.Rotation, st.OPQCodebooks = s.Done, s.Rotation, s.Codebooks
			return save()
		})
		if err != nil {
			return nil, fmt.Errorf("ivf index: %w", err)
		}
		st.OPQCodebooks = nil // spent: later steps need the rotation only
		if x, err = rotate(ctx, x, nt, d, rot, o.Threads); err != nil {
			return nil, err
		}
	}
	var cents []float32
	var coarse *scorer
	if o.Method != MethodPQ {
		base := sp.opq
		// A dot index is probed by inner product, so its lists are
		// trained by inner product too (k-means assigning by largest
		// inner product, mean updates): recall@10 on the 1M Gaussian
		// mixture at n_probe 1 went from 0.954 (Euclidean training) to
		// 0.988; faiss's default gives 0.974 there.
		cfg := kmeansConfig{K: o.NLists, Iters: o.Iterations, Spherical: sm.Similarity == "cosine", IP: sm.Similarity == "dot", Threads: o.Threads,
			After: func(round int, c []float32) error {
				st.Step, st.Centroids = base+1+round, c
				return save()
			}}
		if st.Step > base {
			if err := ck.Need(ckptCentroids, st.Centroids, o.NLists*d); err != nil {
				return nil, fmt.Errorf("ivf index: %w", err)
			}
			cfg.Resume, cfg.Done = st.Centroids, min(st.Step-base, sp.coarse)-1
		}
		if st.Step < base+sp.coarse {
			logf("k-means: %d lists from %d vectors, %d iterations", o.NLists, nt, o.Iterations)
		}
		cents, err = kmeans(ctx, x, nt, d, cfg, newRNG(o.Seed, streamCoarse), nil)
		if err != nil {
			return nil, fmt.Errorf("ivf index: %w", err)
		}
		st.Centroids = cents
		coarse = newScorer(cents, o.NLists, d, !ipAssign)
	}
	var pq *PQ
	if o.Method != MethodIVF {
		base := sp.opq + sp.coarse
		cfg := pqConfig{M: o.M, Iters: o.Iterations, Seed: o.Seed, Stream: streamPQ, Threads: o.Threads,
			After: func(cb []float32) error {
				st.Step, st.Codebooks = base+len(cb)/(KSub*(d/o.M)), cb
				return save()
			}}
		if st.Step > base {
			if err := ck.Need(ckptCodebooks, st.Codebooks, (st.Step-base)*KSub*(d/o.M)); err != nil {
				return nil, fmt.Errorf("ivf index: %w", err)
			}
			cfg.Done = st.Codebooks
		}
		res := x
		if coarse != nil && st.Step < sp.total() { // residuals to the list each training vector falls in
			a, err := coarse.assignAll(ctx, x, nt, o.Threads)
			if err != nil {
				return nil, err
			}
			res = residuals(x, a, cents, d)
		}
		if st.Step < sp.total() {
			logf("product quantiser: %d sub-spaces × 256 codewords from %d vectors", o.M, nt)
		}
		if pq, err = trainPQ(ctx, res, nt, d, cfg); err != nil {
			return nil, fmt.Errorf("ivf index: %w", err)
		}
	}
	x = nil

	// Assign and encode the collection a block at a time; committed blocks
	// are read back instead.
	var lists []int32 // the list of every document (nil for pq)
	if coarse != nil {
		lists = make([]int32, n)
	}
	var codes []byte
	if pq != nil {
		codes = make([]byte, n*o.M)
	}
	done := ck.BlocksDone()
	if done > 0 {
		logf("resuming encoding from checkpoint %s: %d of %d blocks done", o.CheckpointDir, done, nblocks)
	}
	logf("assigning and encoding %d vectors", n)
	for b := 0; b < nblocks; b++ {
		lo, hi := b*blockRows, min(n, (b+1)*blockRows)
		var bl []int32
		var bc []byte
		if lists != nil {
			bl = lists[lo:hi]
		}
		if codes != nil {
			bc = codes[lo*o.M : hi*o.M]
		}
		if ok, err := loadBlock(ck, b, bl, bc); err != nil {
			return nil, fmt.Errorf("ivf index: %w", err)
		} else if ok {
			continue
		}
		rows := src.Vectors(lo, hi, buf)
		buf = rows
		if rot != nil {
			if rows, err = rotate(ctx, rows, hi-lo, d, rot, o.Threads); err != nil {
				return nil, err
			}
		}
		var a []int32
		if coarse != nil {
			if a, err = coarse.assignAll(ctx, rows, hi-lo, o.Threads); err != nil {
				return nil, err
			}
			copy(bl, a)
		}
		if pq != nil {
			res := rows
			if coarse != nil {
				res = residuals(rows, a, cents, d)
			}
			c, err := pq.Encode(ctx, res, hi-lo, o.Threads)
			if err != nil {
				return nil, err
			}
			copy(bc, c)
		}
		if err := saveBlock(ck, b, nblocks, bl, bc); err != nil {
			return nil, fmt.Errorf("ivf index: checkpoint: %w", err)
		}
	}

	// Lists: documents grouped by list, in document order within each.
	L := meta.Lists()
	offs := make([]uint64, L+1)
	if lists == nil {
		offs[1] = uint64(n)
	}
	for _, a := range lists {
		offs[a+1]++
	}
	for l := 0; l < L; l++ {
		offs[l+1] += offs[l]
	}
	docs := make([]uint32, n)
	pos := slices.Clone(offs[:L])
	for i := range docs {
		a := 0
		if lists != nil {
			a = int(lists[i])
		}
		docs[pos[a]] = uint32(i)
		pos[a]++
	}

	if cents != nil {
		w.File(CentroidsFile, func(b *bufio.Writer) error { return sumfile.PutF32(b, cents) })
	}
	if rot != nil {
		w.File(RotationFile, func(b *bufio.Writer) error { return sumfile.PutF32(b, rot) })
	}
	if pq != nil {
		w.File(CodebooksFile, func(b *bufio.Writer) error { return sumfile.PutF32(b, pq.Codebooks) })
	}
	w.File(ListOffsFile, func(b *bufio.Writer) error { return binary.Write(b, binary.LittleEndian, offs) })
	w.File(ListDocsFile, func(b *bufio.Writer) error { return binary.Write(b, binary.LittleEndian, docs) })
	w.File(ListDataFile, func(b *bufio.Writer) error {
		for _, doc := range docs {
			var err error
			if pq != nil {
				_, err = b.Write(codes[int(doc)*o.M : int(doc+1)*o.M])
			} else {
				buf = src.Vectors(int(doc), int(doc)+1, buf)
				err = sumfile.PutF32(b, buf)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if o.Method == MethodIVF && sm.Similarity == "l2" {
		w.File(ListNormsFile, func(b *bufio.Writer) error {
			for _, doc := range docs {
				buf = src.Vectors(int(doc), int(doc)+1, buf)
				if err := sumfile.PutF32(b, []float32{vecmath.SqNorm(buf)}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	meta.Files = w.Files
	if err := w.Finish(meta); err != nil {
		return nil, err
	}
	return meta, nil
}

func trainCount(n, size int) int {
	if size <= 0 || size > n {
		return n
	}
	return size
}

// residuals returns x_i − c_{a_i} for the rows of x.
func residuals(x []float32, a []int32, c []float32, d int) []float32 {
	out := make([]float32, len(x))
	for i, l := range a {
		ci := c[int(l)*d : int(l+1)*d]
		for t := 0; t < d; t++ {
			out[i*d+t] = x[i*d+t] - ci[t]
		}
	}
	return out
}

// Index is an opened index; safe for concurrent use.
type Index struct {
	meta      Meta
	full      *dense.Index
	m         vecfile.Mapped
	centroids []float32
	rotation  []float32
	pq        *PQ
	offs      []uint64
	docs      []uint32
	flat      []float32
	codes     []byte
	norms     []float32
}

// Open maps the index in dir, checks every file's size and checksum
// against meta.json, and ties it to full, the dense index it was built
// from (ids, re-scoring), which must have the same documents, dimension
// and similarity.
func Open(dir string, full *dense.Index) (*Index, error) {
	const pkg = "ivf index"
	ix := &Index{full: full, m: vecfile.Mapped{Dir: dir}}
	if err := vecfile.ReadMeta(pkg, dir, &ix.meta); err != nil {
		return nil, err
	}
	mt := ix.meta
	if mt.Kind != Kind || mt.Format != Format {
		return nil, fmt.Errorf("%s: %s: kind %q format %d, want %q format %d", pkg, dir, mt.Kind, mt.Format, Kind, Format)
	}
	fm := full.Meta()
	if fm.NumDocs != mt.NumDocs || fm.Dim != mt.Dim || fm.Similarity != mt.Similarity {
		return nil, fmt.Errorf("%s: %s was built from %d vectors of %d dimensions (%s), the dense index given has %d of %d (%s)",
			pkg, dir, mt.NumDocs, mt.Dim, mt.Similarity, fm.NumDocs, fm.Dim, fm.Similarity)
	}
	o := Options{Method: mt.Method, NLists: mt.NLists, M: mt.M, OPQ: mt.OPQ, TrainSize: mt.TrainSize}
	if err := o.Check(mt.NumDocs, mt.Dim); err != nil && mt.NumDocs > 0 {
		return nil, fmt.Errorf("%s: %s: %w", pkg, filepath.Join(dir, vecfile.MetaFile), err)
	}
	n, d, L := int64(mt.NumDocs), int64(mt.Dim), int64(mt.Lists())
	want := map[string]int64{ListOffsFile: 8 * (L + 1), ListDocsFile: 4 * n}
	switch mt.Method {
	case MethodIVF:
		want[CentroidsFile] = 4 * L * d
		want[ListDataFile] = 4 * n * d
		if mt.Similarity == "l2" {
			want[ListNormsFile] = 4 * n
		}
	case MethodPQ, MethodIVFPQ:
		if mt.Method == MethodIVFPQ {
			want[CentroidsFile] = 4 * L * d
		}
		want[CodebooksFile] = 4 * int64(mt.M) * KSub * (d / int64(mt.M))
		want[ListDataFile] = n * int64(mt.M)
		if mt.OPQ {
			want[RotationFile] = 4 * d * d
		}
	}
	maps, err := sumfile.MapAll(pkg, &ix.m, mt.Files, want)
	if err != nil {
		ix.m.Close()
		return nil, err
	}
	if ix.offs, err = vecfile.Offsets(pkg, filepath.Join(dir, ListOffsFile), maps[ListOffsFile], uint64(n)); err != nil {
		ix.m.Close()
		return nil, err
	}
	ix.docs = mmapfile.U32s(maps[ListDocsFile])
	for i, doc := range ix.docs {
		if int64(doc) >= n {
			ix.m.Close()
			return nil, fmt.Errorf("%s: %s: entry %d is document %d of %d: corrupt", pkg, filepath.Join(dir, ListDocsFile), i, doc, n)
		}
	}
	ix.centroids = sumfile.F32s(maps[CentroidsFile])
	ix.rotation = sumfile.F32s(maps[RotationFile])
	if mt.Method == MethodIVF {
		ix.flat = sumfile.F32s(maps[ListDataFile])
		ix.norms = sumfile.F32s(maps[ListNormsFile])
	} else {
		ix.codes = maps[ListDataFile]
		ix.pq = &PQ{M: mt.M, D: mt.Dim, Dsub: mt.Dim / mt.M, Codebooks: sumfile.F32s(maps[CodebooksFile])}
	}
	return ix, nil
}

// Meta describes the index.
func (ix *Index) Meta() Meta { return ix.meta }

// Full is the dense index the vectors come from.
func (ix *Index) Full() *dense.Index { return ix.full }

// Centroids are the NLists × Dim list centroids (nil for pq), in the
// rotated space with OPQ.
func (ix *Index) Centroids() []float32 { return ix.centroids }

// Rotation is the OPQ rotation (Dim × Dim, row-major), or nil.
func (ix *Index) Rotation() []float32 { return ix.rotation }

// PQ is the product quantiser (nil for ivf).
func (ix *Index) PQ() *PQ { return ix.pq }

// List returns the positions lo..hi-1 (in list order) of list l.
func (ix *Index) List(l int) (lo, hi int) { return int(ix.offs[l]), int(ix.offs[l+1]) }

// Docs returns the document numbers at list positions lo..hi-1.
func (ix *Index) Docs(lo, hi int) []uint32 { return ix.docs[lo:hi] }

// FlatRows returns the stored vectors at list positions lo..hi-1 (ivf).
func (ix *Index) FlatRows(lo, hi int) []float32 {
	d := ix.meta.Dim
	return ix.flat[lo*d : hi*d]
}

// Norms returns the stored ‖x‖² at list positions lo..hi-1 (ivf, l2).
func (ix *Index) Norms(lo, hi int) []float32 { return ix.norms[lo:hi] }

// Codes returns the codes at list positions lo..hi-1 (pq, ivfpq).
func (ix *Index) Codes(lo, hi int) []byte { return ix.codes[lo*ix.meta.M : hi*ix.meta.M] }

// Close unmaps the files (not the dense index).
func (ix *Index) Close() error { return ix.m.Close() }
