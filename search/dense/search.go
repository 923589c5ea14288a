// Package dense searches an index/dense index exhaustively: every query
// against every document, with Lightning IR's similarity (dot, cosine,
// negative Euclidean distance), top-k by score then corpus order.
//
// Queries go in batches; each batch meets the documents block by block
// (batch and block small enough to stay in the CPU's L2 cache), a register-tiled
// SIMD kernel computes the batch × block dot products, and each query's
// heap takes the block's candidates, as faiss's IndexFlatIP does with
// BLAS. float16 indexes are decoded a block at a time.
package dense

import (
	"context"
	"fmt"
	"math"

	"github.com/irflow/irflow/index/dense"
	"github.com/irflow/irflow/internal/vecmath"
	"github.com/irflow/irflow/search/internal/exact"
	"github.com/irflow/irflow/search/internal/topk"
)

// Hit is one retrieved document.
type Hit struct {
	ID    string
	Score float64 // a float32 computation, widened
	Doc   int     // document number in the index (corpus order)
}

// Options configure SearchAll.
type Options struct {
	// K is the number of hits per query (fewer when the index is smaller).
	K int
	// Threads searching in parallel (default GOMAXPROCS).
	Threads int
	// Progress, if set, is told about finished queries.
	Progress func(n int64)
}

// Batch and block sizes, tuned on a Zen 1 core (512 KiB L2): a batch of
// 128 queries (eight 16-query panels of 24 KiB for dim 384, each staying in
// L1 while it meets the block) and blocks of 96 rows of 384 float32s
// (144 KiB, in L2). 64 queries or 72 KiB blocks ran 3-5% slower, 288 KiB
// blocks 5%, 256 queries no faster.
const (
	queryBatch = 128
	blockBytes = 144 << 10
)

