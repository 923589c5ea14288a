package bm25

import (
	"math"
	"math/bits"
	"slices"

	index "github.com/irflow/irflow/index/bm25"
	"github.com/irflow/irflow/search/internal/topk"
)

// accumulate scores every matching document term at a time, a window of
// windowSize documents after another, into float64 accumulators: clause
// by clause in clause order, so each document's sum is total's float64
// sum, term for term, and its score is the same float32. There is no
// per-document merging of cursors; every document's score goes to
// sc.keys as a sort key, and topKeys then selects the k best. This is
// exhaustive scoring for unit field boosts (total's nested per-field sums
// need the clause contributions apart; exhaustive handles those).
func (s *Searcher) accumulate(sc *Scratch) {
	acc := &sc.acc
	seen := &sc.seen
	keys := sc.keys[:0]
	for {
		d0 := index.NoMoreDocs
		for i := range sc.clauses {
			d0 = min(d0, sc.clauses[i].p.Doc())
		}
		if d0 == index.NoMoreDocs {
			break
		}
		wEnd := uint64(d0) + windowSize // exclusive
		for i := range sc.clauses {
			c := &sc.clauses[i]
			for doc := c.p.Doc(); uint64(doc) < wEnd; doc = c.p.Next() {
				r := doc - d0
				acc[r] += float64(c.score(c.p.Freq(), doc))
				seen[r/64] |= 1 << (r % 64)
			}
		}
		for w, m := range seen {
			if m == 0 {
				continue
			}
			seen[w] = 0
			for ; m != 0; m &= m - 1 {
				r := uint32(w*64 + bits.TrailingZeros64(m))
				keys = append(keys, hitKey(float32(acc[r]), s.ranks[d0+r]))
				acc[r] = 0
			}
		}
	}
	sc.keys = keys
}

// hitKey packs a score and its document's id rank into one integer that
// orders hits like topk.Entry.Better: the larger key is the better hit
// (higher score, then smaller rank). The score's bits are made to order
// like its value (sign bit flipped for positive floats, all bits for
// negative ones; −0 counts as +0, as float comparison has it).
func hitKey(score float32, rank uint32) uint64 {
	if score == 0 {
		score = 0
	}
	b := math.Float32bits(score)
	if b>>31 == 0 {
		b |= 1 << 31
	} else {
		b = ^b
	}
	return uint64(b)<<32 | uint64(^rank)
}

// keyScore is the score of a hitKey.
func keyScore(key uint64) float32 {
	b := uint32(key >> 32)
	if b>>31 == 1 {
		b &^= 1 << 31
	} else {
		b = ^b
	}
	return math.Float32frombits(b)
}

// keyEntry unpacks a hitKey; rankDoc maps ranks back to documents.
func keyEntry(key uint64, rankDoc []uint32) topk.Entry {
	rank := ^uint32(key)
	return topk.Entry{Score: float64(keyScore(key)), Rank: rank, Doc: rankDoc[rank]}
}

// topKeys returns the k largest of keys, largest first, reordering keys.
// Quickselect puts the k largest in front, then only those are sorted:
// for k = 1000 out of a few thousand candidates this costs a fraction of
// offering each one to a heap and draining it (integer keys compare
// inline, where entries would need a comparison function).
func topKeys(keys []uint64, k int) []uint64 {
	if len(keys) > k {
		selectLargest(keys, k)
		keys = keys[:k]
	}
	slices.Sort(keys)
	slices.Reverse(keys)
	return keys
}

// selectLargest reorders keys so that keys[:k] are its k largest (in no
// particular order), 0 < k < len(keys), keys distinct: Hoare's
// quickselect on a median-of-three pivot, falling back to sorting the
// remaining range when a bad run of pivots makes it recurse too long.
func selectLargest(keys []uint64, k int) {
	lo, hi := 0, len(keys) // the boundary lies in keys[lo:hi]
	for budget := 2 * bits.Len(uint(len(keys))); hi-lo > 16; budget-- {
		if budget == 0 {
			break
		}
		// Median of three as pivot, moved to lo.
		m := lo + (hi-lo)/2
		a, b, c := keys[lo], keys[m], keys[hi-1]
		pv := max(min(a, b), min(max(a, b), c))
		switch pv {
		case b:
			keys[lo], keys[m] = keys[m], keys[lo]
		case c:
			keys[lo], keys[hi-1] = keys[hi-1], keys[lo]
		}
		// Partition keys[lo+1:hi]: larger than the pivot to the left.
		i, j := lo+1, hi-1
		for {
			for i <= j && keys[i] > pv {
				i++
			}
			for i <= j && keys[j] < pv {
				j--
			}
			if i >= j {
				break
			}
			keys[i], keys[j] = keys[j], keys[i]
			i++
			j--
		}
		// keys[lo+1:i] are larger than the pivot, keys[j+1:hi] smaller
		// (i = j+1); the pivot goes to j.
		keys[lo], keys[j] = keys[j], keys[lo]
		switch {
		case j == k || j == k-1:
			return
		case j > k:
			hi = j
		default:
			lo = j + 1
		}
	}
	// Everything before lo is larger, everything from hi on smaller.
	slices.Sort(keys[lo:hi])
	slices.Reverse(keys[lo:hi])
}
