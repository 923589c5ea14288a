package bm25

import (
	"fmt"
	"math"
	"sort"
	"sync"

	index "github.com/irflow/irflow/index/bm25"
	"github.com/irflow/irflow/search/internal/topk"
)

// Analyzer turns query text into terms; it must be the analyzer the index
// was built with (index.Meta.Analyzer names it).
type Analyzer = index.Analyzer

// FieldBoost weights one field of a multi-field index.
type FieldBoost struct {
	Field string
	Boost float32
}

// Params are the search-time parameters.
type Params struct {
	K1, B float32
	// Fields to search with their boosts; empty means every field of the
	// index with boost 1 (Anserini's -fields contents=1.0 title=1.0).
	Fields []FieldBoost
}

// DefaultParams are Anserini's BM25 defaults over all fields.
func DefaultParams() Params { return Params{K1: DefaultK1, B: DefaultB} }

type fieldScoring struct {
	field    int
	boost    float32
	docCount int64
	cache    *[256]float32
	norms    []byte
}

// Searcher scores queries against one index. It is safe for concurrent
// use; each goroutine should use its own Scratch.
type Searcher struct {
	ix         *index.Index
	fields     []fieldScoring
	unitBoosts bool // every field boost is 1: one flat sum (see total)
	ranks      []uint32
	p          Params

	rankDocOnce sync.Once
	rankDoc     []uint32 // inverse of ranks, made when first needed
}

// rankDocs returns the document of every id rank.
func (s *Searcher) rankDocs() []uint32 {
	s.rankDocOnce.Do(func() {
		s.rankDoc = make([]uint32, len(s.ranks))
		for d, r := range s.ranks {
			s.rankDoc[r] = uint32(d)
		}
	})
	return s.rankDoc
}

// NewSearcher prepares per-field statistics and norm tables.
func NewSearcher(ix *index.Index, p Params) (*Searcher, error) {
	if !(p.K1 >= 0) || math.IsInf(float64(p.K1), 0) {
		return nil, fmt.Errorf("bm25: k1 must be a finite number ≥ 0, got %v", p.K1)
	}
	if !(p.B >= 0 && p.B <= 1) {
		return nil, fmt.Errorf("bm25: b must be in [0, 1], got %v", p.B)
	}
	fb := p.Fields
	if len(fb) == 0 {
		for _, f := range ix.Meta.Fields {
			fb = append(fb, FieldBoost{Field: f.Name, Boost: 1})
		}
	}
	s := &Searcher{ix: ix, ranks: ix.IDRanks(), p: p, unitBoosts: true}
	for _, b := range fb {
		fi, ok := ix.Field(b.Field)
		if !ok {
			return nil, fmt.Errorf("bm25: the index has no field %q", b.Field)
		}
		st := ix.Meta.Fields[fi]
		fs := fieldScoring{field: fi, boost: b.Boost, docCount: st.DocCount, norms: ix.Norms(fi)}
		s.unitBoosts = s.unitBoosts && b.Boost == 1
		if st.DocCount > 0 {
			fs.cache = NormCache(p.K1, p.B, AvgFieldLength(st.SumTotalTermFreq, st.DocCount))
		}
		s.fields = append(s.fields, fs)
	}
	return s, nil
}

// Index returns the searched index.
func (s *Searcher) Index() *index.Index { return s.ix }

// clause is one (field, term) of a query: Lucene's boosted TermQuery.
type clause struct {
	fieldPos int // position in Searcher.fields
	weight   float32
	cache    *[256]float32
	norms    []byte
	maxScore float32
	df       uint32
	p        index.Postings
	// table, for frequent terms, holds score(tf, norm) for tf ≤ tableTF
	// at table[(tf−1)·256 + norm]: the same float32s as TermScore's
	// without its division per posting.
	table []float32

	// The block bound last computed: valid for docs in (bFirst, bLast].
	bFirst, bLast int64
	bBound        float64
	bOK           bool
}

