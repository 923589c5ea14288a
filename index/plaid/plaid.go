// Package plaid builds irflow's PLAID index (Santhanam et al., CIKM 2022)
// for multi-vector ("col") models on top of an exact index/multivector
// index, whose token vectors it reads and which search keeps for document
// ids and, optionally, exact re-scoring:
//
//   - k-means centroids over the token vectors (index/ivf's seeded
//     k-means; ColBERT's default count 2^⌊log2(16·√tokens)⌋);
//   - every token stored as its centroid's number plus its residual to
//     that centroid, n_bits (1, 2 or 4) per dimension: the bucket of the
//     residual value among 2^n_bits − 1 cutoffs, decoded as the bucket's
//     weight (ColBERTv2's residual compression: cutoffs and weights are
//     quantiles of the residual values of held-out training tokens);
//   - an inverted file from each centroid to the documents with a token
//     assigned to it, for candidate generation.
//
// Search lives in package search/plaid.
//
// Training is seeded and deterministic: the same input, options and seed
// give byte-identical files whatever the number of threads.
//
// Files of an index directory (little-endian):
//
//	meta.json      Meta, written last, with every other file's sha256
//	centroids.bin  NumCentroids × Dim float32
//	buckets.bin    2^NBits − 1 float32 cutoffs, then 2^NBits float32 weights
//	codes.bin      NumTokens uint32 centroid numbers, in the multivector index's row order
//	residuals.bin  NumTokens × Dim·NBits/8 bytes: dimension t's bucket in bits
//	               (t·NBits mod 8)… of byte t·NBits/8 (least significant first)
//	ivfoffs.bin    NumCentroids+1 uint64 offsets into ivfdocs.bin
//	ivfdocs.bin    per centroid the increasing numbers (uint32) of the documents holding one of its tokens
package plaid

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/irflow/irflow/index/internal/stepckpt"
	"github.com/irflow/irflow/index/internal/sumfile"
	"github.com/irflow/irflow/index/ivf"
	"github.com/irflow/irflow/index/multivector"
	"github.com/irflow/irflow/internal/vecmath"
)

// Format is the on-disk format version; Open refuses others.
const Format = 1

// Kind names this index type in meta.json.
const Kind = "irflow-plaid"

// File names.
const (
	CentroidsFile = "centroids.bin"
	BucketsFile   = "buckets.bin"
	CodesFile     = "codes.bin"
	ResidualsFile = "residuals.bin"
	IVFOffsFile   = "ivfoffs.bin"
	IVFDocsFile   = "ivfdocs.bin"
)

var files = []string{CentroidsFile, BucketsFile, CodesFile, ResidualsFile, IVFOffsFile, IVFDocsFile}

// Defaults: Lightning IR's PlaidIndexConfig (k_means_iters = 4, n_bits =
// 2, seed = 42).
const (
	DefaultIterations = 4
	DefaultNBits      = 2
	DefaultSeed       = 42
)

// PointsPerCentroid bounds the default training sample, as faiss's
// k-means subsamples to max_points_per_centroid = 256 per centroid (ColBERT
// trains its centroids with faiss).
const PointsPerCentroid = 256

// NBitsAllowed are the residual widths.
var NBitsAllowed = []int{1, 2, 4}

// heldOut is the most training tokens whose residuals set the bucket
// cutoffs and weights (ColBERTv2 uses at most 50,000 held-out vectors).
const heldOut = 50_000

// Random streams drawn from the seed.
const (
	streamSample  = 1
	streamKMeans  = 2
	streamHeldOut = 3
)

