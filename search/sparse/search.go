// Package sparse searches an index/sparse impact index: the score of a
// document is the dot product of the query's and the document's sparse
// vectors, and the top k are found exactly, with MaxScore dynamic pruning
// over block-max bounds evaluated a window of documents at a time (the
// scheme of search/bm25, with bounds that are simply query weight × the
// block's largest value).
//
// Scores. In a quantised index (Scale > 0) query weights are quantised
// like the documents', round(w·Scale) with zeros dropped, and a score is
// Σ q·d over the shared terms in exact integer arithmetic (every partial
// sum stays below 2^53, which Search checks, so float64 holds it exactly
// whatever the order): Anserini's -impact scoring. In an exact-float index
// (Scale 0) a score is Σ float64(q)·float64(d), each product exact in
// float64, summed in increasing term order whatever the pruning did, so it
// equals the brute-force dot product bit for bit.
//
// Ranking: score descending, then document number (input order)
// ascending; only documents with a score > 0 are returned.
package sparse

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	index "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/search/internal/topk"
)

// Query is one query's sparse vector: Terms strictly increasing
// vocabulary ids, Weights ≥ 0 (zeros, and in a quantised index weights
// that round to 0, are dropped).
type Query struct {
	ID      string
	Terms   []uint32
	Weights []float32
}

// Hit is one retrieved document.
type Hit struct {
	ID    string
	Score float64
}

// Options configure a search.
type Options struct {
	K int
	// Threads search queries in parallel (SearchAll; default GOMAXPROCS).
	Threads int
	// Progress, if set, is told about each finished query (SearchAll).
	Progress func(n int64)
	// Exhaustive scores every matching document (no pruning): for tests.
	Exhaustive bool
}