// blockBound bounds the clause's score for any doc in the block holding
// d, and returns that block's last doc; ok is false past the last posting.
// Candidates only grow, so the last answer is reused within its block.
func (c *clause) blockBound(d uint32) (last uint32, bound float64, ok bool) {
	if int64(d) > c.bFirst && int64(d) <= c.bLast {
		return uint32(c.bLast), c.bBound, c.bOK
	}
	l, imp, ok := c.p.ShallowAdvance(d)
	c.bFirst, c.bLast, c.bOK = int64(d)-1, int64(l), ok
	if !ok {
		c.bLast = int64(index.NoMoreDocs)
		c.bBound = 0
		return l, 0, false
	}
	c.bBound = float64(c.impactBound(imp))
	return l, c.bBound, true
}

// impactBound bounds the clause's score over a block by its impacts: BM25
// grows with tf · normInverse, so the largest product gives the bound.
func (c *clause) impactBound(imp index.Impacts) float32 {
	best, bestX := 0, float32(-1)
	for i, m := range imp {
		if x := float32(m.TF) * c.cache[m.Norm]; x > bestX {
			best, bestX = i, x
		}
	}
	return min(c.bound(imp[best].TF, imp[best].Norm), c.maxScore)
}

func (c *clause) score(tf uint32, doc uint32) float32 {
	n := c.norms[doc]
	if c.table != nil && tf <= tableTF {
		return c.table[(tf-1)<<8|uint32(n)]
	}
	return TermScore(c.weight, tf, c.cache[n])
}

// tableTF is the largest frequency a clause's score table holds (most
// postings have small frequencies).
const tableTF = 8

// tableMinDF is the fewest postings for which filling a table's
// tableTF · 256 entries pays off (a variable so that tests can give every
// clause one).
var tableMinDF uint32 = 1 << 14

// fillTables gives the clauses of frequent terms their score tables.
func (sc *Scratch) fillTables() {
	need := 0
	for i := range sc.clauses {
		if sc.clauses[i].df >= tableMinDF {
			need += tableTF * 256
		}
	}
	if cap(sc.tables) < need {
		sc.tables = make([]float32, need)
	}
	buf := sc.tables[:need]
	for i := range sc.clauses {
		c := &sc.clauses[i]
		if c.df < tableMinDF {
			continue
		}
		c.table, buf = buf[:tableTF*256], buf[tableTF*256:]
		for tf := uint32(1); tf <= tableTF; tf++ {
			for n := range 256 {
				c.table[(tf-1)<<8|uint32(n)] = TermScore(c.weight, tf, c.cache[n])
			}
		}
	}
}

func (c *clause) bound(maxTF uint32, minNorm byte) float32 {
	return TermScore(c.weight, maxTF, c.cache[minNorm])
}

type strategy int

const (
	autoStrategy strategy = iota
	forceWindows
	forceDocAtATime
	forceAccumulate
)

// Scratch holds per-goroutine buffers for Search.
type Scratch struct {
	clauses []clause
	order   []int // clause indexes by ascending maxScore
	contrib []float32
	hit     []bool
	heap    topk.Heap // exhaustive's (the reference strategy)
	kheap   keyHeap   // the pruning strategies'
	terms   []string
	counts  map[string]int

	// force picks a strategy instead of SearchTerms' choice (tests).
	force strategy

	// window scoring (maxScoreWindows)
	rows    []float32               // windowSize × clauses contributions
	masks   []uint64                // per window doc: clauses that matched
	wSeen   [windowSize / 64]uint64 // window offsets with a non-zero mask
	wOrder  []int                   // clauses by ascending bound over the window
	wBound  []float64               // each clause's bound over the window
	wPrefix []float64               // running sums of wBound in wOrder

	// term-at-a-time exhaustive scoring (accumulate)
	acc     [windowSize]float64
	seen    [windowSize / 64]uint64
	tables  []float32 // the clauses' score tables
	keys    []uint64  // hitKey of every scored document
	entries []topk.Entry
	idBuf   []byte // hits' ids, concatenated
	idEnds  []int
}

