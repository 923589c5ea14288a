package bm25

import (
	"math"
	"math/bits"

	index "github.com/irflow/irflow/index/bm25"
)

// windowSize is the number of documents scored together by
// maxScoreWindows; maxWindowClauses the most clauses it handles (one bit
// each in a uint64 mask). Longer queries use maxScore.
const (
	windowSize       = 2048
	maxWindowClauses = 64
)

// totalRow is total for window scoring: the clause contributions of one
// document are row[i] for the clauses whose bit is set in mask. Summed in
// clause order, exactly like total and like Lucene.
func (s *Searcher) totalRow(sc *Scratch, mask uint64, row []float32) float32 {
	var sum float64
	if s.unitBoosts {
		for m := mask; m != 0; m &= m - 1 {
			sum += float64(row[bits.TrailingZeros64(m)])
		}
		return float32(sum)
	}
	clear(sc.hit)
	for m := mask; m != 0; m &= m - 1 {
		sc.hit[bits.TrailingZeros64(m)] = true
	}
	copy(sc.contrib, row)
	return s.total(sc)
}

// maxScoreWindows is MaxScore evaluated a window of documents at a time,
// like Lucene's MaxScoreBulkScorer. Each window's clauses are partitioned
// anew by their block-max bounds over the window: those whose summed
// bounds cannot reach the top k are non-essential there. The essential
// clauses are scored term-at-a-time into per-document rows (no
// per-document merging of cursors), then the window's candidates are
// visited in document order, completed by probing the non-essential
// clauses (most promising first, while their window bounds can still lift
// the document into the top k), and offered to the top k. Results equal
// maxScore's and exhaustive scoring's (same contributions, summed in
// clause order). Bounding each candidate by the non-essential clauses'
// block maxima at its document before probing, as maxScore does, cost
// more than it saved here: frequent terms' blocks span ~128 documents, so
// most candidates moved a cursor's shallow position (Zipf 1M top-1000:
// 10.7 -> 9.0 ms CPU per query without it).
func (s *Searcher) maxScoreWindows(sc *Scratch) {
	n := len(sc.clauses)
	if n == 0 {
		return
	}
	order := sc.order
	prefix := make([]float64, n)
	var acc float64
	for i, ci := range order {
		acc += float64(sc.clauses[ci].maxScore)
		prefix[i] = acc
	}
	if cap(sc.rows) < windowSize*n {
		sc.rows = make([]float32, windowSize*n)
	}
	rows := sc.rows[:windowSize*n]
	if sc.masks == nil {
		sc.masks = make([]uint64, windowSize)
	}
	masks := sc.masks
	// The window's partition: clauses by ascending bound over the window,
	// and the running sums of those bounds.
	if cap(sc.wOrder) < n {
		sc.wOrder = make([]int, n)
		sc.wBound = make([]float64, n)
		sc.wPrefix = make([]float64, n)
	}
	wOrder, wBound, wPrefix := sc.wOrder[:n], sc.wBound[:n], sc.wPrefix[:n]
	// Globally non-essential clauses (order[:firstEssential]) cannot lift
	// a document on their own: candidates come from the others.
	firstEssential := 0
	limit := math.Inf(-1)
	update := func() {
		limit = s.cutoff(keyScore(sc.kheap.worst()))
		for firstEssential < n && prefix[firstEssential] < limit {
			firstEssential++
		}
	}
	next := uint32(0) // windows so far ended before next
	for firstEssential < n {
		d0 := index.NoMoreDocs
		for _, ci := range order[firstEssential:] {
			p := &sc.clauses[ci].p
			doc := p.Doc()
			if doc < next {
				doc = p.Advance(next)
			}
			d0 = min(d0, doc)
		}
		if d0 == index.NoMoreDocs {
			return
		}
		wEnd := uint64(d0) + windowSize // exclusive
		ess := 0                        // window-essential clauses: wOrder[ess:]
		if !sc.kheap.full() {
			for i := range wOrder {
				wOrder[i] = i
			}
		} else {
			// The window ends at the first block end of the candidate
			// clauses (rare terms' blocks span many documents; bounding
			// by every clause would make windows tiny).
			for _, ci := range order[firstEssential:] {
				if last, _, ok := sc.clauses[ci].blockBound(d0); ok {
					wEnd = min(wEnd, uint64(last)+1)
				}
			}
			var ub float64
			for i := range sc.clauses {
				wBound[i] = sc.clauses[i].windowBound(d0, uint32(wEnd-1))
				ub += wBound[i]
				wOrder[i] = i
			}
			if ub < limit { // no document of the window can enter
				next = uint32(wEnd)
				continue
			}
			sortByBound(wOrder, wBound)
			var sum float64
			for i, ci := range wOrder {
				sum += wBound[ci]
				wPrefix[i] = sum
			}
			for ess < n && wPrefix[ess] < limit {
				ess++
			}
		}
		next = uint32(wEnd)
		if ess == n-1 {
			// One essential clause (a frequent term beside rare ones, the
			// typical short query): its postings are the candidates in
			// document order already, so they are completed directly,
			// without rows and masks.
			s.windowOneEssential(sc, d0, wEnd, ess, &limit, update)
			continue
		}
		// Term at a time: window-essential clauses over the window.
		seen := &sc.wSeen
		for _, ci := range wOrder[ess:] {
			c := &sc.clauses[ci]
			bit := uint64(1) << uint(ci)
			doc := c.p.Doc()
			if doc < d0 {
				doc = c.p.Advance(d0)
			}
			for ; uint64(doc) < wEnd; doc = c.p.Next() {
				r := doc - d0
				seen[r/64] |= 1 << (r % 64)
				masks[r] |= bit
				rows[int(r)*n+ci] = c.score(c.p.Freq(), doc)
			}
		}
		// The candidates in document order: the set bits of seen.
		for w := range int((wEnd - uint64(d0) + 63) / 64) {
			word := seen[w]
			seen[w] = 0
			for ; word != 0; word &= word - 1 {
				r := uint32(w*64 + bits.TrailingZeros64(word))
				d := d0 + r
				mask := masks[r]
				masks[r] = 0
				row := rows[int(r)*n : int(r+1)*n]
				var partial float64
				for m := mask; m != 0; m &= m - 1 {
					partial += float64(row[bits.TrailingZeros64(m)])
				}
				skipped := false
				for j := ess - 1; j >= 0; j-- {
					if sc.kheap.full() && partial+wPrefix[j] < limit {
						skipped = true
						break
					}
					ci := wOrder[j]
					c := &sc.clauses[ci]
					doc := c.p.Doc()
					if doc < d {
						doc = c.p.Advance(d)
					}
					if doc == d {
						row[ci] = c.score(c.p.Freq(), d)
						mask |= uint64(1) << uint(ci)
						partial += float64(row[ci])
					}
				}
				if skipped || partial < limit {
					continue
				}
				if sc.kheap.offer(hitKey(s.totalRow(sc, mask, row), s.ranks[d])) {
					update()
				}
			}
		}
	}
}

