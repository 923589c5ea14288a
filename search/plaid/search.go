// Package plaid searches an index/plaid index as PLAID does (Santhanam et
// al., CIKM 2022), one query at a time:
//
//  1. the similarity of every scored query vector with every centroid;
//  2. candidate generation: for each query vector its NCells best
//     centroids, and every document holding a token of one of them
//     (the index's inverted file);
//  3. centroid interaction with pruning: each candidate's approximate
//     MaxSim from its tokens' centroids only, leaving out the centroids
//     whose best similarity to any query vector is below
//     CentroidScoreThreshold (a query vector that meets none of the
//     document's kept centroids counts −9999, as PLAID's reference);
//  4. the CandidateK best by that score are scored with the model's
//     aggregations: from the decompressed tokens (centroid + residual,
//     PLAID's own final step) or, with Rescore, from the full token
//     vectors of the multivector index the PLAID index was built from.
//
// Final scores use exact search's arithmetic (package search/multivector:
// the same kernel and reductions), so with Rescore, every centroid a
// candidate source, no pruning and CandidateK ≥ the number of documents,
// the hits and scores are exactly those of exact search.
package plaid

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	plaidx "github.com/irflow/irflow/index/plaid"
	"github.com/irflow/irflow/internal/parallel"
	"github.com/irflow/irflow/internal/vecmath"
	"github.com/irflow/irflow/search/internal/topk"
	multis "github.com/irflow/irflow/search/multivector"
)

// Hit is one retrieved document (the same type as exact search's).
type Hit = multis.Hit

// Query is one query's vectors and scoring mask (as exact search's).
type Query = multis.Query

// Defaults: Lightning IR's PlaidSearchConfig.
const (
	DefaultCandidateK             = 256
	DefaultNCells                 = 1
	DefaultCentroidScoreThreshold = 0.5
)

// missing is what a query vector contributes to a document's approximate
// score when none of the document's kept centroids is left to it.
const missing = -9999

// Options configure SearchAll.
type Options struct {
	K int
	// NCells is the number of best centroids per query vector whose
	// documents become candidates (1 ≤ NCells ≤ the index's centroids).
	NCells int
	// CentroidScoreThreshold prunes centroids from the approximate
	// scores; −Inf keeps all.
	CentroidScoreThreshold float64
	// CandidateK is the number of candidates scored in full (≥ K; 0 = K).
	CandidateK int
	// Rescore scores the candidates from the full token vectors instead
	// of the decompressed ones.
	Rescore bool
	// QueryAggregation as exact search's (default "sum").
	QueryAggregation string
	Threads          int
	// Progress, if set, is told about finished queries.
	Progress func(n int64)
}