// QueryTerms analyses text into distinct terms (first-occurrence order)
// and their counts, like Anserini's bag-of-words query generator.
func QueryTerms(an Analyzer, text string, sc *Scratch) ([]string, []int) {
	if sc.counts == nil {
		sc.counts = map[string]int{}
	}
	clear(sc.counts)
	sc.terms = sc.terms[:0]
	an.Analyze(text, func(t string) {
		if sc.counts[t] == 0 {
			sc.terms = append(sc.terms, t)
		}
		sc.counts[t]++
	})
	counts := make([]int, len(sc.terms))
	for i, t := range sc.terms {
		counts[i] = sc.counts[t]
	}
	return sc.terms, counts
}

// prepare builds the clauses of an analysed query.
func (s *Searcher) prepare(terms []string, counts []int, sc *Scratch) {
	sc.clauses = sc.clauses[:0]
	for fp, f := range s.fields {
		if f.cache == nil {
			continue
		}
		for i, t := range terms {
			ti, ok := s.ix.Lookup(f.field, t)
			if !ok {
				continue
			}
			boost := float32(counts[i]) * f.boost
			w := boost * IDF(int64(ti.DocFreq), f.docCount)
			sc.clauses = append(sc.clauses, clause{fieldPos: fp, weight: w, cache: f.cache, norms: f.norms, df: ti.DocFreq})
			c := &sc.clauses[len(sc.clauses)-1]
			c.maxScore = c.bound(ti.MaxTF, ti.MinNorm)
			c.bFirst, c.bLast = -1, -1
			s.ix.Postings(ti, &c.p)
			c.p.Next()
		}
	}
	n := len(sc.clauses)
	sc.order = sc.order[:0]
	for i := 0; i < n; i++ {
		sc.order = append(sc.order, i)
	}
	sort.SliceStable(sc.order, func(a, b int) bool { return sc.clauses[sc.order[a]].maxScore < sc.clauses[sc.order[b]].maxScore })
	if cap(sc.contrib) < n {
		sc.contrib = make([]float32, n)
		sc.hit = make([]bool, n)
	}
	sc.contrib = sc.contrib[:n]
	sc.hit = sc.hit[:n]
}

// total combines the contributions of one document the way Lucene does: a
// float64 sum of float32 clause scores, rounded to float32. Fields with a
// boost other than 1 are their own nested BooleanQuery and are rounded to
// float32 first; with boost 1 Lucene flattens them into one disjunction.
func (s *Searcher) total(sc *Scratch) float32 {
	var sum float64
	nested := false
	for i := range sc.clauses {
		if !sc.hit[i] {
			continue
		}
		if s.fields[sc.clauses[i].fieldPos].boost != 1 {
			nested = true
			continue
		}
		sum += float64(sc.contrib[i])
	}
	if nested {
		for fp := range s.fields {
			if s.fields[fp].boost == 1 {
				continue
			}
			var fs float64
			for i := range sc.clauses {
				if sc.hit[i] && sc.clauses[i].fieldPos == fp {
					fs += float64(sc.contrib[i])
				}
			}
			sum += float64(float32(fs))
		}
	}
	return float32(sum)
}

// Search returns the top k documents for query text, best first.
func (s *Searcher) Search(an Analyzer, text string, k int, sc *Scratch) []Hit {
	terms, counts := QueryTerms(an, text, sc)
	return s.SearchTerms(terms, counts, k, sc)
}