// Options configure Build.
type Options struct {
	// NumCentroids is the number of k-means centroids; 0 = DefaultCentroids
	// of the collection's tokens (halved until TrainSize, when given, has
	// one vector per centroid).
	NumCentroids int
	// NBits per residual dimension: 1, 2 or 4 (0 = DefaultNBits).
	NBits int
	// TrainSize is the number of token vectors, drawn at random without
	// replacement, that k-means trains on (all when beyond the
	// collection); ≤ 0 means PointsPerCentroid × NumCentroids.
	TrainSize int
	// Iterations of Lloyd's algorithm (0 = DefaultIterations).
	Iterations int
	Seed       uint64
	// Threads (default GOMAXPROCS) change the speed, never the result.
	Threads int
	// CheckpointDir, if set, keeps the k-means seeding and rounds and the
	// blocks of assigned tokens (index/internal/stepckpt), so that a build
	// killed part-way resumes after the last one with the same result.
	CheckpointDir string
	// Log, if set, is told what the build is doing; Debug, if set, about
	// every checkpointed step.
	Log, Debug func(msg string)
}

// checkpointID is build.json of a checkpoint: what its steps are of.
type checkpointID struct {
	Format       int    `json:"format"`
	NumCentroids int    `json:"num_centroids"`
	TrainSize    int    `json:"train_size"`
	Iterations   int    `json:"iterations"`
	Seed         uint64 `json:"seed"`
	Block        int    `json:"block"`
	NumTokens    int    `json:"num_tokens"`
	Dim          int    `json:"dim"`
	Similarity   string `json:"similarity"`
	Vectors      string `json:"vectors_sha256"`
}

// Parts of a checkpoint step.
const (
	ckptCentroids = "centroids.bin"
	ckptCodes     = "codes.bin"
)

// DefaultCentroids is ColBERT's number of partitions for n token vectors,
// 2^⌊log2(16·√n)⌋, halved until at most n (k-means needs a vector per
// centroid).
func DefaultCentroids(n int) int {
	if n <= 0 {
		return 0
	}
	k := 1 << int(math.Floor(math.Log2(16*math.Sqrt(float64(n)))))
	for k > n {
		k /= 2
	}
	return k
}

// Meta is meta.json.
type Meta struct {
	Kind           string `json:"kind"`
	Format         int    `json:"format"`
	Dim            int    `json:"dim"`
	Similarity     string `json:"similarity"`
	DocAggregation string `json:"doc_aggregation"`
	NumDocs        int    `json:"num_docs"`
	NumTokens      int64  `json:"num_tokens"`
	NumCentroids   int    `json:"num_centroids"`
	NBits          int    `json:"n_bits"`
	TrainSize      int    `json:"train_size"` // token vectors trained on
	Iterations     int    `json:"iterations"`
	Seed           uint64 `json:"seed"`
	// IVFEntries is the length of the inverted file (document numbers).
	IVFEntries int64 `json:"ivf_entries"`
	// UnitNorm says every token vector has norm 1 (within 1e-4), as
	// ColBERT's and every cosine model's do: the centroids are then unit
	// vectors too (spherical k-means, assignment by inner product) and
	// decompressed vectors are re-normalised, as ColBERTv2 does.
	UnitNorm bool `json:"unit_norm"`
	// Files maps each data file to its sha256 (hex), checked by Open.
	Files map[string]string `json:"files"`
}

// CodeBytes is the size of one token's packed residual.
func (m Meta) CodeBytes() int { return m.Dim * m.NBits / 8 }

// check validates the options (with the number of centroids resolved)
// for n tokens of dimension d and the given similarity.
func (o Options) check(n, d int, sim string) error {
	train := min(n, o.TrainSize)
	switch {
	case sim == "l2":
		return fmt.Errorf("similarity l2: PLAID scores tokens by inner products with centroids; use a dot or cosine model")
	case !slices.Contains(NBitsAllowed, o.NBits):
		return fmt.Errorf("n_bits = %d: want one of %v", o.NBits, NBitsAllowed)
	case d*o.NBits%8 != 0:
		return fmt.Errorf("n_bits = %d: dimension %d × n_bits is not a whole number of bytes", o.NBits, d)
	case o.NumCentroids <= 0:
		return fmt.Errorf("num_centroids = %d: want > 0", o.NumCentroids)
	case train < o.NumCentroids:
		return fmt.Errorf("num_centroids = %d: only %d training token vectors (train_size %d, %d tokens): k-means needs at least one per centroid", o.NumCentroids, train, o.TrainSize, n)
	}
	return nil
}

