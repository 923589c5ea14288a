// Package multivector searches an index/multivector index exhaustively
// with late interaction, as Lightning IR's TorchDense searcher does for
// "col" models: the similarity of every scored query vector with every
// stored document vector, reduced over each document's vectors (the
// index's doc aggregation: max = ColBERT's MaxSim, sum, mean), then over
// the query's scored vectors (sum, mean, max, harmonic_mean). Top-k by
// score, then corpus order.
//
// Query vectors of several queries form a batch; documents come in blocks
// of whole documents small enough for the L2 cache; the SIMD kernel of
// package dense computes batch × block similarities, and the reductions
// run over each document's slice of them.
package multivector

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/irflow/irflow/index/multivector"
	"github.com/irflow/irflow/internal/vecmath"
	"github.com/irflow/irflow/search/dense"
	"github.com/irflow/irflow/search/internal/exact"
	"github.com/irflow/irflow/search/internal/topk"
)

// Hit is one retrieved document (the same type as dense search's).
type Hit = dense.Hit

// Query is one query's vectors, n×Dim row-major, and its scoring mask
// (Lightning IR's query scoring mask: false vectors take no part; nil
// scores all).
type Query struct {
	Vectors []float32
	Mask    []bool
}

// QueryAggregations are the accepted reductions over a query's vectors.
var QueryAggregations = []string{"sum", "mean", "max", "harmonic_mean"}

// Options configure SearchAll.
type Options struct {
	// K is the number of hits per query.
	K int
	// Threads searching in parallel (default GOMAXPROCS).
	Threads int
	// QueryAggregation is "sum" (default, ColBERT), "mean", "max" or
	// "harmonic_mean".
	QueryAggregation string
	// Progress, if set, is told about finished queries.
	Progress func(n int64)
}

// Batch and block sizes: up to 128 query vectors (four 32-vector ColBERT
// queries) meet blocks of about 144 KiB of document vectors (288 vectors
// of 128 float32s).
const (
	batchRows  = 128
	blockBytes = 144 << 10
)

