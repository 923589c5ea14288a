// Package seismic searches an index/seismic index (pyseismic-lsr's
// search): only the query's QueryCut largest terms are visited; for each,
// the summaries of its blocks are scored against the whole query, a block
// whose summary score is below HeapFactor × the current k-th score is
// skipped, and every document of the others is scored exactly from the
// forward index (each document once per query).
//
// Scores are search/sparse's: in a quantised index query weights are
// quantised like the documents' and a score is an exact integer dot
// product; with float32 values it is Σ float64(q)·float64(d) in
// increasing term order. Ranking: score descending, then document number;
// only documents with a score > 0 are returned. With nothing pruned
// (num_postings ≥ the longest list, summary_energy 1, query_cut ≥ the
// query's terms, heap_factor 1) the results are search/sparse's exactly:
// summary codes are rounded up, so a summary score bounds its block's.
package seismic

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"unsafe"

	index "github.com/irflow/irflow/index/seismic"
	sparsex "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/internal/parallel"
	"github.com/irflow/irflow/search/internal/topk"
	"github.com/irflow/irflow/search/sparse"
)

// Query and Hit are search/sparse's.
type (
	Query = sparse.Query
	Hit   = sparse.Hit
)

// Defaults are pyseismic-lsr's and Lightning IR's (SeismicSearchConfig).
const (
	DefaultQueryCut   = 10
	DefaultHeapFactor = 0.7
)

// Options configure a search.
type Options struct {
	K int
	// QueryCut is the number of the query's largest terms whose blocks
	// are visited.
	QueryCut int
	// HeapFactor in (0, 1]: a block is skipped when its summary score is
	// below HeapFactor × the k-th best score so far (smaller visits more).
	HeapFactor float64
	// Sorted visits the first term's blocks by decreasing summary score
	// (pyseismic's sorted = True), which raises the threshold sooner.
	Sorted bool
	// Threads search queries in parallel (SearchAll; default GOMAXPROCS).
	Threads int
	// Progress, if set, is told about each finished query (SearchAll).
	Progress func(n int64)
}

// Check validates the options.
func (o Options) Check() error {
	switch {
	case o.K <= 0:
		return fmt.Errorf("seismic: k must be positive, got %d", o.K)
	case o.QueryCut <= 0:
		return fmt.Errorf("seismic: query_cut = %d: want > 0", o.QueryCut)
	case !(o.HeapFactor > 0 && o.HeapFactor <= 1):
		return fmt.Errorf("seismic: heap_factor = %v: want in (0, 1]", o.HeapFactor)
	}
	return nil
}

// SearchAll searches every query on o.Threads goroutines and returns the
// hits of each, in the order of queries.
func SearchAll(ctx context.Context, ix *index.Index, queries []Query, o Options) ([][]Hit, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = max(1, min(threads, len(queries)))
	out := make([][]Hit, len(queries))
	searchers := make([]*Searcher, threads)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	err := parallel.Tasks(ctx, threads, len(queries), func(w, i int) {
		if searchers[w] == nil {
			searchers[w] = NewSearcher(ix)
		}
		hits, err := searchers[w].Search(queries[i], o)
		if err != nil {
			cancel(err) // stop the others
			return
		}
		out[i] = hits
		if o.Progress != nil {
			o.Progress(1)
		}
	})
	if err != nil {
		return nil, context.Cause(ctx)
	}
	return out, nil
}

// boundMargin is the relative slack of a summary score: it is summed in
// another order than a document's score, and may round below it by far
// less than 1e-9 relatively.
const boundMargin = 1e-9

// Searcher searches one index; not safe for concurrent use (one per
// goroutine; they share the index).
type Searcher struct {
	ix     *index.Index
	src    *sparsex.Index
	floats bool
	scale  float64
	q      []float64 // vocabulary: the query's weights as scored
	qbits  []uint64  // vocabulary bitmap of the query's terms: small enough for L1, tested before q
	done   []uint64  // bitmap of the documents this query scored: 1 bit each, so that it stays in cache
	heap   topk.Heap
	terms  []qterm
	cut    []qterm
	acc    []float64
	order  []int
	// qn holds the query's weights by term for a narrow forward index
	// (integers: the index is quantised), nil otherwise.
	qn *[1 << 16]int64
}

type qterm struct {
	term   uint32
	weight float32 // as given, for the cut
}

// NewSearcher prepares a searcher of ix.
func NewSearcher(ix *index.Index) *Searcher {
	m := ix.Meta()
	s := &Searcher{ix: ix, src: ix.Sparse(), floats: m.Scale == 0, scale: m.Scale,
		q: make([]float64, m.VocabSize), qbits: make([]uint64, (m.VocabSize+63)/64), done: make([]uint64, (m.NumDocs+63)/64)}
	if m.NarrowForward {
		s.qn = new([1 << 16]int64)
	}
	return s
}

func (s *Searcher) value(v uint32) float64 {
	if s.floats {
		return float64(math.Float32frombits(v))
	}
	return float64(v)
}

// prepare checks the query and sets its weights as scored.
func (s *Searcher) prepare(q Query) error {
	what := func() string { return fmt.Sprintf("query %q", q.ID) }
	if err := sparsex.CheckVector(q.Terms, q.Weights, len(s.q), what); err != nil {
		return err
	}
	s.terms = s.terms[:0]
	var total float64
	for i, t := range q.Terms {
		qw := float64(q.Weights[i])
		if !s.floats {
			v, ok, err := sparsex.Quantize(q.Weights[i], s.scale)
			if err != nil {
				return fmt.Errorf("seismic: %s, term %d at position %d: %v", what(), t, i, err)
			}
			if !ok {
				continue
			}
			qw = float64(v)
		}
		if qw == 0 {
			continue
		}
		s.q[t] = qw
		s.qbits[t/64] |= 1 << (t % 64)
		if s.qn != nil && t < 1<<16 { // a larger term is in no document
			s.qn[t] = int64(qw)
		}
		s.terms = append(s.terms, qterm{t, q.Weights[i]})
		_, mx := s.src.Term(t)
		total += qw * s.value(mx)
	}
	if !s.floats && total >= 1<<53 {
		s.reset()
		return fmt.Errorf("seismic: %s: scores could reach %v, beyond the 2^53 that integer scoring keeps exact", what(), total)
	}
	return nil
}

