package bm25

import (
	"math"
	"math/bits"
	"slices"

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
// like Lucene's MaxScoreBulkScorer: the essential clauses are scored
// term-at-a-time into per-document rows (no per-document merging of
// cursors), then the window's candidates are visited in document order,
// bounded with the non-essential clauses' block maxima, completed by
// probing them, and offered to the top k. Results equal maxScore's and
// exhaustive scoring's (same contributions, summed in clause order).
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
	firstEssential := 0
	limit := math.Inf(-1)
	update := func() {
		limit = s.cutoff(sc.heap.worst().score)
		for firstEssential < n && prefix[firstEssential] < limit {
			firstEssential++
		}
	}
	for firstEssential < n {
		d0 := index.NoMoreDocs
		for _, ci := range order[firstEssential:] {
			d0 = min(d0, sc.clauses[ci].p.Doc())
		}
		if d0 == index.NoMoreDocs {
			return
		}
		wEnd := uint64(d0) + windowSize // exclusive
		if sc.heap.full() {
			// Block-max skip: no document in [d0, upTo] can enter if the
			// sum of every clause's block bound there is below the limit.
			upTo := index.NoMoreDocs - 1
			var ub float64
			for i := range sc.clauses {
				if last, b, ok := sc.clauses[i].blockBound(d0); ok {
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
		}
		// Term at a time: essential clauses over the window.
		touched := sc.touched[:0]
		for _, ci := range order[firstEssential:] {
			c := &sc.clauses[ci]
			bit := uint64(1) << uint(ci)
			for doc := c.p.Doc(); uint64(doc) < wEnd; doc = c.p.Next() {
				r := doc - d0
				if masks[r] == 0 {
					touched = append(touched, r)
				}
				masks[r] |= bit
				rows[int(r)*n+ci] = c.score(c.p.Freq(), doc)
			}
		}
		if len(touched) > windowSize/16 {
			// Dense window: collect offsets in order by scanning the masks.
			touched = touched[:0]
			for r := range uint32(min(uint64(windowSize), wEnd-uint64(d0))) {
				if masks[r] != 0 {
					touched = append(touched, r)
				}
			}
		} else {
			slices.Sort(touched)
		}
		sc.touched = touched
		ess := firstEssential // non-essential clauses of this window: order[:ess]
		for _, r := range touched {
			d := d0 + r
			mask := masks[r]
			masks[r] = 0
			row := rows[int(r)*n : int(r+1)*n]
			var partial float64
			for m := mask; m != 0; m &= m - 1 {
				partial += float64(row[bits.TrailingZeros64(m)])
			}
			if ess > 0 && sc.heap.full() {
				ub := partial
				for _, ci := range order[:ess] {
					if _, b, ok := sc.clauses[ci].blockBound(d); ok {
						ub += b
					}
				}
				if ub < limit {
					continue
				}
			}
			skipped := false
			for j := ess - 1; j >= 0; j-- {
				if sc.heap.full() && partial+prefix[j] < limit {
					skipped = true
					break
				}
				ci := order[j]
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
			if sc.heap.offer(entry{score: s.totalRow(sc, mask, row), rank: s.ranks[d], doc: d}) {
				update()
			}
		}
	}
}