// SearchAll returns the top K hits of every query.
//
// Scores follow Lightning IR's aggregate exactly, with two choices about
// what it would score degenerately: a document with no stored vectors is
// never returned (max would give it −Inf, sum 0), and a query with no
// scored vectors returns no hits. A NaN score (harmonic_mean of similarities
// +0 and −0) is not returned either.
func SearchAll(ctx context.Context, ix *multivector.Index, queries []Query, o Options) ([][]Hit, error) {
	m := ix.Meta()
	if o.K <= 0 {
		return nil, fmt.Errorf("multivector search: k must be positive, got %d", o.K)
	}
	if o.QueryAggregation == "" {
		o.QueryAggregation = "sum"
	}
	if !slices.Contains(QueryAggregations, o.QueryAggregation) {
		return nil, fmt.Errorf("multivector search: query aggregation %q not supported (want one of %q)", o.QueryAggregation, QueryAggregations)
	}
	s := &searcher{ix: ix, dim: m.Dim, l2: m.Similarity == "l2", docAgg: m.DocAggregation, qAgg: o.QueryAggregation, k: o.K}
	if err := s.prepare(queries, m.Similarity == "cosine"); err != nil {
		return nil, err
	}
	out := make([][]Hit, len(queries))
	for i := range out {
		out[i] = []Hit{}
	}
	if len(s.batches) == 0 || m.NumDocs == 0 {
		if o.Progress != nil && len(queries) > 0 {
			o.Progress(int64(len(queries)))
		}
		return out, nil
	}
	if o.Progress != nil && s.empty > 0 {
		o.Progress(int64(s.empty))
	}
	s.blockRows = max(1, blockBytes/(4*m.Dim))
	plan := exact.NewPlan(o.Threads, len(s.batches), m.NumDocs)
	s.shards = plan.Shards
	s.results = make([][]topk.Entry, len(queries)*plan.Shards)
	scr := make([]*scratch, plan.Threads)
	err := plan.Run(ctx, func(w, b, sh int) error {
		if scr[w] == nil {
			scr[w] = &scratch{}
		}
		lo, hi := plan.Shard(sh)
		s.scan(scr[w], s.batches[b], sh, lo, hi)
		return nil
	}, func(b int) {
		if o.Progress != nil {
			o.Progress(int64(len(s.batches[b].queries)))
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
	ix           *multivector.Index
	dim          int
	l2           bool
	docAgg, qAgg string
	k            int
	blockRows    int
	shards       int

	rows    []float32 // every query's scored vectors (normalised for cosine)
	qq      []float32 // their ‖q‖² (l2)
	batches []batch
	empty   int            // queries without scored vectors
	results [][]topk.Entry // per query and shard, best first
}

// A batch is consecutive queries whose scored vectors are rows r0..r1-1.
type batch struct {
	r0, r1  int
	queries []batchQuery
}

type batchQuery struct {
	index  int // position in the caller's queries
	r0, r1 int // rows relative to the batch
}

// prepare checks the queries, keeps their scored vectors and groups them
// into batches of at most batchRows rows (a longer query is a batch alone).
func (s *searcher) prepare(queries []Query, cosine bool) error {
	dim := s.dim
	var cur batch
	flush := func() {
		if len(cur.queries) > 0 {
			s.batches = append(s.batches, cur)
		}
		cur = batch{r0: len(s.rows) / dim}
	}
	for qi, q := range queries {
		if len(q.Vectors)%dim != 0 {
			return fmt.Errorf("multivector search: query %d: %d values is not a multiple of the index's dim %d", qi, len(q.Vectors), dim)
		}
		n := len(q.Vectors) / dim
		if q.Mask != nil && len(q.Mask) != n {
			return fmt.Errorf("multivector search: query %d: mask of %d for %d vectors", qi, len(q.Mask), n)
		}
		if i := vecmath.CheckFinite(q.Vectors); i >= 0 {
			return fmt.Errorf("multivector search: query %d: vector %d, value %d is %v", qi, i/dim, i%dim, q.Vectors[i])
		}
		scored := 0
		for t := 0; t < n; t++ {
			if q.Mask == nil || q.Mask[t] {
				scored++
			}
		}
		if scored == 0 {
			s.empty++
			continue
		}
		if len(cur.queries) > 0 && len(s.rows)/dim-cur.r0+scored > batchRows {
			flush()
		}
		start := len(s.rows) / dim
		for t := 0; t < n; t++ {
			if q.Mask == nil || q.Mask[t] {
				v := q.Vectors[t*dim : (t+1)*dim]
				s.rows = append(s.rows, v...)
				if cosine {
					vecmath.Normalize(s.rows[len(s.rows)-dim:], vecmath.CosineEps)
				}
			}
		}
		cur.queries = append(cur.queries, batchQuery{index: qi, r0: start - cur.r0, r1: start - cur.r0 + scored})
		cur.r1 = start + scored
	}
	flush()
	if s.l2 {
		s.qq = make([]float32, len(s.rows)/dim)
		for i := range s.qq {
			s.qq[i] = vecmath.SqNorm(s.rows[i*dim : (i+1)*dim])
		}
	}
	return nil
}

// scratch is one thread's working memory.
type scratch struct {
	packed vecmath.Packed // the batch's query vectors
	tile   []float32      // block vectors × batch rows
	dd     []float32      // ‖d‖² of the block's vectors (l2)
	buf    []float32      // decoded float16 rows
	per    []float32      // one document's doc-aggregated value per batch row
	heaps  []topk.Heap
}

// scan offers documents lo..hi-1 to the batch's queries.
func (s *searcher) scan(sc *scratch, b batch, shard, lo, hi int) {
	nr := b.r1 - b.r0
	if len(sc.heaps) < len(b.queries) {
		sc.heaps = make([]topk.Heap, len(b.queries))
	}
	for i := range b.queries {
		sc.heaps[i].Reset(s.k)
	}
	sc.per = slices.Grow(sc.per[:0], nr)[:nr]
	sc.packed.Pack(s.rows[b.r0*s.dim:b.r1*s.dim], nr, s.dim)
	ldo := sc.packed.Width()
	qq := s.qq
	if s.l2 {
		qq = s.qq[b.r0:b.r1]
	}
	for d0 := lo; d0 < hi; {
		// A block of whole documents: at least one, then as many as fit.
		t0, t1 := s.ix.DocRows(d0)
		d1 := d0 + 1
		for d1 < hi {
			_, e := s.ix.DocRows(d1)
			if e-t0 > s.blockRows {
				break
			}
			t1 = e
			d1++
		}
		if nt := t1 - t0; nt > 0 {
			// A float32 index returns a view of its file; a float16 one
			// decodes into buf, kept for the next block.
			rows := s.ix.Vectors(t0, t1, sc.buf)
			sc.buf = rows
			if len(sc.tile) < ldo*nt {
				sc.tile = make([]float32, max(ldo*nt, batchRows*s.blockRows))
			}
			// tile[t*ldo+r] = q_r·d_t
			sc.packed.Dots(sc.tile, ldo, rows, nt)
			if s.l2 {
				sc.dd = slices.Grow(sc.dd[:0], nt)[:nt]
				for j := range sc.dd {
					sc.dd[j] = vecmath.SqNorm(rows[j*s.dim : (j+1)*s.dim])
				}
			}
			for d := d0; d < d1; d++ {
				a, e := s.ix.DocRows(d)
				if a == e {
					continue // nothing stored: never returned
				}
				a, e = a-t0, e-t0
				if s.l2 {
					docAggL2(sc.per, sc.tile, ldo, a, e, qq, sc.dd, s.docAgg)
				} else {
					docAgg(sc.per, sc.tile, ldo, a, e, s.docAgg)
				}
				for qi, q := range b.queries {
					score := float64(queryAgg(sc.per[q.r0:q.r1], s.qAgg))
					h := &sc.heaps[qi]
					if score != score || h.Full() && !(score > h.Worst().Score) {
						continue
					}
					h.Offer(topk.Entry{Score: score, Rank: uint32(d), Doc: uint32(d)})
				}
			}
		}
		d0 = d1
	}
	for qi, q := range b.queries {
		s.results[q.index*s.shards+shard] = sc.heaps[qi].Sorted()
	}
}

// docAgg reduces a document's dot products, tile rows a..e-1 (one per
// stored vector, all scored; ldo apart), into per: one value per batch
// row.
func docAgg(per, tile []float32, ldo, a, e int, how string) {
	nr := len(per)
	copy(per, tile[a*ldo:a*ldo+nr])
	for t := a + 1; t < e; t++ {
		row := tile[t*ldo : t*ldo+nr]
		if how == "max" {
			for r, v := range row {
				if v > per[r] {
					per[r] = v
				}
			}
		} else {
			for r, v := range row {
				per[r] += v
			}
		}
	}
	if how == "mean" {
		n := float32(e - a)
		for r := range per {
			per[r] /= n
		}
	}
}

// docAggL2 is docAgg for negative Euclidean distances, computed from dot
// products in Lightning IR's order: t = (−2·q·d + ‖q‖²) + ‖d‖², similarity
// −sqrt(max(t, 0)). For max, the document vector with the least t gives
// the largest similarity, so one square root suffices.
func docAggL2(per, tile []float32, ldo, a, e int, qq, dd []float32, how string) {
	nr := len(per)
	sim := func(t float32) float32 { return -float32(math.Sqrt(float64(max(t, 0)))) }
	for r := range per {
		per[r] = 0
		if how == "max" {
			per[r] = float32(math.Inf(1))
		}
	}
	for t := a; t < e; t++ {
		row := tile[t*ldo : t*ldo+nr]
		for r, v := range row {
			x := -2*v + qq[r]
			x += dd[t]
			if how == "max" {
				if x < per[r] {
					per[r] = x
				}
			} else {
				per[r] += sim(x)
			}
		}
	}
	for r := range per {
		switch how {
		case "max":
			per[r] = sim(per[r])
		case "mean":
			per[r] /= float32(e - a)
		}
	}
}

// queryAgg reduces the per-vector values of a query's scored vectors (at
// least one), as Lightning IR's aggregate over the query dimension.
func queryAgg(v []float32, how string) float32 {
	switch how {
	case "sum":
		return sum(v)
	case "mean":
		return sum(v) / float32(len(v))
	case "max":
		m := v[0]
		for _, x := range v[1:] {
			m = max(m, x)
		}
		return m
	default: // harmonic_mean: count / Σ 1/v
		var inv float32
		for _, x := range v {
			inv += 1 / x
		}
		return float32(len(v)) / inv
	}
}

func sum(v []float32) float32 {
	var s float32
	for _, x := range v {
		s += x
	}
	return s
}
