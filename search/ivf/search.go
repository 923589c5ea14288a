// Package ivf searches an index/ivf index: the query's n_probe best lists
// (by the index's similarity to their centroids), scored exactly from the
// stored vectors (IVF-Flat) or by asymmetric distance computation (PQ,
// IVF-PQ: per query a table of the query's similarity to every codeword,
// summed over a code's bytes), the candidate_k best candidates kept, then
// optionally re-scored exactly from the dense index the ivf index was
// built from (Lightning IR's "gather" imputation) before the top k.
//
// Exact scores are computed as search/dense computes them (same kernel,
// same order of operations), so IVF-Flat with every list probed, or PQ
// with every document re-scored, returns exactly the exact search's hits
// and scores.
package ivf

import (
	"context"
	"fmt"
	"math"
	"runtime"

	ivfx "github.com/irflow/irflow/index/ivf"
	"github.com/irflow/irflow/internal/parallel"
	"github.com/irflow/irflow/internal/vecmath"
	"github.com/irflow/irflow/search/internal/topk"
)

// Hit is one retrieved document.
type Hit struct {
	ID    string
	Score float64 // a float32 computation, widened
	Doc   int
}

// Options configure SearchAll.
type Options struct {
	K int
	// NProbe is the number of lists searched per query (1 ≤ NProbe ≤
	// NLists; 0 means 1). pq has one list.
	NProbe int
	// CandidateK is the number of approximate candidates kept per query
	// before the top K (0 means K; else ≥ K). Only quantised indexes use
	// it: IVF-Flat scores exactly.
	CandidateK int
	// Rescore replaces the candidates' approximate scores by exact ones
	// from the dense index (quantised indexes).
	Rescore bool
	Threads int
	// Progress, if set, is told about finished queries.
	Progress func(n int64)
}

const queryBatch = 128

// SearchAll returns the top K hits of every query (nq × Dim values,
// row-major): score descending, then document number.
func SearchAll(ctx context.Context, ix *ivfx.Index, queries []float32, o Options) ([][]Hit, error) {
	m := ix.Meta()
	L := m.Lists()
	if o.K <= 0 {
		return nil, fmt.Errorf("ivf search: k must be positive, got %d", o.K)
	}
	if o.NProbe == 0 {
		o.NProbe = 1
	}
	if o.NProbe < 0 || o.NProbe > L {
		return nil, fmt.Errorf("ivf search: n_probe = %d: the index has %d lists", o.NProbe, L)
	}
	if o.CandidateK == 0 {
		o.CandidateK = o.K
	}
	if o.CandidateK < o.K {
		return nil, fmt.Errorf("ivf search: candidate_k = %d is below k = %d", o.CandidateK, o.K)
	}
	if len(queries)%m.Dim != 0 {
		return nil, fmt.Errorf("ivf search: %d query values is not a multiple of the index's dim %d", len(queries), m.Dim)
	}
	if i := vecmath.CheckFinite(queries); i >= 0 {
		return nil, fmt.Errorf("ivf search: query %d, value %d is %v", i/m.Dim, i%m.Dim, queries[i])
	}
	d := m.Dim
	nq := len(queries) / d
	out := make([][]Hit, nq)
	if nq == 0 || m.NumDocs == 0 {
		for i := range out {
			out[i] = []Hit{}
		}
		return out, nil
	}
	s := &searcher{ix: ix, o: o, d: d, L: L, l2: m.Similarity == "l2", q: queries,
		k: min(o.K, m.NumDocs), cand: min(o.CandidateK, m.NumDocs)}
	if m.Similarity == "cosine" {
		s.q = append([]float32(nil), queries...)
		for i := 0; i < nq; i++ {
			vecmath.Normalize(s.q[i*d:(i+1)*d], vecmath.CosineEps)
		}
	}
	s.qr = s.q
	if r := ix.Rotation(); r != nil {
		s.qr = make([]float32, len(s.q))
		for i := 0; i < nq; i++ {
			for t := 0; t < d; t++ {
				s.qr[i*d+t] = dot32(r[t*d:(t+1)*d], s.q[i*d:(i+1)*d])
			}
		}
	}
	if c := ix.Centroids(); c != nil && s.l2 {
		s.cc = make([]float32, L)
		for l := range s.cc {
			s.cc[l] = vecmath.SqNorm(c[l*d : (l+1)*d])
		}
	}
	res := make([][]topk.Entry, nq)
	nb := (nq + queryBatch - 1) / queryBatch
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	scr := make([]*scratch, threads) // one per worker, made on its first task
	err := parallel.Tasks(ctx, threads, nb, func(w, b int) {
		if scr[w] == nil {
			scr[w] = &scratch{}
		}
		q0, q1 := b*queryBatch, min(nq, (b+1)*queryBatch)
		s.batch(scr[w], q0, q1, res)
		if o.Progress != nil {
			o.Progress(int64(q1 - q0))
		}
	})
	if err != nil {
		return nil, err
	}
	for i, es := range res {
		hits := make([]Hit, len(es))
		for j, e := range es {
			hits[j] = Hit{ID: ix.Full().DocID(int(e.Doc)), Score: e.Score, Doc: int(e.Doc)}
		}
		out[i] = hits
	}
	return out, nil
}