// SearchAll searches every query on o.Threads goroutines and returns the
// hits of each, in the order of queries.
func SearchAll(ctx context.Context, ix *index.Index, queries []Query, o Options) ([][]Hit, error) {
	if o.K <= 0 {
		return nil, fmt.Errorf("sparse: k must be positive, got %d", o.K)
	}
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = max(1, min(threads, len(queries)))
	out := make([][]Hit, len(queries))
	errs := make([]error, threads)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := NewSearcher(ix)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(queries) {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				hits, err := s.Search(queries[i], o)
				if err != nil {
					errs[w] = err
					next.Store(int64(len(queries))) // stop the others
					return
				}
				out[i] = hits
				if o.Progress != nil {
					o.Progress(1)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// windowSize is the number of documents scored together. Lucene's
// MaxScoreBulkScorer scores at least 4,096 at a time too: smaller windows
// cost more in bookkeeping than their tighter partition saves, and within a
// window the non-essential clauses are bounded per slice anyway (on the
// 100k synthetic corpus 8,192 took 0.9x the CPU time of 4,096 and 1,024
// 1.1x).
const windowSize = 8192

// slice is the granularity of the non-essential clauses' bounds within a
// window: documents [d0 + slice·j, d0 + slice·(j+1)) share one bound, the
// sum over those clauses of their largest block bound there.
const slice = 64

// exhaustiveFactor: a query is scored without pruning when it has at most
// this many postings per wanted hit, or the index at most this many
// documents per wanted hit: pruning cannot pay for its bookkeeping then.
const exhaustiveFactor = 16

// floatMargin is the relative slack of bounds in an exact-float index: a
// bound summed in another order than the score may round up to
// (clauses·2^-53) relatively less than the score; 1e-9 covers any query.
const floatMargin = 1e-9

// Searcher searches one index; it is not safe for concurrent use (use one
// per goroutine; they share the index).
type Searcher struct {
	ix      *index.Index
	floats  bool
	scale   float64
	clauses []clause
	heap    topk.Heap

	order, wOrder                   []int     // clauses by ascending bound: overall, over the window
	prefix, wBound, wPrefix         []float64 // running sums of bounds
	acc                             [windowSize]float64
	seen                            [windowSize / 64]uint64 // documents of the window with a score
	sliceBound, clauseSlice         [windowSize / slice]float64
	touched                         []uint32
	rows                            []float64 // exact floats: windowSize × clauses contributions
	masks                           []uint64  // exact floats: windowSize × maskWords, clauses that matched
	maskWords                       int
	numPostings, numDocs, vocabSize int
}

// NewSearcher prepares a searcher of ix.
func NewSearcher(ix *index.Index) *Searcher {
	m := ix.Meta()
	return &Searcher{ix: ix, floats: !m.Quantized(), scale: m.Scale, numDocs: m.NumDocs, vocabSize: m.VocabSize}
}

// clause is one query term.
type clause struct {
	q        float64 // the query weight as scored (an integer when quantised)
	maxScore float64 // q × the term's largest value
	df       int
	p        index.Postings

	// The block bound last computed: valid for docs in (bFirst, bLast].
	bFirst, bLast int64
	bBound        float64
	bOK           bool
}

// value is a stored value as a number.
func (s *Searcher) value(v uint32) float64 {
	if s.floats {
		return float64(math.Float32frombits(v))
	}
	return float64(v)
}

// blockBound bounds the clause's contribution for any doc of the block
// holding d's position and returns that block's last doc; ok is false
// past the last posting. Candidates only grow, so the last answer is
// reused within its block.
func (s *Searcher) blockBound(c *clause, d uint32) (last uint32, bound float64, ok bool) {
	if int64(d) > c.bFirst && int64(d) <= c.bLast {
		return uint32(c.bLast), c.bBound, c.bOK
	}
	l, mx, ok := c.p.ShallowAdvance(d)
	c.bFirst, c.bLast, c.bOK = int64(d)-1, int64(l), ok
	c.bBound = 0
	if ok {
		c.bBound = c.q * s.value(mx)
	}
	return l, c.bBound, ok
}

// windowBound bounds the clause's contribution for any doc in [from, to]:
// the largest bound of the blocks holding them.
func (s *Searcher) windowBound(c *clause, from, to uint32) float64 {
	last, b, ok := s.blockBound(c, from)
	if !ok {
		return 0
	}
	bound := b
	for last < to && bound < c.maxScore {
		l, mx, ok := c.p.ShallowAdvance(last + 1)
		if !ok {
			break
		}
		bound = max(bound, c.q*s.value(mx))
		last = l
	}
	return min(bound, c.maxScore)
}

// prepare checks the query and builds its clauses in term order.
func (s *Searcher) prepare(q Query) error {
	what := func() string { return fmt.Sprintf("query %q", q.ID) }
	if err := index.CheckVector(q.Terms, q.Weights, s.vocabSize, what); err != nil {
		return err
	}
	s.clauses = s.clauses[:0]
	s.numPostings = 0
	var total float64
	for i, t := range q.Terms {
		var qw float64
		if s.floats {
			qw = float64(q.Weights[i])
		} else {
			v, ok, err := index.Quantize(q.Weights[i], s.scale)
			if err != nil {
				return fmt.Errorf("sparse: %s, term %d at position %d: %v", what(), t, i, err)
			}
			if !ok {
				continue
			}
			qw = float64(v)
		}
		df, mx := s.ix.Term(t)
		if qw == 0 || df == 0 {
			continue
		}
		s.clauses = append(s.clauses, clause{q: qw, maxScore: qw * s.value(mx), df: df, bFirst: -1, bLast: -1})
		s.ix.Postings(t, &s.clauses[len(s.clauses)-1].p)
		s.numPostings += df
		total += qw * s.value(mx)
	}
	if !s.floats && total >= 1<<53 {
		return fmt.Errorf("sparse: %s: scores could reach %v, beyond the 2^53 that integer scoring keeps exact", what(), total)
	}
	return nil
}

// Search returns the top o.K documents for q, best first.
func (s *Searcher) Search(q Query, o Options) ([]Hit, error) {
	if o.K <= 0 {
		return nil, fmt.Errorf("sparse: k must be positive, got %d", o.K)
	}
	if err := s.prepare(q); err != nil {
		return nil, err
	}
	s.heap.Reset(o.K)
	prune := !o.Exhaustive && s.numPostings > exhaustiveFactor*o.K && s.numDocs > exhaustiveFactor*o.K
	s.windows(prune)
	for i := range s.clauses {
		if err := s.clauses[i].p.Err(); err != nil {
			return nil, fmt.Errorf("sparse: query %q: index %s: %w", q.ID, s.ix.Dir(), err)
		}
	}
	es := s.heap.Sorted()
	hits := make([]Hit, len(es))
	for i, e := range es {
		hits[i] = Hit{ID: s.ix.DocID(int(e.Doc)), Score: e.Score}
	}
	return hits, nil
}

// windows finds the top k a window of documents at a time, like Lucene's
// MaxScoreBulkScorer. Once the heap is full, each window's clauses are
// partitioned by their block-max bounds over the window: those whose
// summed bounds cannot lift a document into the top k are non-essential
// there. The essential clauses are scored term-at-a-time into per-document
// accumulators; the window's candidates are then visited in document
// order, bounded with the non-essential clauses' block maxima, completed
// by probing them, and offered to the top k. Documents are offered in
// increasing order, so one that only ties the k-th score never enters
// (the tie goes to the smaller document): a bound equal to the threshold
// already rules a document out. Without prune every clause is scored
// term-at-a-time in term order.
func (s *Searcher) windows(prune bool) {
	cl := s.clauses
	n := len(cl)
	if n == 0 {
		return
	}
	s.order = grow(s.order, n)
	s.wOrder = grow(s.wOrder, n)
	s.prefix, s.wBound, s.wPrefix = grow(s.prefix, n), grow(s.wBound, n), grow(s.wPrefix, n)
	order, wOrder, prefix, wBound, wPrefix := s.order, s.wOrder, s.prefix, s.wBound, s.wPrefix
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpFloat(cl[a].maxScore, cl[b].maxScore) })
	var sum float64
	for i, ci := range order {
		sum += cl[ci].maxScore
		prefix[i] = sum
	}
	if s.floats {
		s.maskWords = (n + 63) / 64
		s.rows = grow(s.rows, windowSize*n)
		s.masks = grow(s.masks, windowSize*s.maskWords)
	}
	acc := &s.acc
	firstEssential := 0 // order[:firstEssential] cannot lift a document on their own
	limit := math.Inf(-1)
	full := false // the heap is full and pruning is on
	update := func() {
		if !prune || !s.heap.Full() {
			return
		}
		full = true
		limit = s.heap.Worst().Score
		if s.floats {
			limit /= 1 + floatMargin
		}
		for firstEssential < n && prefix[firstEssential] <= limit {
			firstEssential++
		}
	}
	numDocs := uint64(s.numDocs)
	next := uint32(0) // windows so far ended before next
	for firstEssential < n {
		d0 := index.NoMoreDocs
		for _, ci := range order[firstEssential:] {
			p := &cl[ci].p
			doc := p.Doc()
			if doc < next {
				doc = p.Advance(next)
			}
			d0 = min(d0, doc)
		}
		if d0 == index.NoMoreDocs {
			return
		}
		wEnd := min(uint64(d0)+windowSize, numDocs) // exclusive
		ess := 0                                    // window-essential clauses: wOrder[ess:]
		if !full {
			for i := range wOrder {
				wOrder[i] = i
			}
		} else {
			// wOrder keeps the previous window's order: nearly sorted,
			// the insertion sort below is almost linear.
			var ub float64
			for i := range cl {
				wBound[i] = s.windowBound(&cl[i], d0, uint32(wEnd-1))
				ub += wBound[i]
			}
			if ub <= limit { // no document of the window can enter
				next = uint32(wEnd)
				continue
			}
			sortByBound(wOrder, wBound)
			var sum float64
			for i, ci := range wOrder {
				sum += wBound[ci]
				wPrefix[i] = sum
			}
			for ess < n && wPrefix[ess] <= limit {
				ess++
			}
			if ess > 0 {
				s.sliceBounds(wOrder[:ess], d0, wEnd)
			}
		}
		next = uint32(wEnd)
		s.scoreWindow(wOrder[ess:], d0, wEnd)
		for _, r := range s.touched {
			d := d0 + r
			partial := acc[r]
			acc[r] = 0
			if full && ess > 0 && partial+s.sliceBound[r/slice] <= limit {
				// The non-essential clauses' block bounds rule d out.
				s.clearMask(r)
				continue
			}
			skipped := false
			for j := ess - 1; j >= 0; j-- {
				if full && partial+wPrefix[j] <= limit {
					skipped = true
					break
				}
				ci := wOrder[j]
				c := &cl[ci]
				doc := c.p.Doc()
				if doc < d {
					doc = c.p.Advance(d)
				}
				if doc == d {
					x := c.q * s.value(c.p.Value())
					partial += x
					if s.floats {
						s.rows[int(r)*n+ci] = x
						s.masks[int(r)*s.maskWords+ci/64] |= 1 << (ci % 64)
					}
				}
			}
			if skipped || partial <= limit {
				s.clearMask(r)
				continue
			}
			score := partial
			if s.floats {
				score = s.exactScore(r, n)
			}
			if s.heap.Offer(topk.Entry{Score: score, Rank: d, Doc: d}) {
				update()
			}
		}
	}
}

// sliceBounds sets s.sliceBound[j] to the sum, over the clauses cis, of
// the largest block bound of each among the blocks overlapping slice j of
// the window [d0, wEnd): a bound of their contribution to any document of
// the slice, looked up in O(1) per candidate.
func (s *Searcher) sliceBounds(cis []int, d0 uint32, wEnd uint64) {
	nslices := int((wEnd - uint64(d0) + slice - 1) / slice)
	clear(s.sliceBound[:nslices])
	for _, ci := range cis {
		c := &s.clauses[ci]
		cb := s.clauseSlice[:nslices]
		clear(cb)
		from := d0
		for uint64(from) < wEnd {
			last, mx, ok := c.p.ShallowAdvance(from)
			if !ok {
				break
			}
			b := c.q * s.value(mx)
			lo, hi := int(from-d0)/slice, int(min(uint64(last), wEnd-1)-uint64(d0))/slice
			for j := lo; j <= hi; j++ {
				cb[j] = max(cb[j], b)
			}
			if uint64(last)+1 >= wEnd {
				break
			}
			from = last + 1
		}
		for j, b := range cb {
			s.sliceBound[j] += b
		}
	}
}

// scoreWindow scores the clauses cis term at a time over the documents
// [d0, wEnd) into the accumulators (and, for exact floats, the rows), and
// lists the documents touched, in order, in s.touched.
func (s *Searcher) scoreWindow(cis []int, d0 uint32, wEnd uint64) {
	acc, seen := &s.acc, &s.seen
	touched := s.touched[:0]
	n := len(s.clauses)
	for _, ci := range cis {
		c := &s.clauses[ci]
		doc := c.p.Doc()
		if doc < d0 {
			doc = c.p.Advance(d0)
		}
		for uint64(doc) < wEnd {
			docs, vals := c.p.Block()
			m := len(docs)
			if uint64(docs[m-1]) >= wEnd {
				m, _ = slices.BinarySearch(docs, uint32(wEnd))
			}
			q := c.q
			if !s.floats {
				for j, d := range docs[:m] {
					r := (d - d0) & (windowSize - 1)
					seen[r/64] |= 1 << (r % 64)
					acc[r] += q * float64(vals[j])
				}
			} else {
				bit := uint64(1) << (ci % 64)
				for j, d := range docs[:m] {
					r := (d - d0) & (windowSize - 1)
					seen[r/64] |= 1 << (r % 64)
					x := q * float64(math.Float32frombits(vals[j]))
					acc[r] += x
					s.rows[int(r)*n+ci] = x
					s.masks[int(r)*s.maskWords+ci/64] |= bit
				}
			}
			doc = c.p.Consume(m)
		}
	}
	// The documents scored, in order, from the bitmap.
	for w, bits64 := range s.seen {
		for m := bits64; m != 0; m &= m - 1 {
			touched = append(touched, uint32(w*64+bits.TrailingZeros64(m)))
		}
		s.seen[w] = 0
	}
	s.touched = touched
}

// exactScore sums the contributions of window document r in clause (term)
// order and clears its mask: the brute-force order, whatever order pruning
// found them in.
func (s *Searcher) exactScore(r uint32, n int) float64 {
	var sum float64
	row := s.rows[int(r)*n : int(r+1)*n]
	mw := s.masks[int(r)*s.maskWords : int(r+1)*s.maskWords]
	for w, m := range mw {
		for ; m != 0; m &= m - 1 {
			sum += row[w*64+bits.TrailingZeros64(m)]
		}
		mw[w] = 0
	}
	return sum
}

func (s *Searcher) clearMask(r uint32) {
	if s.floats {
		clear(s.masks[int(r)*s.maskWords : int(r+1)*s.maskWords])
	}
}

// sortByBound sorts clause indexes by ascending bound, stably (insertion
// sort: queries have tens of clauses).
func sortByBound(idx []int, bound []float64) {
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && bound[idx[j]] < bound[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// grow returns s resized to n, reallocated only when too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