// SearchAll returns the top K hits of every query: score descending, then
// document number.
func SearchAll(ctx context.Context, ix *plaidx.Index, queries []Query, o Options) ([][]Hit, error) {
	m := ix.Meta()
	if o.K <= 0 {
		return nil, fmt.Errorf("plaid search: k must be positive, got %d", o.K)
	}
	if o.NCells <= 0 || o.NCells > m.NumCentroids {
		return nil, fmt.Errorf("plaid search: n_cells = %d: want 1 to the index's %d centroids", o.NCells, m.NumCentroids)
	}
	if o.CandidateK == 0 {
		o.CandidateK = o.K
	}
	if o.CandidateK < o.K {
		return nil, fmt.Errorf("plaid search: candidate_k = %d is below k = %d", o.CandidateK, o.K)
	}
	if math.IsNaN(o.CentroidScoreThreshold) {
		return nil, fmt.Errorf("plaid search: centroid_score_threshold is NaN")
	}
	if o.QueryAggregation == "" {
		o.QueryAggregation = "sum"
	}
	if !slices.Contains(multis.QueryAggregations, o.QueryAggregation) {
		return nil, fmt.Errorf("plaid search: query aggregation %q not supported (want one of %q)", o.QueryAggregation, multis.QueryAggregations)
	}
	rows := make([][]float32, len(queries))
	for qi, q := range queries {
		var err error
		if rows[qi], err = scored(q, m.Dim, m.Similarity == "cosine"); err != nil {
			return nil, fmt.Errorf("plaid search: query %d: %w", qi, err)
		}
	}
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	out := make([][]Hit, len(queries))
	scr := make([]*scratch, threads)
	var mu sync.Mutex
	err := parallel.Tasks(ctx, threads, len(queries), func(w, qi int) {
		if scr[w] == nil {
			scr[w] = newScratch(ix)
		}
		out[qi] = scr[w].search(ix, rows[qi], o)
		if o.Progress != nil {
			mu.Lock()
			o.Progress(1)
			mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scored returns a query's scored vectors (normalised for cosine).
func scored(q Query, dim int, cosine bool) ([]float32, error) {
	if len(q.Vectors)%dim != 0 {
		return nil, fmt.Errorf("%d values is not a multiple of the index's dim %d", len(q.Vectors), dim)
	}
	n := len(q.Vectors) / dim
	if q.Mask != nil && len(q.Mask) != n {
		return nil, fmt.Errorf("mask of %d for %d vectors", len(q.Mask), n)
	}
	if i := vecmath.CheckFinite(q.Vectors); i >= 0 {
		return nil, fmt.Errorf("vector %d, value %d is %v", i/dim, i%dim, q.Vectors[i])
	}
	var rows []float32
	for t := 0; t < n; t++ {
		if q.Mask == nil || q.Mask[t] {
			rows = append(rows, q.Vectors[t*dim:(t+1)*dim]...)
			if cosine {
				vecmath.Normalize(rows[len(rows)-dim:], vecmath.CosineEps)
			}
		}
	}
	return rows, nil
}

// scratch is one thread's working memory.
type scratch struct {
	packed vecmath.Packed
	cs     []float32 // centroid scores: cs[c*ldo+r] = q_r·centroid c
	kept   []bool    // centroid survives pruning
	seen   []uint32  // per document: the query stamp that made it a candidate
	stamp  uint32
	cands  []uint32
	best   []int32 // a query vector's best centroids so far
	per    []float32
	approx []float64
	tile   []float32
	buf    []float32 // decompressed tokens
	dec    []float32 // float16 rows decoded
	heap   topk.Heap
}

func newScratch(ix *plaidx.Index) *scratch {
	m := ix.Meta()
	return &scratch{kept: make([]bool, m.NumCentroids), seen: make([]uint32, m.NumDocs)}
}

func (s *scratch) search(ix *plaidx.Index, rows []float32, o Options) []Hit {
	m := ix.Meta()
	d, k := m.Dim, m.NumCentroids
	nr := len(rows) / d
	if nr == 0 {
		return []Hit{}
	}
	s.packed.Pack(rows, nr, d)
	ldo := s.packed.Width()
	s.cs = slices.Grow(s.cs[:0], ldo*k)[:ldo*k]
	s.packed.Dots(s.cs, ldo, ix.Centroids(), k)

	// Candidates: the documents of each query vector's NCells best
	// centroids (ties: the lower number).
	s.stamp++
	if s.stamp == 0 { // wrapped: forget every earlier stamp
		clear(s.seen)
		s.stamp = 1
	}
	s.cands = s.cands[:0]
	for r := 0; r < nr; r++ {
		s.best = s.best[:0]
		for c := 0; c < k; c++ {
			v := s.cs[c*ldo+r]
			if len(s.best) == o.NCells && !(v > s.cs[int(s.best[len(s.best)-1])*ldo+r]) {
				continue
			}
			i := len(s.best)
			for i > 0 && v > s.cs[int(s.best[i-1])*ldo+r] {
				i--
			}
			if len(s.best) < o.NCells {
				s.best = append(s.best, 0)
			}
			copy(s.best[i+1:], s.best[i:len(s.best)-1])
			s.best[i] = int32(c)
		}
		for _, c := range s.best {
			for _, doc := range ix.Docs(int(c)) {
				if s.seen[doc] != s.stamp {
					s.seen[doc] = s.stamp
					s.cands = append(s.cands, doc)
				}
			}
		}
	}

	// Pruning and centroid interaction.
	thr := float32(o.CentroidScoreThreshold)
	for c := 0; c < k; c++ {
		col := s.cs[c*ldo : c*ldo+nr]
		s.kept[c] = o.CentroidScoreThreshold <= math.Inf(-1) || slices.Max(col) >= thr
	}
	s.per = slices.Grow(s.per[:0], nr)[:nr]
	s.heap.Reset(o.CandidateK)
	full := ix.Full()
	for _, doc := range s.cands {
		lo, hi := full.DocRows(int(doc))
		for r := range s.per {
			s.per[r] = missing
		}
		for _, c := range ix.Codes(lo, hi) {
			if !s.kept[c] {
				continue
			}
			col := s.cs[int(c)*ldo : int(c)*ldo+nr]
			for r, v := range col {
				s.per[r] = max(s.per[r], v)
			}
		}
		var a float64
		for _, v := range s.per {
			a += float64(v)
		}
		e := topk.Entry{Score: a, Rank: doc, Doc: doc}
		if !s.heap.Full() || e.Better(s.heap.Worst()) {
			s.heap.Offer(e)
		}
	}

	// The survivors, scored in full.
	cands := s.heap.Sorted()
	s.heap.Reset(o.K)
	for _, e := range cands {
		lo, hi := full.DocRows(int(e.Doc))
		nt := hi - lo
		var vecs []float32
		if o.Rescore { // a view of a float32 index's file: never written to
			vecs = full.Vectors(lo, hi, s.dec)
			if full.Meta().DType != "float32" {
				s.dec = vecs
			}
		} else {
			s.buf = ix.Decompress(lo, hi, s.buf)
			vecs = s.buf
		}
		s.tile = slices.Grow(s.tile[:0], ldo*nt)[:ldo*nt]
		s.packed.Dots(s.tile, ldo, vecs[:nt*d], nt)
		multis.DocAggregate(s.per, s.tile, ldo, 0, nt, m.DocAggregation)
		score := float64(multis.QueryAggregate(s.per, o.QueryAggregation))
		if score != score {
			continue
		}
		f := topk.Entry{Score: score, Rank: e.Doc, Doc: e.Doc}
		if !s.heap.Full() || f.Better(s.heap.Worst()) {
			s.heap.Offer(f)
		}
	}
	best := s.heap.Sorted()
	hits := make([]Hit, len(best))
	for i, e := range best {
		hits[i] = Hit{ID: full.DocID(int(e.Doc)), Score: e.Score, Doc: int(e.Doc)}
	}
	return hits
}