// SearchTerms is Search for an already analysed query.
func (s *Searcher) SearchTerms(terms []string, counts []int, k int, sc *Scratch) []Hit {
	if k <= 0 {
		return nil
	}
	s.prepare(terms, counts, sc)
	sc.fillTables()
	sc.heap.Reset(k)
	sc.kheap.reset(k)
	postings := 0
	for i := range sc.clauses {
		postings += int(sc.clauses[i].df)
	}
	switch {
	case sc.force == forceDocAtATime || len(sc.clauses) > maxWindowClauses:
		s.maxScore(sc)
		return s.keyHits(sc.kheap.sorted(), sc)
	case sc.force == forceWindows || sc.force != forceAccumulate && postings > exhaustiveFactor*k && s.ix.NumDocs() > exhaustiveFactor*k:
		s.maxScoreWindows(sc)
		return s.keyHits(sc.kheap.sorted(), sc)
	case s.unitBoosts: // pruning cannot pay off when there is little to prune
		s.accumulate(sc)
		return s.keyHits(topKeys(sc.keys, k), sc)
	default:
		s.exhaustive(sc)
	}
	return s.hits(sc.heap.Sorted(), sc)
}

// SearchExhaustive scores every matching document document at a time into
// a heap (no pruning, no accumulators); it exists to check Search's
// strategies against.
func (s *Searcher) SearchExhaustive(terms []string, counts []int, k int, sc *Scratch) []Hit {
	if k <= 0 {
		return nil
	}
	s.prepare(terms, counts, sc)
	sc.heap.Reset(k)
	s.exhaustive(sc)
	return s.hits(sc.heap.Sorted(), sc)
}

// exhaustiveFactor: a query is scored exhaustively when it has at most
// this many postings per wanted hit, or the index at most this many
// documents per wanted hit: pruning cannot pay for its bookkeeping then
// (SciFact and Vaswani at k = 1000 are both cases).
const exhaustiveFactor = 16

// exhaustive scores every document that matches a clause.
func (s *Searcher) exhaustive(sc *Scratch) {
	for {
		d := index.NoMoreDocs
		for i := range sc.clauses {
			d = min(d, sc.clauses[i].p.Doc())
		}
		if d == index.NoMoreDocs {
			break
		}
		for i := range sc.clauses {
			c := &sc.clauses[i]
			sc.hit[i] = c.p.Doc() == d
			if sc.hit[i] {
				// TermScore itself, not c.score: the reference
				// shares no shortcut with the strategies it checks.
				sc.contrib[i] = TermScore(c.weight, c.p.Freq(), c.cache[c.norms[d]])
				c.p.Next()
			}
		}
		sc.heap.Offer(topk.Entry{Score: float64(s.total(sc)), Rank: s.ranks[d], Doc: d})
	}
}

// keyHits is hits for hitKeys, largest first.
func (s *Searcher) keyHits(keys []uint64, sc *Scratch) []Hit {
	rankDoc := s.rankDocs()
	es := sc.entries[:0]
	for _, key := range keys {
		es = append(es, keyEntry(key, rankDoc))
	}
	sc.entries = es
	return s.hits(es, sc)
}

// hits turns entries, best first, into hits. Their ids are cut from one
// string, so a query allocates two objects however many hits it returns.
func (s *Searcher) hits(es []topk.Entry, sc *Scratch) []Hit {
	buf, ends := sc.idBuf[:0], sc.idEnds[:0]
	for _, e := range es {
		buf = s.ix.AppendDocID(buf, e.Doc)
		ends = append(ends, len(buf))
	}
	sc.idBuf, sc.idEnds = buf, ends
	ids := string(buf)
	out := make([]Hit, len(es))
	start := 0
	for i, e := range es {
		out[i] = Hit{Doc: e.Doc, ID: ids[start:ends[i]], Score: float32(e.Score)}
		start = ends[i]
	}
	return out
}

// cutoff turns the heap's worst score into the limit below which a bound
// proves a document cannot enter: a score ≤ bound < cutoff rounds to a
// float32 strictly under threshold, even allowing for float64
// summation-order error (1e-9 relative) and, with field boosts other than
// 1, the float32 rounding of each field's nested sum (2^-24 relative).
func (s *Searcher) cutoff(threshold float32) float64 {
	prev := math.Nextafter32(threshold, float32(math.Inf(-1)))
	margin := 1e-9
	if !s.unitBoosts {
		margin = 1e-6
	}
	return float64(prev) / (1 + margin)
}

