package loss

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// This file holds the losses' integer bookkeeping, done in Go on the
// (small, gradient-free) targets: Lightning IR's target reduction, ranks,
// pairs and in-batch sampling.

// reduceTargets applies Lightning IR's target handling to targets of q×d
// docs: they are viewed as [q, d, k] (k qrel iterations, 1 for plain
// targets) and reduced by the maximum over k.
func reduceTargets(vals []float64, q, d int) ([]float64, error) {
	n := q * d
	if n == 0 || len(vals) == 0 || len(vals)%n != 0 {
		return nil, fmt.Errorf("targets: %d values do not fill [%d, %d, k]", len(vals), q, d)
	}
	k := len(vals) / n
	out := make([]float64, n)
	for i := range out {
		m := vals[i*k]
		for _, v := range vals[i*k+1 : (i+1)*k] {
			if v > m || math.IsNaN(v) {
				m = v
			}
		}
		out[i] = m
	}
	return out, nil
}

// descendingOrder is each row's doc positions sorted by descending target,
// ties kept in position order: torch.argsort(descending=True) as libtorch
// (2.1 and 2.11 alike) computes it on the CPU for these list lengths.
func descendingOrder(row []float64) []int {
	idx := make([]int, len(row))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
	return idx
}

// ranks0 is argsort(argsort(row, descending)): each doc's 0-based rank.
func ranks0(row []float64) []int {
	r := make([]int, len(row))
	for pos, i := range descendingOrder(row) {
		r[i] = pos
	}
	return r
}

// pairs returns the flat indices (q·d + i, q·d + j) of every pair with
// target_i > target_j, in torch.nonzero's order (query, i, j).
func pairs(t []float64, q, d int) (pos, neg []int64) {
	for qi := range q {
		row := t[qi*d : (qi+1)*d]
		for i := range d {
			for j := range d {
				if row[i] > row[j] {
					pos = append(pos, int64(qi*d+i))
					neg = append(neg, int64(qi*d+j))
				}
			}
		}
	}
	return pos, neg
}

// argmaxFirst is each row's first position of its maximum (torch.argmax).
func argmaxFirst(t []float64, q, d int) []int64 {
	out := make([]int64, q)
	for qi := range q {
		row := t[qi*d : (qi+1)*d]
		best := 0
		for i, v := range row {
			if v > row[best] {
				best = i
			}
		}
		out[qi] = int64(best)
	}
	return out
}

// permFunc draws a random permutation of n items; tests swap in the
// identity to compare with Lightning IR under a patched torch.randperm.
type permFunc func(n int) []int

func randPerm(r *rand.Rand) permFunc { return r.Perm }

// inBatchSampling configures inBatchColumns.
type inBatchSampling struct {
	pos, neg      string  // Lightning IR's pos/neg_sampling_technique
	scoreBased    bool    // ScoreBasedInBatchCrossEntropy
	minTargetDiff float64 // score-based only
	maxNeg        int     // max_num_neg_samples; 0: keep all
}

// inBatchColumns returns, for each of q queries, the columns of the [q, q·d]
// in-batch score matrix that Lightning IR scores it against: its positives,
// then its negatives (each in column order until shuffled), as a row-major
// [q, width] list. t (the reduced targets) is only read by the score-based
// loss. perm is only called where Lightning IR calls torch.randperm.
func inBatchColumns(cfg inBatchSampling, t []float64, q, d int, perm permFunc) ([]int64, int, error) {
	n := q * d
	posMask := make([][]bool, q)
	negMask := make([][]bool, q)
	for qi := range q {
		lo, hi := qi*d, (qi+1)*d
		pm, nm := make([]bool, n), make([]bool, n)
		for c := range n {
			own := c >= lo && c < hi
			switch {
			case cfg.scoreBased:
				nm[c] = !own // the own block is set from the targets below
			case cfg.pos == "first":
				pm[c] = c == lo
			default:
				pm[c] = own
			}
			if cfg.scoreBased {
				continue
			}
			switch cfg.neg {
			case "all_and_non_first":
				nm[c] = c != lo
			case "first":
				nm[c] = c%d == 0 && c != lo
			default:
				nm[c] = !own
			}
		}
		if cfg.scoreBased {
			row := t[lo:hi]
			best := math.Inf(-1)
			for _, v := range row {
				best = max(best, v)
			}
			for j, r := range ranks0(row) {
				pm[lo+j] = r == 0
				nm[lo+j] = best-row[j] >= cfg.minTargetDiff
			}
		}
		posMask[qi], negMask[qi] = pm, nm
	}
	if cfg.scoreBased {
		// Lightning IR equalises the number of negatives across queries by
		// dropping random ones (from anywhere in the row) where there are more.
		counts := make([]int, q)
		least := n
		for qi, nm := range negMask {
			for _, b := range nm {
				if b {
					counts[qi]++
				}
			}
			least = min(least, counts[qi])
		}
		for qi, nm := range negMask {
			extra := counts[qi] - least
			if extra == 0 {
				continue
			}
			cols := trueColumns(nm)
			p := perm(len(cols))
			for _, k := range p[:extra] {
				nm[cols[k]] = false
			}
		}
	}
	pos := make([][]int64, q)
	neg := make([][]int64, q)
	for qi := range q {
		pos[qi] = trueColumns(posMask[qi])
		neg[qi] = trueColumns(negMask[qi])
		if len(pos[qi]) != len(pos[0]) || len(neg[qi]) != len(neg[0]) {
			return nil, 0, fmt.Errorf("in-batch sampling gave queries different numbers of positives or negatives")
		}
	}
	if cfg.maxNeg > 0 {
		// One shuffle of the negative columns, shared by every query, then
		// the first maxNeg.
		if m := len(neg[0]); m > 1 {
			p := perm(m)
			for qi := range q {
				shuffled := make([]int64, m)
				for k, src := range p {
					shuffled[k] = neg[qi][src]
				}
				neg[qi] = shuffled
			}
		}
		for qi := range q {
			neg[qi] = neg[qi][:min(cfg.maxNeg, len(neg[qi]))]
		}
	}
	width := len(pos[0]) + len(neg[0])
	out := make([]int64, 0, q*width)
	for qi := range q {
		out = append(out, pos[qi]...)
		out = append(out, neg[qi]...)
	}
	return out, width, nil
}

func trueColumns(m []bool) []int64 {
	var out []int64
	for c, b := range m {
		if b {
			out = append(out, int64(c))
		}
	}
	return out
}