// dot32 is a plain float32 dot product, summed in order.
func dot32(a, b []float32) float32 {
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

type searcher struct {
	ix      *ivfx.Index
	o       Options
	d, L    int
	l2      bool
	k, cand int
	q       []float32 // queries (normalised for cosine)
	qr      []float32 // queries in the quantiser's space (rotated with OPQ)
	cc      []float32 // ‖c‖² of the centroids (l2)
}

// scratch is one worker's memory.
type scratch struct {
	p     vecmath.Packed
	tile  []float32
	probe [][]int32 // per query of the batch: lists to search
	heaps []topk.Heap
	table []float32
	resid []float32
	rows  []float32
	buf   []float32
	sel   []int
	qsel  []float32
	cands []topk.Entry
}

// batch searches queries q0..q1-1 and stores their sorted results.
func (s *searcher) batch(sc *scratch, q0, q1 int, res [][]topk.Entry) {
	nq := q1 - q0
	if len(sc.heaps) < queryBatch {
		sc.heaps = make([]topk.Heap, queryBatch)
		sc.probe = make([][]int32, queryBatch)
	}
	s.probes(sc, q0, q1)
	if s.ix.Meta().Method == ivfx.MethodIVF {
		s.flat(sc, q0, q1)
		for i := 0; i < nq; i++ {
			res[q0+i] = sc.heaps[i].Sorted()
		}
		return
	}
	for i := 0; i < nq; i++ {
		res[q0+i] = s.quantised(sc, q0+i, sc.probe[i])
	}
}

// probes chooses each query's n_probe lists: the best centroids by the
// index's similarity (largest inner product, or nearest), ties to the
// lower list number. With every list probed it takes them in order.
func (s *searcher) probes(sc *scratch, q0, q1 int) {
	nq := q1 - q0
	c := s.ix.Centroids()
	if c == nil || s.o.NProbe == s.L {
		for i := 0; i < nq; i++ {
			sc.probe[i] = sc.probe[i][:0]
			for l := 0; l < s.o.NProbe; l++ {
				sc.probe[i] = append(sc.probe[i], int32(l))
			}
		}
		return
	}
	sc.p.Pack(s.qr[q0*s.d:q1*s.d], nq, s.d)
	if len(sc.tile) < queryBatch*s.L {
		sc.tile = make([]float32, queryBatch*s.L)
	}
	sc.p.Dots(sc.tile, queryBatch, c, s.L)
	var h topk.Heap
	for i := 0; i < nq; i++ {
		h.Reset(s.o.NProbe)
		for l := 0; l < s.L; l++ {
			v := sc.tile[l*queryBatch+i]
			if s.l2 {
				v = 2*v - s.cc[l] // −(‖q−c‖² − ‖q‖²)
			}
			h.Offer(topk.Entry{Score: float64(v), Rank: uint32(l), Doc: uint32(l)})
		}
		sc.probe[i] = sc.probe[i][:0]
		for _, e := range h.Sorted() {
			sc.probe[i] = append(sc.probe[i], int32(e.Doc))
		}
	}
}

// flatBlock is the number of stored vectors scored per kernel call.
const flatBlock = 96

// flat scores the probed lists of IVF-Flat exactly, list by list with
// every query of the batch that probes it packed together.
func (s *searcher) flat(sc *scratch, q0, q1 int) {
	nq := q1 - q0
	for i := 0; i < nq; i++ {
		sc.heaps[i].Reset(s.k)
	}
	byList := make([][]int, s.L)
	for i := 0; i < nq; i++ {
		for _, l := range sc.probe[i] {
			byList[l] = append(byList[l], i)
		}
	}
	d := s.d
	if len(sc.tile) < queryBatch*flatBlock {
		sc.tile = make([]float32, max(len(sc.tile), queryBatch*flatBlock))
	}
	qq := make([]float32, nq)
	if s.l2 {
		for i := range qq {
			qq[i] = vecmath.SqNorm(s.q[(q0+i)*d : (q0+i+1)*d])
		}
	}
	for l, qs := range byList {
		if len(qs) == 0 {
			continue
		}
		sc.qsel = sc.qsel[:0]
		for _, i := range qs {
			sc.qsel = append(sc.qsel, s.q[(q0+i)*d:(q0+i+1)*d]...)
		}
		sc.p.Pack(sc.qsel, len(qs), d)
		lo, hi := s.ix.List(l)
		for b0 := lo; b0 < hi; b0 += flatBlock {
			b1 := min(hi, b0+flatBlock)
			nd := b1 - b0
			sc.p.Dots(sc.tile, queryBatch, s.ix.FlatRows(b0, b1), nd)
			docs := s.ix.Docs(b0, b1)
			var norms []float32
			if s.l2 {
				norms = s.ix.Norms(b0, b1)
			}
			for qi, i := range qs {
				h := &sc.heaps[i]
				for j := 0; j < nd; j++ {
					v := sc.tile[j*queryBatch+qi]
					var score float64
					if s.l2 {
						score = l2Score(v, qq[i], norms[j])
					} else {
						score = float64(v)
					}
					doc := docs[j]
					h.Offer(topk.Entry{Score: score, Rank: doc, Doc: doc})
				}
			}
		}
	}
}

// l2Score is search/dense's negative Euclidean distance from a dot
// product: −sqrt(max((−2·q·d + ‖q‖²) + ‖d‖², 0)) in float32.
func l2Score(dot, qq, dd float32) float64 {
	t := -2*dot + qq
	t += dd
	return -float64(float32(math.Sqrt(float64(max(t, 0)))))
}

// quantised searches query qi's probed lists of a PQ or IVF-PQ index by
// asymmetric distance computation and returns its sorted hits.
func (s *searcher) quantised(sc *scratch, qi int, probe []int32) []topk.Entry {
	pq := s.ix.PQ()
	d, M := s.d, pq.M
	q := s.qr[qi*d : (qi+1)*d]
	c := s.ix.Centroids()
	h := &sc.heaps[0]
	h.Reset(s.cand)
	if len(sc.table) < M*ivfx.KSub {
		sc.table = make([]float32, M*ivfx.KSub)
	}
	table := sc.table[:M*ivfx.KSub]
	// Inner product: one table for every list, q_j·codeword; the list's
	// q·c is added to each code's sum.
	// Euclidean: per list, ‖(q−c)_j − codeword‖²; a code's sum is the
	// squared distance, its score the negated sum.
	if !s.l2 {
		fillTable(table, pq, q, false)
	}
	for _, l := range probe {
		var base float32
		rq := q
		if c != nil {
			cl := c[int(l)*d : (int(l)+1)*d]
			if s.l2 {
				sc.resid = append(sc.resid[:0], q...)
				for t := range sc.resid {
					sc.resid[t] -= cl[t]
				}
				rq = sc.resid
			} else {
				base = dot32(q, cl)
			}
		}
		if s.l2 {
			fillTable(table, pq, rq, true)
		}
		lo, hi := s.ix.List(int(l))
		codes := s.ix.Codes(lo, hi)
		docs := s.ix.Docs(lo, hi)
		for j, doc := range docs {
			code := codes[j*M : (j+1)*M]
			var acc float32
			for t, b := range code {
				acc += table[t*ivfx.KSub+int(b)]
			}
			score := float64(base + acc)
			if s.l2 {
				score = -float64(acc)
			}
			h.Offer(topk.Entry{Score: score, Rank: doc, Doc: doc})
		}
	}
	cands := h.Sorted()
	if !s.o.Rescore {
		cands = cands[:min(s.k, len(cands))]
		if s.l2 {
			for i := range cands {
				cands[i].Score = -float64(float32(math.Sqrt(max(-cands[i].Score, 0))))
			}
		}
		return cands
	}
	return s.rescore(sc, qi, cands)
}

// fillTable writes, for every sub-space t and codeword c, q_t·codeword
// (inner product) or ‖q_t − codeword‖² (l2) into table[t*256+c].
func fillTable(table []float32, pq *ivfx.PQ, q []float32, l2 bool) {
	for t := 0; t < pq.M; t++ {
		qt := q[t*pq.Dsub : (t+1)*pq.Dsub]
		for c := 0; c < ivfx.KSub; c++ {
			cw := pq.Codeword(t, c)
			var v float32
			if l2 {
				for u, x := range qt {
					e := x - cw[u]
					v += e * e
				}
			} else {
				for u, x := range qt {
					v += x * cw[u]
				}
			}
			table[t*ivfx.KSub+c] = v
		}
	}
}

// rescore scores the candidates exactly from the dense index, as
// search/dense does, and returns the k best.
func (s *searcher) rescore(sc *scratch, qi int, cands []topk.Entry) []topk.Entry {
	d := s.d
	full := s.ix.Full()
	q := s.q[qi*d : (qi+1)*d]
	sc.p.Pack(q, 1, d)
	var qq float32
	if s.l2 {
		qq = vecmath.SqNorm(q)
	}
	h := &sc.heaps[0]
	h.Reset(s.k)
	if len(sc.tile) < queryBatch*flatBlock {
		sc.tile = make([]float32, max(len(sc.tile), queryBatch*flatBlock))
	}
	for b0 := 0; b0 < len(cands); b0 += flatBlock {
		b1 := min(len(cands), b0+flatBlock)
		sc.rows = sc.rows[:0]
		for _, e := range cands[b0:b1] {
			sc.buf = full.Vectors(int(e.Doc), int(e.Doc)+1, sc.buf)
			sc.rows = append(sc.rows, sc.buf...)
		}
		sc.p.Dots(sc.tile, queryBatch, sc.rows, b1-b0)
		for j, e := range cands[b0:b1] {
			v := sc.tile[j*queryBatch]
			score := float64(v)
			if s.l2 {
				score = l2Score(v, qq, vecmath.SqNorm(sc.rows[j*d:(j+1)*d]))
			}
			h.Offer(topk.Entry{Score: score, Rank: e.Doc, Doc: e.Doc})
		}
	}
	return h.Sorted()
}