func (s *Searcher) reset() {
	for _, t := range s.terms {
		s.q[t.term] = 0
		s.qbits[t.term/64] = 0
		if s.qn != nil && t.term < 1<<16 {
			s.qn[t.term] = 0
		}
	}
}

// Search returns the top o.K documents for q, best first.
func (s *Searcher) Search(q Query, o Options) ([]Hit, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if err := s.prepare(q); err != nil {
		return nil, err
	}
	defer s.reset()
	clear(s.done)
	s.heap.Reset(o.K)
	cut := append(s.cut[:0], s.terms...)
	s.cut = cut
	slices.SortStableFunc(cut, func(a, b qterm) int { return cmp.Compare(b.weight, a.weight) })
	cut = cut[:min(len(cut), o.QueryCut)]
	for i, t := range cut {
		s.visit(t.term, o.HeapFactor, i == 0 && o.Sorted)
	}
	es := s.heap.Sorted()
	hits := make([]Hit, len(es))
	for i, e := range es {
		hits[i] = Hit{ID: s.src.DocID(int(e.Doc)), Score: e.Score}
	}
	return hits, nil
}

// visit scores the blocks of term t's list that its summaries do not rule
// out.
func (s *Searcher) visit(t uint32, heapFactor float64, sorted bool) {
	lo, hi := s.ix.Blocks(t)
	nb := hi - lo
	if nb == 0 {
		return
	}
	s.acc = slices.Grow(s.acc[:0], nb)[:nb]
	clear(s.acc)
	// The summaries' terms the query has: a binary search per query term
	// when the list's summary terms far outnumber the query's, else a scan.
	slo, shi := s.ix.SummaryTerms(t)
	add := func(st int, qw float64) {
		blocks, codes := s.ix.SummaryEntries(st)
		for j, b := range blocks {
			s.acc[b] += qw * float64(codes[j])
		}
	}
	if n := shi - slo; n > 8*len(s.terms) {
		terms := s.ix.SummaryTermsOf(t)
		for _, qt := range s.terms {
			if i, ok := slices.BinarySearch(terms, qt.term); ok {
				add(slo+i, s.q[qt.term])
			}
		}
	} else {
		for st := slo; st < shi; st++ {
			if qw := s.q[s.ix.SummaryTerm(st)]; qw != 0 {
				add(st, qw)
			}
		}
	}
	for b := range s.acc {
		s.acc[b] *= float64(s.ix.Quant(lo + b))
	}
	s.order = s.order[:0]
	for b := range nb {
		s.order = append(s.order, b)
	}
	if sorted {
		slices.SortStableFunc(s.order, func(a, b int) int { return cmp.Compare(s.acc[b], s.acc[a]) })
	}
	for _, b := range s.order {
		if s.heap.Full() && s.acc[b]*(1+boundMargin) < heapFactor*s.heap.Worst().Score {
			continue
		}
		docs := s.ix.BlockDocs(lo + b)
		// The vectors of the block's new documents are asked for first, so
		// that their cache misses overlap (pyseismic does the same): beyond
		// the caches' size this nearly halves the search.
		for _, d := range docs {
			if s.done[d/64]&(1<<(d%64)) == 0 {
				s.prefetchDoc(d)
			}
		}
		for _, d := range docs {
			w, bit := &s.done[d/64], uint64(1)<<(d%64)
			if *w&bit != 0 {
				continue
			}
			*w |= bit
			if s.qn != nil {
				s.scoreNarrow(d)
			} else {
				s.scoreWide(d)
			}
		}
	}
}

// prefetchDoc asks for document d's forward vector (its narrow copy if
// the index has one: that is what is scored).
func (s *Searcher) prefetchDoc(d uint32) {
	if s.qn != nil {
		if v := s.ix.DocNarrow(d); len(v) > 0 {
			prefetch(unsafe.Pointer(&v[0]), uintptr(4*len(v)))
		}
	} else if v := s.ix.Doc(d); len(v) > 0 {
		prefetch(unsafe.Pointer(&v[0]), uintptr(4*len(v)))
	}
}

// scoreWide scores document d from the forward index: Σ q·value over the
// postings of the query's terms, in increasing term order.
func (s *Searcher) scoreWide(d uint32) {
	v := s.ix.Doc(d)
	var score float64
	for i := 0; i < len(v); i += 2 {
		if t := v[i]; s.qbits[t/64]&(1<<(t%64)) != 0 {
			score += s.q[t] * s.value(v[i+1])
		}
	}
	if score > 0 {
		s.heap.Offer(topk.Entry{Score: score, Rank: d, Doc: d})
	}
}

// scoreNarrow scores document d from the narrow forward index: every
// posting's value times the query's weight of its term (0 for the
// others), with no branch per posting, in integers. Query and document
// values are integers and prepare bounds every score below 2^53, so the
// sum is exact and equals the float64 sum of the wide path bit for bit.
func (s *Searcher) scoreNarrow(d uint32) {
	var score int64
	for _, p := range s.ix.DocNarrow(d) {
		score += s.qn[uint16(p)] * int64(p>>16)
	}
	if score > 0 {
		s.heap.Offer(topk.Entry{Score: float64(score), Rank: d, Doc: d})
	}
}
