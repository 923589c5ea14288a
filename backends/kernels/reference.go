package kernels

import (
	"fmt"
	"math"
	"slices"
)

// Tile sizes of splade.cu, which the reference mirrors: a thread's partial
// result for vocabulary entry v covers tokens ty, ty+16, ty+32, … (one ty
// of spladeThreadsT per thread row), and the partials are combined in ty
// order.
const spladeThreadsT = 16

// PoolReference runs splade.cu's algorithm in Go on row-major float32
// slices: hidden [B L D], weight [V D], bias [V] (nil for none), mask [B L]
// → [B V]. Each logit is a sequential chain of fused multiply-adds over the
// hidden size (as the kernel's), the running max or sum per vocabulary
// entry follows the kernel's token order, and partial sums are combined in
// its order, so it differs from the GPU only where Go's float32 FMA
// (computed in float64) rounds twice.
func PoolReference(hidden []float32, B, L, D int, weight []float32, V int, bias []float32, mask []int64, o PoolOptions) ([]float32, error) {
	if len(hidden) != B*L*D || len(weight) != V*D || len(mask) != B*L || (bias != nil && len(bias) != V) {
		return nil, fmt.Errorf("kernels: pool reference: sizes %d, %d, %d, %d do not match B=%d L=%d D=%d V=%d",
			len(hidden), len(weight), len(bias), len(mask), B, L, D, V)
	}
	out := make([]float32, B*V)
	part := make([]float32, spladeThreadsT)
	negInf := float32(math.Inf(-1))
	for b := 0; b < B; b++ {
		for v := 0; v < V; v++ {
			w := weight[v*D : (v+1)*D]
			var bv float32
			if bias != nil {
				bv = bias[v]
			}
			for ty := range part {
				part[ty] = negInf
				if o.Sum {
					part[ty] = 0
				}
			}
			for t := 0; t < L; t++ {
				if mask[b*L+t] == 0 {
					continue
				}
				h := hidden[(b*L+t)*D : (b*L+t+1)*D]
				var acc float32
				for k := range h {
					acc = fma32(w[k], h[k], acc)
				}
				x := acc + bv
				ty := t % spladeThreadsT
				if o.Sum {
					part[ty] += sparsify(x, o.Sparsification)
				} else {
					part[ty] = fmax32(part[ty], x)
				}
			}
			r := part[0]
			for _, p := range part[1:] {
				if o.Sum {
					r += p
				} else {
					r = fmax32(r, p)
				}
			}
			if !o.Sum {
				r = sparsify(r, o.Sparsification)
			}
			out[b*V+v] = r
		}
	}
	return out, nil
}

func fma32(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }

// fmax32 is CUDA's fmaxf: a NaN operand yields the other.
func fmax32(a, b float32) float32 {
	switch {
	case a != a:
		return b
	case b != b:
		return a
	case b > a:
		return b
	}
	return a
}

func sparsify(x float32, how Sparsification) float32 {
	if how == SparsifyNone {
		return x
	}
	x = fmax32(x, 0)
	if how >= SparsifyReLULog {
		x = float32(math.Log1p(float64(x)))
	}
	if how == SparsifyReLU2xLog {
		x = float32(math.Log1p(float64(x)))
	}
	return x
}

// Chunk sizes of topk.cu.
const topkChunk = 1024

// TopKReference runs topk.cu's algorithm in Go: per query, the block's
// scores are read topkChunk at a time, a score is a candidate when the
// state is not full or it beats the state's worst entry, and state and
// candidates are sorted together and cut to k (topk.cu sorts the
// candidates and merges; the result depends only on the order).
type TopKReference struct {
	k     int
	state [][]Hit
	cand  []Hit
}

// NewTopKReference makes an empty state for queries queries.
func NewTopKReference(queries, k int) (*TopKReference, error) {
	if k <= 0 || k > MaxK || queries < 0 {
		return nil, fmt.Errorf("kernels: top-k reference: k %d (1..%d), %d queries", k, MaxK, queries)
	}
	return &TopKReference{k: k, state: make([][]Hit, queries)}, nil
}

// better is topk.cu's order: higher score, then smaller document number.
func better(a, b Hit) bool { return a.Score > b.Score || (a.Score == b.Score && a.Doc < b.Doc) }

// Add folds scores [queries nb] (row-major) into the state; column j is
// document firstDoc+j.
func (r *TopKReference) Add(scores []float32, nb int, firstDoc int64) error {
	if len(scores) != len(r.state)*nb {
		return fmt.Errorf("kernels: top-k reference: %d scores for %d queries × %d", len(scores), len(r.state), nb)
	}
	for q := range r.state {
		row := scores[q*nb : (q+1)*nb]
		st := r.state[q]
		for c0 := 0; c0 < nb; c0 += topkChunk {
			full := len(st) == r.k
			r.cand = append(r.cand[:0], st...)
			for j := c0; j < min(nb, c0+topkChunk); j++ {
				h := Hit{Doc: firstDoc + int64(j), Score: row[j]}
				if h.Score == h.Score && (!full || better(h, st[r.k-1])) {
					r.cand = append(r.cand, h)
				}
			}
			if len(r.cand) == len(st) {
				continue
			}
			slices.SortFunc(r.cand, func(a, b Hit) int {
				if better(a, b) {
					return -1
				}
				if better(b, a) {
					return 1
				}
				return 0
			})
			st = append(st[:0], r.cand[:min(len(r.cand), r.k)]...)
		}
		r.state[q] = st
	}
	return nil
}

// Results returns each query's hits, best first.
func (r *TopKReference) Results() [][]Hit {
	out := make([][]Hit, len(r.state))
	for q, st := range r.state {
		out[q] = slices.Clone(st)
	}
	return out
}
