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
		rT := transposeFor(r, d)
		for i := 0; i < nq; i++ {
			rotateT(s.qr[i*d:(i+1)*d], r, rT, s.q[i*d:(i+1)*d])
		}
	}
	if c := ix.Centroids(); c != nil && s.l2 {
		s.cc = make([]float32, L)
		for l := range s.cc {
			s.cc[l] = vecmath.SqNorm(c[l*d : (l+1)*d])
		}
	}
	if pq := ix.PQ(); pq != nil {
		s.cwT = transposeCodebooks(pq)
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

// rotate sets out = R·q for the d × d rotation R (row-major): each output
// is dot32 of a row with q, four rows at a time so that their sums overlap
// (each still summed in order, so bit for bit dot32's).
func rotate(out, r, q []float32) {
	d := len(q)
	t := 0
	for ; t+4 <= d; t += 4 {
		r0, r1, r2, r3 := r[t*d:(t+1)*d], r[(t+1)*d:(t+2)*d], r[(t+2)*d:(t+3)*d], r[(t+3)*d:(t+4)*d]
		var a0, a1, a2, a3 float32
		for u, x := range q {
			a0 += r0[u] * x
			a1 += r1[u] * x
			a2 += r2[u] * x
			a3 += r3[u] * x
		}
		out[t], out[t+1], out[t+2], out[t+3] = a0, a1, a2, a3
	}
	for ; t < d; t++ {
		out[t] = dot32(r[t*d:(t+1)*d], q)
	}
}

// transposeFor returns the d × d rotation r transposed when rotateT can
// use it (AVX, d a multiple of 64), else nil.
func transposeFor(r []float32, d int) []float32 {
	if !useAVX || d%64 != 0 {
		return nil
	}
	rT := make([]float32, d*d)
	for t := 0; t < d; t++ {
		for u := 0; u < d; u++ {
			rT[u*d+t] = r[t*d+u]
		}
	}
	return rT
}

// rotateT is rotate through fillSub over the transpose rT when there is
// one: 64 outputs per pass, each still summed in order of u with a
// rounded multiply and add, so bit for bit rotate's (TestRotateIsDot32).
func rotateT(out, r, rT, q []float32) {
	d := len(q)
	if rT == nil {
		rotate(out, r, q)
		return
	}
	_, _ = out[d-1], rT[d*d-1]
	fillSub(&out[0], &rT[0], &q[0], d, d, d, false)
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
	// cwT holds the PQ codebooks transposed, [sub-space][dim][codeword],
	// so a sub-space's 256 table entries are filled together (fillTable).
	cwT []float32
}

// scratch is one worker's memory.
type scratch struct {
	p     vecmath.Packed
	tile  []float32
	probe [][]int32 // per query of the batch: lists to search
	heaps []topk.Heap
	table []float32
	tabs  []*[ivfx.KSub]float32 // table's rows, one per sub-space
	sums  []float32             // ADC sums of one list's codes
	resid []float32
	rows  []float32
	buf   []float32
	sel   []int
	qsel  []float32
	qq    []float32 // ‖q‖² of the batch's queries (l2)
	// byList[l] holds the batch's queries that probe list l (IVF-Flat).
	byList [][]int
	cands  []topk.Entry
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

// oneQueryMax is the most queries of a batch for which a list is scored
// one query at a time (vecmath.DotsOne) rather than as a packed panel:
// DotsOne costs about a fifth of a 16-row panel (BenchmarkDotsOne, 96 ×
// 128), so up to four queries are cheaper alone. With many lists and
// few probes (1,024 lists, n_probe 1–4, a batch of 128 queries) nearly
// every list has one or two.
const oneQueryMax = 4

// flat scores the probed lists of IVF-Flat exactly, list by list with
// every query of the batch that probes it: packed together, or one by one
// when there are few. Both kernels sum each product in the same order, so
// a score does not depend on which scored it.
func (s *searcher) flat(sc *scratch, q0, q1 int) {
	nq := q1 - q0
	for i := 0; i < nq; i++ {
		sc.heaps[i].Reset(s.k)
	}
	if len(sc.byList) < s.L {
		sc.byList = make([][]int, s.L)
	}
	byList := sc.byList[:s.L]
	for l := range byList {
		byList[l] = byList[l][:0]
	}
	for i := 0; i < nq; i++ {
		for _, l := range sc.probe[i] {
			byList[l] = append(byList[l], i)
		}
	}
	d := s.d
	if len(sc.tile) < queryBatch*flatBlock {
		sc.tile = make([]float32, max(len(sc.tile), queryBatch*flatBlock))
	}
	qq := sc.qq[:0]
	if s.l2 {
		for i := 0; i < nq; i++ {
			qq = append(qq, vecmath.SqNorm(s.q[(q0+i)*d:(q0+i+1)*d]))
		}
	}
	sc.qq = qq
	for l, qs := range byList {
		if len(qs) == 0 {
			continue
		}
		packed := len(qs) > oneQueryMax
		if packed {
			sc.qsel = sc.qsel[:0]
			for _, i := range qs {
				sc.qsel = append(sc.qsel, s.q[(q0+i)*d:(q0+i+1)*d]...)
			}
			sc.p.Pack(sc.qsel, len(qs), d)
		}
		lo, hi := s.ix.List(l)
		for b0 := lo; b0 < hi; b0 += flatBlock {
			b1 := min(hi, b0+flatBlock)
			nd := b1 - b0
			rows := s.ix.FlatRows(b0, b1)
			if packed {
				sc.p.Dots(sc.tile, queryBatch, rows, nd)
			}
			docs := s.ix.Docs(b0, b1)
			var norms []float32
			if s.l2 {
				norms = s.ix.Norms(b0, b1)
			}
			for qi, i := range qs {
				// col[j*stride] is query i's product with row j.
				col, stride := sc.tile[qi:], queryBatch
				if !packed {
					col, stride = sc.tile[:nd], 1
					vecmath.DotsOne(col, s.q[(q0+i)*d:(q0+i+1)*d], rows, nd)
				}
				h := &sc.heaps[i]
				for j, doc := range docs {
					v := col[j*stride]
					score := float64(v)
					if s.l2 {
						score = l2Score(v, qq[i], norms[j])
					}
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
		fillTable(table, s.cwT, pq.Dsub, q, false)
	}
	tabs := sc.tabs[:0]
	for t := 0; t < M; t++ {
		tabs = append(tabs, (*[ivfx.KSub]float32)(table[t*ivfx.KSub:]))
	}
	sc.tabs = tabs
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
			fillTable(table, s.cwT, pq.Dsub, rq, true)
		}
		lo, hi := s.ix.List(int(l))
		docs := s.ix.Docs(lo, hi)
		sums := adcSums(sc, tabs, s.ix.Codes(lo, hi), M, len(docs))
		for j, doc := range docs {
			score := float64(base + sums[j])
			if s.l2 {
				score = -float64(sums[j])
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

// adcSums returns, for each of the n codes (m bytes each), the sum over
// sub-spaces t of tabs[t][code[t]], in sc.sums. Four codes go through the
// sub-spaces together: their four sums are independent chains of
// additions the CPU overlaps, where one code at a time waits on each add.
// Each code's sum still adds t = 0, 1, … in order, so the result is bit
// for bit that of the one-code loop.
func adcSums(sc *scratch, tabs []*[ivfx.KSub]float32, codes []uint8, m, n int) []float32 {
	if cap(sc.sums) < n {
		sc.sums = make([]float32, n)
	}
	sums := sc.sums[:n]
	tabs = tabs[:m]
	j := 0
	for ; j+4 <= n; j += 4 {
		c0 := codes[j*m : (j+1)*m]
		c1 := codes[(j+1)*m : (j+2)*m]
		c2 := codes[(j+2)*m : (j+3)*m]
		c3 := codes[(j+3)*m : (j+4)*m]
		var a0, a1, a2, a3 float32
		for t, tab := range tabs {
			a0 += tab[c0[t]]
			a1 += tab[c1[t]]
			a2 += tab[c2[t]]
			a3 += tab[c3[t]]
		}
		sums[j], sums[j+1], sums[j+2], sums[j+3] = a0, a1, a2, a3
	}
	for ; j < n; j++ {
		var a float32
		for t, b := range codes[j*m : (j+1)*m] {
			a += tabs[t][b]
		}
		sums[j] = a
	}
	return sums
}

// transposeCodebooks lays the codebooks out as [sub-space][dim][codeword].
func transposeCodebooks(pq *ivfx.PQ) []float32 {
	out := make([]float32, len(pq.Codebooks))
	for t := 0; t < pq.M; t++ {
		for c := 0; c < ivfx.KSub; c++ {
			for u, v := range pq.Codeword(t, c) {
				out[(t*pq.Dsub+u)*ivfx.KSub+c] = v
			}
		}
	}
	return out
}

// fillTable writes, for every sub-space t and codeword c, q_t·codeword
// (inner product) or ‖q_t − codeword‖² (l2) into table[t*256+c]. It runs
// over the transposed codebooks cwT a dimension at a time for all 256
// codewords: 256 independent sums the CPU overlaps, where one codeword at
// a time is a chain of dependent adds. Each sum still adds u = 0, 1, … in
// order, so the values are bit for bit those of a codeword-at-a-time loop.
//
// With AVX, fillSub does a sub-space's 256 sums eight to a register, each
// term a rounded multiply and a rounded add as here, so bit for bit the
// same (TestFillTableAVX).
func fillTable(table, cwT []float32, dsub int, q []float32, l2 bool) {
	m := len(q) / dsub
	if useAVX && dsub > 0 {
		_ = table[m*ivfx.KSub-1]
		_ = cwT[m*dsub*ivfx.KSub-1]
		for t := 0; t < m; t++ {
			fillSub(&table[t*ivfx.KSub], &cwT[t*dsub*ivfx.KSub], &q[t*dsub], dsub, ivfx.KSub, ivfx.KSub, l2)
		}
		return
	}
	fillTableGo(table, cwT, dsub, q, l2)
}

// fillTableGo is fillTable in plain Go.
func fillTableGo(table, cwT []float32, dsub int, q []float32, l2 bool) {
	type col = *[ivfx.KSub]float32
	m := len(q) / dsub
	for t := 0; t < m; t++ {
		row := (*[ivfx.KSub]float32)(table[t*ivfx.KSub:])
		*row = [ivfx.KSub]float32{}
		qt := q[t*dsub : (t+1)*dsub]
		cols := cwT[t*dsub*ivfx.KSub:]
		u := 0
		// Four dimensions per pass: one load and store of each sum per
		// four terms, the terms still added in dimension order.
		for ; u+4 <= dsub; u += 4 {
			x0, x1, x2, x3 := qt[u], qt[u+1], qt[u+2], qt[u+3]
			w0, w1 := col(cols[u*ivfx.KSub:]), col(cols[(u+1)*ivfx.KSub:])
			w2, w3 := col(cols[(u+2)*ivfx.KSub:]), col(cols[(u+3)*ivfx.KSub:])
			if l2 {
				for c := range row {
					e0, e1, e2, e3 := x0-w0[c], x1-w1[c], x2-w2[c], x3-w3[c]
					v := row[c]
					v += e0 * e0
					v += e1 * e1
					v += e2 * e2
					v += e3 * e3
					row[c] = v
				}
			} else {
				for c := range row {
					v := row[c]
					v += x0 * w0[c]
					v += x1 * w1[c]
					v += x2 * w2[c]
					v += x3 * w3[c]
					row[c] = v
				}
			}
		}
		for ; u < dsub; u++ {
			x, w := qt[u], col(cols[u*ivfx.KSub:])
			for c := range row {
				if l2 {
					e := x - w[c]
					row[c] += e * e
				} else {
					row[c] += x * w[c]
				}
			}
		}
	}
}

// rescore scores the candidates exactly from the dense index, as
// search/dense does (vecmath.DotsOne sums each product in the packed
// kernel's order), and returns the k best.
func (s *searcher) rescore(sc *scratch, qi int, cands []topk.Entry) []topk.Entry {
	d := s.d
	full := s.ix.Full()
	q := s.q[qi*d : (qi+1)*d]
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
		vecmath.DotsOne(sc.tile, q, sc.rows, b1-b0)
		for j, e := range cands[b0:b1] {
			v := sc.tile[j]
			score := float64(v)
			if s.l2 {
				score = l2Score(v, qq, vecmath.SqNorm(sc.rows[j*d:(j+1)*d]))
			}
			h.Offer(topk.Entry{Score: score, Rank: e.Doc, Doc: e.Doc})
		}
	}
	return h.Sorted()
}