// Build trains and writes a PLAID index of the token vectors of src into
// dir. Memory: the training sample (TrainSize × Dim float32), 4 bytes per
// token for its centroid number, and one block of vectors at a time.
func Build(ctx context.Context, dir string, src *multivector.Index, o Options) (*Meta, error) {
	sm := src.Meta()
	if sm.NumTokens > math.MaxInt32 {
		return nil, fmt.Errorf("plaid index: %d token vectors: at most %d", sm.NumTokens, math.MaxInt32)
	}
	n, d := int(sm.NumTokens), sm.Dim
	if o.Iterations <= 0 {
		o.Iterations = DefaultIterations
	}
	if o.NBits == 0 {
		o.NBits = DefaultNBits
	}
	if o.NumCentroids == 0 {
		o.NumCentroids = DefaultCentroids(n)
		for o.TrainSize > 0 && o.NumCentroids > o.TrainSize {
			o.NumCentroids /= 2
		}
	}
	if o.TrainSize <= 0 {
		o.TrainSize = PointsPerCentroid * o.NumCentroids
	}
	nt := min(n, o.TrainSize)
	if err := o.check(n, d, sm.Similarity); err != nil {
		return nil, fmt.Errorf("plaid index: %w", err)
	}
	logf := func(format string, a ...any) {
		if o.Log != nil {
			o.Log(fmt.Sprintf(format, a...))
		}
	}
	k := o.NumCentroids
	meta := &Meta{Kind: Kind, Format: Format, Dim: d, Similarity: sm.Similarity, DocAggregation: sm.DocAggregation,
		NumDocs: sm.NumDocs, NumTokens: sm.NumTokens, NumCentroids: k, NBits: o.NBits, Iterations: o.Iterations,
		Seed: o.Seed}
	w, err := sumfile.Start("plaid index", dir, files...)
	if err != nil {
		return nil, err
	}
	defer w.Abort()

	const block = 8192
	nblocks := (n + block - 1) / block
	var ck *stepckpt.Store
	if o.CheckpointDir != "" {
		id := checkpointID{Format: Format, NumCentroids: k, TrainSize: o.TrainSize, Iterations: o.Iterations, Seed: o.Seed, Block: block,
			NumTokens: n, Dim: d, Similarity: sm.Similarity, Vectors: stepckpt.Digest(n, src.Vectors)}
		if ck, err = stepckpt.Open(o.CheckpointDir, id, 1+o.Iterations, nblocks, o.Log, o.Debug); err != nil {
			return nil, fmt.Errorf("plaid index: checkpoint: %w", err)
		}
	}
	step, parts, err := ck.State()
	if err != nil {
		return nil, fmt.Errorf("plaid index: %w", err)
	}
	round := func(r int) string {
		if r == 0 {
			return "k-means seeding"
		}
		return fmt.Sprintf("k-means round %d of %d", r, o.Iterations)
	}
	kcfg := ivf.KMeansOptions{K: k, Iters: o.Iterations, Seed: o.Seed, Stream: streamKMeans, Threads: o.Threads,
		After: func(r int, c []float32) error {
			return ck.SaveState(r+1, round(r), map[string][]float32{ckptCentroids: c})
		}}
	if step > 0 {
		logf("resuming the plaid build from checkpoint %s: %s done", o.CheckpointDir, round(step-1))
		if err := ck.Need(ckptCentroids, parts[ckptCentroids], k*d); err != nil {
			return nil, fmt.Errorf("plaid index: %w", err)
		}
		kcfg.Resume, kcfg.Done = parts[ckptCentroids], step-1
	}

	// Training sample, in row order.
	idx := ivf.Sample(n, o.TrainSize, o.Seed, streamSample)
	meta.TrainSize = len(idx)
	x := make([]float32, 0, len(idx)*d)
	var buf []float32
	for _, i := range idx {
		buf = src.Vectors(i, i+1, buf)
		x = append(x, buf...)
	}
	// Unit token vectors (ColBERT's, any cosine model's) get unit centroids,
	// as ColBERT normalises its centroids: spherical k-means, assignment by
	// inner product; others Euclidean k-means and nearest centroid.
	meta.UnitNorm = true
	for lo := 0; meta.UnitNorm && lo < n; lo += block {
		hi := min(n, lo+block)
		buf = src.Vectors(lo, hi, buf)
		for i := 0; meta.UnitNorm && i < hi-lo; i++ {
			meta.UnitNorm = math.Abs(float64(vecmath.SqNorm(buf[i*d:(i+1)*d]))-1) <= 2e-4
		}
	}
	spherical := meta.UnitNorm
	kcfg.Spherical = spherical
	if step < 1+o.Iterations {
		logf("k-means: %d centroids from %d token vectors, %d iterations", k, nt, o.Iterations)
	}
	cents, err := ivf.KMeans(ctx, x, nt, d, kcfg)
	if err != nil {
		return nil, fmt.Errorf("plaid index: %w", err)
	}

	// Bucket cutoffs and weights from held-out training residuals.
	ho := ivf.Sample(nt, heldOut, o.Seed, streamHeldOut)
	hx := make([]float32, 0, len(ho)*d)
	for _, i := range ho {
		hx = append(hx, x[i*d:(i+1)*d]...)
	}
	x = nil
	ha, err := ivf.Assign(ctx, cents, k, d, hx, len(ho), !spherical, o.Threads)
	if err != nil {
		return nil, err
	}
	cutoffs, weights := Buckets(ivf.Residuals(hx, ha, cents, d), o.NBits)
	hx = nil

	// Every token's centroid, a block at a time; committed blocks are read
	// back instead.
	if done := ck.BlocksDone(); done > 0 {
		logf("resuming assignment from checkpoint %s: %d of %d blocks done", o.CheckpointDir, done, nblocks)
	}
	logf("assigning %d token vectors", n)
	assign := make([]int32, n)
	var raw []byte
	for b := 0; b < nblocks; b++ {
		lo, hi := b*block, min(n, (b+1)*block)
		raw = slices.Grow(raw[:0], 4*(hi-lo))[:4*(hi-lo)]
		if ok, err := ck.LoadBlock(b, map[string][]byte{ckptCodes: raw}); err != nil {
			return nil, fmt.Errorf("plaid index: %w", err)
		} else if ok {
			stepckpt.PutI32s(assign[lo:hi], raw)
			continue
		}
		buf = src.Vectors(lo, hi, buf)
		a, err := ivf.Assign(ctx, cents, k, d, buf, hi-lo, !spherical, o.Threads)
		if err != nil {
			return nil, err
		}
		copy(assign[lo:hi], a)
		if err := ck.SaveBlock(b, nblocks, map[string][]byte{ckptCodes: stepckpt.I32Bytes(a)}); err != nil {
			return nil, fmt.Errorf("plaid index: checkpoint: %w", err)
		}
	}

	w.File(CentroidsFile, func(b *bufio.Writer) error { return sumfile.PutF32(b, cents) })
	w.File(BucketsFile, func(b *bufio.Writer) error { return sumfile.PutF32(b, append(slices.Clone(cutoffs), weights...)) })
	w.File(CodesFile, func(b *bufio.Writer) error { return binary.Write(b, binary.LittleEndian, assign) })
	w.File(ResidualsFile, func(b *bufio.Writer) error {
		code := make([]byte, meta.CodeBytes())
		for lo := 0; lo < n; lo += block {
			if err := ctx.Err(); err != nil {
				return err
			}
			hi := min(n, lo+block)
			buf = src.Vectors(lo, hi, buf)
			res := ivf.Residuals(buf, assign[lo:hi], cents, d)
			for i := 0; i < hi-lo; i++ {
				Encode(code, res[i*d:(i+1)*d], cutoffs, o.NBits)
				if _, err := b.Write(code); err != nil {
					return err
				}
			}
		}
		return nil
	})
	offs, docs := invert(src, assign, k)
	meta.IVFEntries = int64(len(docs))
	w.File(IVFOffsFile, func(b *bufio.Writer) error { return binary.Write(b, binary.LittleEndian, offs) })
	w.File(IVFDocsFile, func(b *bufio.Writer) error { return binary.Write(b, binary.LittleEndian, docs) })
	meta.Files = w.Files
	if err := w.Finish(meta); err != nil {
		return nil, err
	}
	return meta, nil
}