// maxScore is MaxScore dynamic pruning (Turtle & Flood) with block-max
// bounds: clauses whose summed maximum cannot lift a document into the top
// k are "non-essential" and only probed for documents that essential
// clauses produce and whose block bounds leave a chance.
func (s *Searcher) maxScore(sc *Scratch) {
	n := len(sc.clauses)
	if n == 0 {
		return
	}
	order := sc.order
	// prefix[i] = sum of maxScore of order[0..i]
	prefix := make([]float64, n)
	var acc float64
	for i, ci := range order {
		acc += float64(sc.clauses[ci].maxScore)
		prefix[i] = acc
	}
	firstEssential := 0
	limit := math.Inf(-1) // cutoff(k-th score) once the heap is full
	// winEnd is the last doc of the current block-max window: the docs up
	// to the smallest block end of all clauses, whose summed block bounds
	// were found competitive.
	winEnd := int64(-1)
	update := func() {
		if !sc.kheap.full() {
			return
		}
		limit = s.cutoff(keyScore(sc.kheap.worst()))
		for firstEssential < n && prefix[firstEssential] < limit {
			firstEssential++
		}
	}
	for {
		if firstEssential >= n {
			return
		}
		// Next candidate: smallest current doc among essential clauses.
		d := index.NoMoreDocs
		for _, ci := range order[firstEssential:] {
			d = min(d, sc.clauses[ci].p.Doc())
		}
		if d == index.NoMoreDocs {
			return
		}
		if sc.kheap.full() && int64(d) > winEnd {
			// Block-max window: bound every document in [d, upTo] by the
			// sum of all clauses' block bounds; skip the window if even
			// that cannot enter the top k.
			upTo := index.NoMoreDocs - 1
			var ub float64
			for i := range sc.clauses {
				if last, b, ok := sc.clauses[i].blockBound(d); ok {
					ub += b
					upTo = min(upTo, last)
				}
			}
			if ub < limit {
				for _, ci := range order[firstEssential:] {
					if p := &sc.clauses[ci].p; p.Doc() <= upTo {
						p.Advance(upTo + 1)
					}
				}
				continue
			}
			winEnd = int64(upTo)
		}
		var partial float64
		for _, ci := range order[firstEssential:] {
			c := &sc.clauses[ci]
			sc.hit[ci] = c.p.Doc() == d
			if sc.hit[ci] {
				sc.contrib[ci] = c.score(c.p.Freq(), d)
				partial += float64(sc.contrib[ci])
				c.p.Next()
			}
		}
		if firstEssential > 0 && sc.kheap.full() {
			// Block-max bound of the non-essential clauses at d.
			ub := partial
			for _, ci := range order[:firstEssential] {
				if _, b, ok := sc.clauses[ci].blockBound(d); ok {
					ub += b
				}
			}
			if ub < limit {
				for _, ci := range order[:firstEssential] {
					sc.hit[ci] = false
				}
				continue
			}
		}
		skipped := false
		for j := firstEssential - 1; j >= 0; j-- {
			ci := order[j]
			c := &sc.clauses[ci]
			if sc.kheap.full() && partial+prefix[j] < limit {
				for _, cj := range order[:j+1] {
					sc.hit[cj] = false
				}
				skipped = true
				break
			}
			doc := c.p.Doc()
			if doc < d {
				doc = c.p.Advance(d)
			}
			sc.hit[ci] = doc == d
			if sc.hit[ci] {
				sc.contrib[ci] = c.score(c.p.Freq(), d)
				partial += float64(sc.contrib[ci])
			}
		}
		if skipped || partial < limit {
			continue
		}
		if sc.kheap.offer(hitKey(s.total(sc), s.ranks[d])) {
			update()
		}
	}
}
