package ivf

import (
	"context"
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/irflow/irflow/internal/parallel"
	"github.com/irflow/irflow/internal/vecmath"
)

// KSub is the number of codewords per sub-space: 8-bit codes.
const KSub = 256

// Random streams drawn from the seed, one per trained part, so that each
// part's draws do not depend on how many another part took.
const (
	streamSample = 1
	streamCoarse = 2
	streamPQ     = 100  // + sub-space
	streamOPQ    = 1000 // + sub-space, per alternation ×M
)

func newRNG(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// PQ is a product quantiser (Jégou et al. 2011): a vector of D values is
// cut into M sub-vectors of Dsub = D/M values, each replaced by the
// number of the nearest of its sub-space's 256 codewords (Euclidean).
type PQ struct {
	M, D, Dsub int
	// Codebooks holds M × 256 × Dsub values (faiss's ProductQuantizer
	// centroids layout).
	Codebooks []float32
}

// Codeword returns codeword c of sub-space j.
func (q *PQ) Codeword(j, c int) []float32 {
	o := (j*KSub + c) * q.Dsub
	return q.Codebooks[o : o+q.Dsub]
}

// subspace copies the columns j·dsub..(j+1)·dsub−1 of the n rows of x.
func subspace(x []float32, n, d, j, dsub int, buf []float32) []float32 {
	buf = append(buf[:0], make([]float32, n*dsub)...)
	for i := 0; i < n; i++ {
		copy(buf[i*dsub:(i+1)*dsub], x[i*d+j*dsub:i*d+(j+1)*dsub])
	}
	return buf
}

// pqConfig configures trainPQ.
type pqConfig struct {
	M, Iters int
	// Seed and Stream (+ sub-space) pick each sub-space's k-means++ seeds.
	Seed, Stream uint64
	Threads      int
	// Init warm-starts every sub-space from these codebooks (OPQ).
	Init []float32
	// Done holds the codebooks of the first sub-spaces of an interrupted
	// run (a multiple of 256 × Dsub values); training goes on after them.
	Done []float32
	// After, if set, is told the codebooks trained so far after each
	// sub-space, to checkpoint them; an error stops the training.
	After func(codebooks []float32) error
}

// trainPQ runs k-means in every sub-space of the n rows of x (from Init's
// codebooks when given, else k-means++ seeds drawn from the seed's streams).
func trainPQ(ctx context.Context, x []float32, n, d int, cfg pqConfig) (*PQ, error) {
	m := cfg.M
	if d%m != 0 {
		return nil, fmt.Errorf("product quantiser: m = %d does not divide the dimension %d", m, d)
	}
	if n < KSub {
		return nil, fmt.Errorf("product quantiser: %d training vectors: 8-bit codes need at least %d", n, KSub)
	}
	q := &PQ{M: m, D: d, Dsub: d / m, Codebooks: make([]float32, 0, m*KSub*(d/m))}
	per := KSub * q.Dsub
	if len(cfg.Done)%per != 0 || len(cfg.Done) > m*per {
		return nil, fmt.Errorf("product quantiser: resuming from %d codebook values, not a whole number of the %d sub-spaces' %d", len(cfg.Done), m, per)
	}
	q.Codebooks = append(q.Codebooks, cfg.Done...)
	var sub []float32
	for j := len(cfg.Done) / per; j < m; j++ {
		sub = subspace(x, n, d, j, q.Dsub, sub)
		var start []float32
		if cfg.Init != nil {
			start = cfg.Init[j*per : (j+1)*per]
		}
		cb, err := kmeans(ctx, sub, n, q.Dsub, kmeansConfig{K: KSub, Iters: cfg.Iters, Threads: cfg.Threads}, newRNG(cfg.Seed, cfg.Stream+uint64(j)), start)
		if err != nil {
			return nil, fmt.Errorf("product quantiser, sub-space %d: %w", j, err)
		}
		q.Codebooks = append(q.Codebooks, cb...)
		if cfg.After != nil {
			if err := cfg.After(q.Codebooks); err != nil {
				return nil, err
			}
		}
	}
	return q, nil
}

// Encode returns the n × M codes of the n rows of x.
func (q *PQ) Encode(ctx context.Context, x []float32, n, threads int) ([]byte, error) {
	codes := make([]byte, n*q.M)
	var sub []float32
	for j := 0; j < q.M; j++ {
		sub = subspace(x, n, q.D, j, q.Dsub, sub)
		s := newScorer(q.Codebooks[j*KSub*q.Dsub:(j+1)*KSub*q.Dsub], KSub, q.Dsub, true)
		a, err := s.assignAll(ctx, sub, n, threads)
		if err != nil {
			return nil, err
		}
		for i, c := range a {
			codes[i*q.M+j] = byte(c)
		}
	}
	return codes, nil
}

// Decode returns the reconstructions of n codes.
func (q *PQ) Decode(codes []byte, n int) []float32 {
	out := make([]float32, n*q.D)
	for i := 0; i < n; i++ {
		for j := 0; j < q.M; j++ {
			copy(out[i*q.D+j*q.Dsub:], q.Codeword(j, int(codes[i*q.M+j])))
		}
	}
	return out
}

// rotate returns the n rows of x multiplied by the d × d matrix r (row
// i of the result is r·x_i).
func rotate(ctx context.Context, x []float32, n, d int, r []float32, threads int) ([]float32, error) {
	out := make([]float32, n*d)
	nc := (n + chunk - 1) / chunk
	scr := make([]scratch, threadsOr(threads))
	err := parallel.Tasks(ctx, len(scr), nc, func(w, c int) {
		lo, hi := c*chunk, min(n, (c+1)*chunk)
		sc := &scr[w]
		sc.p.Pack(x[lo*d:hi*d], hi-lo, d)
		if len(sc.tile) < chunk*d {
			sc.tile = make([]float32, chunk*d)
		}
		sc.p.Dots(sc.tile, chunk, r, d)
		for i := lo; i < hi; i++ {
			for t := 0; t < d; t++ {
				out[i*d+t] = sc.tile[t*chunk+i-lo]
			}
		}
	})
	return out, err
}

// OPQ training: alternations of the non-parametric OPQ of Ge et al.
// (2013, "Optimized Product Quantization", Algorithm 1): with the rotation
// fixed, refine the codebooks (a few k-means rounds, warm-started); with
// the codebooks fixed, the best rotation is an orthogonal Procrustes
// problem solved by one SVD. faiss's OPQMatrix does the same with 50
// alternations of 4 rounds (40 the first time) on at most 65,536 vectors;
// irflow takes fewer, on at most opqMaxTrain, to keep builds short.
const (
	opqAlternations = 10
	opqIters0       = 20
	opqIters        = 4
	opqMaxTrain     = 32768
)

// opqState is the OPQ training after Done alternations: the rotation and
// the codebooks it warm-starts the next alternation from.
type opqState struct {
	Done      int
	Rotation  []float32
	Codebooks []float32
}

// trainOPQ returns a d × d orthogonal rotation R (row-major) for which the
// product quantisation of R·x loses little, starting from the identity or
// from resume (an interrupted run's state); after, if set, is told the
// state after every alternation, to checkpoint it.
func trainOPQ(ctx context.Context, x []float32, n, d, m int, seed uint64, threads int, resume *opqState, after func(opqState) error) ([]float32, error) {
	if n > opqMaxTrain {
		x, n = x[:opqMaxTrain*d], opqMaxTrain // the sample is already random
	}
	st := opqState{Rotation: make([]float32, d*d)}
	for i := 0; i < d; i++ {
		st.Rotation[i*d+i] = 1
	}
	if resume != nil {
		st = *resume
	}
	for st.Done < opqAlternations {
		it := st.Done
		xr, err := rotate(ctx, x, n, d, st.Rotation, threads)
		if err != nil {
			return nil, err
		}
		iters := opqIters
		if st.Codebooks == nil {
			iters = opqIters0
		}
		q, err := trainPQ(ctx, xr, n, d, pqConfig{M: m, Iters: iters, Seed: seed, Stream: streamOPQ + uint64(it*m), Threads: threads, Init: st.Codebooks})
		if err != nil {
			return nil, fmt.Errorf("OPQ: %w", err)
		}
		codes, err := q.Encode(ctx, xr, n, threads)
		if err != nil {
			return nil, err
		}
		r, err := procrustes(x, q.Decode(codes, n), n, d)
		if err != nil {
			return nil, err
		}
		st = opqState{Done: it + 1, Rotation: r, Codebooks: q.Codebooks}
		if after != nil {
			if err := after(st); err != nil {
				return nil, err
			}
		}
	}
	return st.Rotation, nil
}

// procrustes returns the orthogonal R minimising Σ‖R·x_i − y_i‖²: with
// XᵀY = U Σ Vᵀ (X, Y the n × d matrices of rows), R = V Uᵀ.
func procrustes(x, y []float32, n, d int) ([]float32, error) {
	xt, yt := transpose(x, n, d), transpose(y, n, d)
	m := mat.NewDense(d, d, nil)
	var p vecmath.Packed
	tile := make([]float32, chunk*d)
	for a0 := 0; a0 < d; a0 += chunk {
		a1 := min(d, a0+chunk)
		p.Pack(xt[a0*n:a1*n], a1-a0, n)
		p.Dots(tile, chunk, yt, d) // tile[b*chunk+a] = Σ_i x_i[a0+a]·y_i[b]
		for a := a0; a < a1; a++ {
			for b := 0; b < d; b++ {
				m.Set(a, b, float64(tile[b*chunk+a-a0]))
			}
		}
	}
	var svd mat.SVD
	if !svd.Factorize(m, mat.SVDFull) {
		return nil, fmt.Errorf("OPQ: the SVD of the %d × %d cross-covariance did not converge", d, d)
	}
	var u, v, r mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	r.Mul(&v, u.T())
	out := make([]float32, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			out[i*d+j] = float32(r.At(i, j))
		}
	}
	return out, nil
}

func transpose(x []float32, n, d int) []float32 {
	t := make([]float32, n*d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			t[j*n+i] = x[i*d+j]
		}
	}
	return t
}