// invert builds the inverted file: per centroid, the increasing numbers of
// the documents with at least one token assigned to it.
func invert(src *multivector.Index, assign []int32, k int) ([]uint64, []uint32) {
	last := make([]int32, k) // last document counted per centroid, +1
	offs := make([]uint64, k+1)
	nd := src.NumDocs()
	for doc := 0; doc < nd; doc++ {
		lo, hi := src.DocRows(doc)
		for _, c := range assign[lo:hi] {
			if last[c] != int32(doc+1) {
				last[c] = int32(doc + 1)
				offs[c+1]++
			}
		}
	}
	for c := 0; c < k; c++ {
		offs[c+1] += offs[c]
	}
	docs := make([]uint32, offs[k])
	pos := slices.Clone(offs[:k])
	clear(last)
	for doc := 0; doc < nd; doc++ {
		lo, hi := src.DocRows(doc)
		for _, c := range assign[lo:hi] {
			if last[c] != int32(doc+1) {
				last[c] = int32(doc + 1)
				docs[pos[c]] = uint32(doc)
				pos[c]++
			}
		}
	}
	return offs, docs
}

// Buckets learns ColBERTv2's residual codec from residual values r (every
// dimension pooled): with B = 2^nbits buckets, the cutoffs are the
// quantiles i/B (i = 1…B−1) and the weights the quantiles (i+½)/B
// (i = 0…B−1), by linear interpolation between order statistics as
// torch.quantile.
func Buckets(r []float32, nbits int) (cutoffs, weights []float32) {
	v := slices.Clone(r)
	slices.Sort(v)
	q := func(p float64) float32 {
		if len(v) == 0 {
			return 0
		}
		pos := p * float64(len(v)-1)
		i := int(math.Floor(pos))
		if i+1 >= len(v) {
			return v[len(v)-1]
		}
		f := pos - float64(i)
		return float32(float64(v[i]) + f*(float64(v[i+1])-float64(v[i])))
	}
	b := 1 << nbits
	for i := 1; i < b; i++ {
		cutoffs = append(cutoffs, q(float64(i)/float64(b)))
	}
	for i := 0; i < b; i++ {
		weights = append(weights, q((float64(i)+0.5)/float64(b)))
	}
	return cutoffs, weights
}

// Encode packs the buckets of residual r into code (len(r)·nbits/8
// bytes): a value's bucket is the number of cutoffs below it
// (torch.bucketize).
func Encode(code []byte, r []float32, cutoffs []float32, nbits int) {
	clear(code)
	for t, v := range r {
		var bkt byte
		for _, c := range cutoffs {
			if c < v {
				bkt++
			}
		}
		bit := t * nbits
		code[bit/8] |= bkt << (bit % 8)
	}
}

// Decode writes centroid + the weights of code's buckets into out.
func Decode(out, centroid []float32, code []byte, weights []float32, nbits int) {
	mask := byte(1<<nbits - 1)
	for t := range out {
		bit := t * nbits
		out[t] = centroid[t] + weights[code[bit/8]>>(bit%8)&mask]
	}
}
