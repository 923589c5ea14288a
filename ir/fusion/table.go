package fusion

import (
	"math"
	"slices"

	"github.com/irflow/irflow/ir/trec"
)

// floor is ranx's guard against dividing by a zero spread: normalisers
// divide by max(spread, floor), so a constant-score list normalises to 0
// under min-max, sum and zmuv rather than to NaN.
const floor = 1e-9

// table is one query's candidates — every document any run retrieved, in
// order of first appearance — and, per run, the value it gives each.
type table struct {
	docs []string
	runs []column
}

// column is one run's side of a table.
type column struct {
	hits []trec.Hit // ranked (trec_eval order), depth-cut
	pos  []int      // pos[i]: candidate index of hits[i]
	val  []float64  // per candidate
	has  []bool     // per candidate: whether the run gives it a value
}

func newTable(ranked [][]trec.Hit) *table {
	t := &table{runs: make([]column, len(ranked))}
	index := map[string]int{}
	for r, hits := range ranked {
		pos := make([]int, len(hits))
		for i, h := range hits {
			d, ok := index[h.DocID]
			if !ok {
				d = len(t.docs)
				index[h.DocID] = d
				t.docs = append(t.docs, h.DocID)
			}
			pos[i] = d
		}
		t.runs[r] = column{hits: hits, pos: pos}
	}
	for r := range t.runs {
		c := &t.runs[r]
		c.val = make([]float64, len(t.docs))
		c.has = make([]bool, len(t.docs))
		for i, h := range c.hits {
			c.val[c.pos[i]] = h.Score
			c.has[c.pos[i]] = true
		}
	}
	return t
}

// normalize replaces each run's raw scores by normalised ones, as ranx's
// normalization package does: statistics are taken over the run's own
// (depth-cut) hits in rank order, sums left to right.
func (t *table) normalize(n Norm) {
	cands := float64(len(t.docs))
	for r := range t.runs {
		c := &t.runs[r]
		if n == Borda {
			// Every candidate of the query gets a value from every run,
			// retrieved or not.
			unranked := 0.5 - float64(len(c.hits)-1)/(2*cands)
			for d := range c.val {
				c.val[d], c.has[d] = unranked, true
			}
			for i := range c.hits {
				c.val[c.pos[i]] = 1 - float64(i)/cands
			}
			continue
		}
		if len(c.hits) == 0 {
			continue
		}
		scores := make([]float64, len(c.hits))
		for i, h := range c.hits {
			scores[i] = h.Score
		}
		f := normalizer(n, scores)
		for i := range c.hits {
			c.val[c.pos[i]] = f(i, scores[i])
		}
	}
}

// normalizer returns the function mapping the i-th of a run's scores
// (rank order, non-empty) to its normalised value.
func normalizer(n Norm, scores []float64) func(i int, s float64) float64 {
	lo, hi := slices.Min(scores), slices.Max(scores)
	size := float64(len(scores))
	switch n {
	case MinMax:
		den := math.Max(hi-lo, floor)
		return func(_ int, s float64) float64 { return (s - lo) / den }
	case MaxNorm:
		den := math.Max(hi, floor)
		return func(_ int, s float64) float64 { return s / den }
	case SumNorm:
		den := math.Max(sum(scores)-lo*size, floor)
		return func(_ int, s float64) float64 { return (s - lo) / den }
	case ZMUV:
		mean := sum(scores) / size
		ssd := 0.0
		for _, s := range scores {
			ssd += (s - mean) * (s - mean)
		}
		den := math.Max(math.Sqrt(ssd/size), floor)
		return func(_ int, s float64) float64 { return (s - mean) / den }
	case RankNorm:
		return func(i int, _ float64) float64 { return 1 - float64(i)/size }
	}
	return func(_ int, s float64) float64 { return s } // NoNorm
}

// rankValues gives each run's hits the value a rank-based method sums.
func (t *table) rankValues(o Options) {
	cands := float64(len(t.docs))
	for r := range t.runs {
		c := &t.runs[r]
		if o.Method == BordaFuse || o.Method == WBordaFuse {
			// Unretrieved candidates share the points left over.
			unranked := (cands - float64(len(c.hits)) + 1) / 2
			for d := range c.val {
				c.val[d], c.has[d] = unranked, true
			}
		}
		for i := range c.hits {
			var v float64
			switch o.Method {
			case RRF:
				v = 1 / (o.RRFK + float64(i) + 1)
			case ISR, LogISR:
				v = 1 / float64((i+1)*(i+1))
			case BordaFuse, WBordaFuse:
				v = cands - float64(i)
			}
			c.val[c.pos[i]] = v
		}
	}
}

// combine fuses the runs' values into one score per candidate. Sums run
// left to right over the runs in the order given, as ranx's do.
func (t *table) combine(o Options) []trec.Hit {
	hits := make([]trec.Hit, len(t.docs))
	vals := make([]float64, 0, len(t.runs))
	for d, id := range t.docs {
		vals = vals[:0]
		var weighted, weights float64
		for r := range t.runs {
			if c := &t.runs[r]; c.has[d] {
				vals = append(vals, c.val[d])
				weighted += o.Weights[r] * c.val[d]
				weights += o.Weights[r]
			}
		}
		var s float64
		switch o.Method {
		case Sum, RRF, BordaFuse:
			s = sum(vals)
		case WSum, WBordaFuse:
			s = weighted
		case MNZ, ISR:
			s = sum(vals) * float64(len(vals))
		case WMNZ:
			s = sum(vals) * weights
		case LogISR:
			s = sum(vals) * math.Log(float64(len(vals)))
		case ANZ:
			s = sum(vals) / float64(len(vals))
		case Max:
			// ranx gives a run that misses the document −1e9 here and
			// +1e9 for Min; only scores beyond those bounds notice.
			s = t.extreme(d, -1e9, math.Max)
		case Min:
			s = t.extreme(d, 1e9, math.Min)
		case Med:
			s = median(vals)
		}
		hits[d] = trec.Hit{DocID: id, Score: s}
	}
	return hits
}

// extreme folds candidate d's values over all runs with pick, a run that
// misses it contributing missing.
func (t *table) extreme(d int, missing float64, pick func(a, b float64) float64) float64 {
	var s float64
	for r := range t.runs {
		v := missing
		if c := &t.runs[r]; c.has[d] {
			v = c.val[d]
		}
		if r == 0 {
			s = v
		} else {
			s = pick(s, v)
		}
	}
	return s
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// median is numpy's: the middle value, or the mean of the two middle ones.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