// windowOneEssential is maxScoreWindows' candidate loop over the window
// [d0, wEnd) when only the clause wOrder[ess] is essential there: the same
// tests, contributions and sums as the general loop, candidate by
// candidate as the clause's cursor produces them. limit is the current
// cutoff, raised by update.
func (s *Searcher) windowOneEssential(sc *Scratch, d0 uint32, wEnd uint64, ess int, limit *float64, update func()) {
	n := len(sc.clauses)
	wOrder, wPrefix := sc.wOrder, sc.wPrefix
	ci := wOrder[ess]
	c := &sc.clauses[ci]
	bit := uint64(1) << uint(ci)
	row := sc.rows[:n]
	// A candidate below limit even with every non-essential window bound
	// is skipped before anything else (the general loop's first test).
	var rest float64
	if ess > 0 {
		rest = wPrefix[ess-1]
	}
	doc := c.p.Doc()
	if doc < d0 {
		doc = c.p.Advance(d0)
	}
	for ; uint64(doc) < wEnd; doc = c.p.Next() {
		v := c.score(c.p.Freq(), doc)
		partial := float64(v)
		if partial+rest < *limit {
			continue
		}
		row[ci] = v
		mask := bit
		skipped := false
		for j := ess - 1; j >= 0; j-- {
			if sc.kheap.full() && partial+wPrefix[j] < *limit {
				skipped = true
				break
			}
			cj := wOrder[j]
			o := &sc.clauses[cj]
			od := o.p.Doc()
			if od < doc {
				od = o.p.Advance(doc)
			}
			if od == doc {
				row[cj] = o.score(o.p.Freq(), doc)
				mask |= uint64(1) << uint(cj)
				partial += float64(row[cj])
			}
		}
		if skipped || partial < *limit {
			continue
		}
		if sc.kheap.offer(hitKey(s.totalRow(sc, mask, row), s.ranks[doc])) {
			update()
		}
	}
}

// windowBound bounds the clause's score for any document in [from, to]:
// the largest block bound of the blocks holding them, and never more than
// the term's maximum.
func (c *clause) windowBound(from, to uint32) float64 {
	last, b, ok := c.blockBound(from)
	if !ok {
		return 0
	}
	bound := b
	for last < to {
		l, imp, ok := c.p.ShallowAdvance(last + 1)
		if !ok {
			break
		}
		bound = max(bound, float64(c.impactBound(imp)))
		last = l
	}
	return min(bound, float64(c.maxScore))
}

// sortByBound sorts clause indexes by ascending bound, stably (insertion
// sort: queries have few clauses).
func sortByBound(idx []int, bound []float64) {
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && bound[idx[j]] < bound[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}