// SearchAll returns the top K hits of every query. queries holds nq
// vectors of the index's Dim, row-major. Scores follow the index's
// similarity exactly as Lightning IR computes it in float32: cosine
// divides each side by max(‖x‖₂, 1e-8); l2 is −sqrt(max(‖q‖²+‖d‖²−2q·d, 0)).
func SearchAll(ctx context.Context, ix *dense.Index, queries []float32, o Options) ([][]Hit, error) {
	m := ix.Meta()
	if o.K <= 0 {
		return nil, fmt.Errorf("dense search: k must be positive, got %d", o.K)
	}
	if len(queries)%m.Dim != 0 {
		return nil, fmt.Errorf("dense search: %d query values is not a multiple of the index's dim %d", len(queries), m.Dim)
	}
	if i := vecmath.CheckFinite(queries); i >= 0 {
		return nil, fmt.Errorf("dense search: query %d, value %d is %v", i/m.Dim, i%m.Dim, queries[i])
	}
	nq := len(queries) / m.Dim
	out := make([][]Hit, nq)
	if nq == 0 || m.NumDocs == 0 {
		for i := range out {
			out[i] = []Hit{}
		}
		return out, nil
	}
	s := &searcher{ix: ix, dim: m.Dim, l2: m.Similarity == "l2", k: min(o.K, m.NumDocs)}
	s.q = queries
	if m.Similarity == "cosine" {
		s.q = append([]float32(nil), queries...)
		for i := 0; i < nq; i++ {
			vecmath.Normalize(s.q[i*m.Dim:(i+1)*m.Dim], vecmath.CosineEps)
		}
	}
	if s.l2 {
		s.qq = make([]float32, nq)
		for i := range s.qq {
			s.qq[i] = vecmath.SqNorm(s.q[i*m.Dim : (i+1)*m.Dim])
		}
	}
	s.block = max(3, blockBytes/(4*m.Dim)/3*3)
	nb := (nq + queryBatch - 1) / queryBatch
	plan := exact.NewPlan(o.Threads, nb, m.NumDocs)
	s.results = make([][]topk.Entry, nq*plan.Shards)
	scr := make([]*scratch, plan.Threads)
	err := plan.Run(ctx, func(w, b, sh int) error {
		if scr[w] == nil {
			scr[w] = &scratch{}
		}
		lo, hi := plan.Shard(sh)
		q0, q1 := b*queryBatch, min(nq, (b+1)*queryBatch)
		s.scan(scr[w], q0, q1, lo, hi)
		for i := q0; i < q1; i++ {
			s.results[i*plan.Shards+sh] = scr[w].heaps[i-q0].Sorted()
		}
		return nil
	}, func(b int) {
		if o.Progress != nil {
			o.Progress(int64(min(nq, (b+1)*queryBatch) - b*queryBatch))
		}
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		best := exact.Best(s.k, s.results[i*plan.Shards:(i+1)*plan.Shards]...)
		hits := make([]Hit, len(best))
		for j, e := range best {
			hits[j] = Hit{ID: ix.DocID(int(e.Doc)), Score: e.Score, Doc: int(e.Doc)}
		}
		out[i] = hits
	}
	return out, nil
}

type searcher struct {
	ix      *dense.Index
	dim     int
	l2      bool
	k       int
	block   int
	q       []float32      // queries (normalised for cosine)
	qq      []float32      // ‖q‖² (l2)
	results [][]topk.Entry // per query and shard, best first
}

// scratch is one thread's working memory.
type scratch struct {
	packed vecmath.Packed // the batch's queries
	tile   []float32      // block × batch dot products
	dd     []float32      // ‖d‖² of the block's rows (l2)
	buf    []float32      // decoded float16 rows
	heaps  []topk.Heap
}

// scan offers documents lo..hi-1 to queries q0..q1-1.
func (s *searcher) scan(sc *scratch, q0, q1, lo, hi int) {
	nq := q1 - q0
	if len(sc.tile) < queryBatch*s.block {
		sc.tile = make([]float32, queryBatch*s.block)
		sc.dd = make([]float32, s.block)
		sc.heaps = make([]topk.Heap, queryBatch)
	}
	for i := 0; i < nq; i++ {
		sc.heaps[i].Reset(s.k)
	}
	sc.packed.Pack(s.q[q0*s.dim:q1*s.dim], nq, s.dim)
	for d0 := lo; d0 < hi; d0 += s.block {
		d1 := min(hi, d0+s.block)
		nd := d1 - d0
		// A float32 index returns a view of its file; a float16 one decodes
		// into buf, kept for the next block.
		rows := s.ix.Vectors(d0, d1, sc.buf)
		sc.buf = rows
		// tile[j*queryBatch+i] = q_i·d_j
		sc.packed.Dots(sc.tile, queryBatch, rows, nd)
		if s.l2 {
			for j := 0; j < nd; j++ {
				sc.dd[j] = vecmath.SqNorm(rows[j*s.dim : (j+1)*s.dim])
			}
		}
		for i := 0; i < nq; i++ {
			if s.l2 {
				offerL2(&sc.heaps[i], sc.tile[i:], nd, s.qq[q0+i], sc.dd[:nd], d0)
			} else {
				offerDot(&sc.heaps[i], sc.tile[i:], nd, d0)
			}
		}
	}
}

// offerDot offers a block's dot products, one query's column of the
// tile: col[j*queryBatch] for documents d0+j, j < nd. Documents come in
// increasing number, so one scoring the same as the worst kept loses:
// once the heap is full, only scores above its worst are offered.
func offerDot(h *topk.Heap, col []float32, nd, d0 int) {
	j := 0
	for ; j < nd && !h.Full(); j++ {
		if v := col[j*queryBatch]; v == v {
			h.Offer(topk.Entry{Score: float64(v), Rank: uint32(d0 + j), Doc: uint32(d0 + j)})
		}
	}
	if j == nd {
		return
	}
	th := float32(h.Worst().Score) // a float32 score, exactly
	for ; j < nd; j++ {
		v := col[j*queryBatch]
		if !(v > th) { // also NaN
			continue
		}
		h.Offer(topk.Entry{Score: float64(v), Rank: uint32(d0 + j), Doc: uint32(d0 + j)})
		th = float32(h.Worst().Score)
	}
}

// offerL2 offers a block's negative Euclidean distances, computed in
// Lightning IR's order: t = (−2·q·d + ‖q‖²) + ‖d‖², score −sqrt(max(t, 0)).
// Once the heap is full with worst score −r, a document with t ≥ r²
// cannot score above −r (the rounded square root is monotone and r is a
// float32), so the square root is taken only for the others.
func offerL2(h *topk.Heap, col []float32, nd int, qq float32, dd []float32, d0 int) {
	for j := 0; j < nd; j++ {
		t := -2*col[j*queryBatch] + qq
		t += dd[j]
		if h.Full() {
			r := h.Worst().Score
			if float64(t) >= r*r || t != t {
				continue
			}
		}
		s := -float64(float32(math.Sqrt(float64(max(t, 0)))))
		if h.Full() && !(s > h.Worst().Score) {
			continue
		}
		h.Offer(topk.Entry{Score: s, Rank: uint32(d0 + j), Doc: uint32(d0 + j)})
	}
}
