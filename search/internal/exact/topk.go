// Package exact holds what irflow's exhaustive vector searches share: a
// top-k heap with a deterministic order, and the scheduling of
// (query batch × document shard) tasks over threads.
package exact

import "slices"

// Entry is a scored document. Key orders like Score (key ≤ key' implies
// score ≤ score') and is what a search compares before computing the
// score itself (l2 keys the squared distance, negated, and takes the
// square root only for candidates).
type Entry struct {
	Score float32
	Key   float32
	Doc   uint32
}

// Better orders results: higher score, then lower document number
// (corpus order).
func Better(a, b Entry) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Doc < b.Doc
}

// TopK keeps the k best entries in a heap whose root is the worst.
type TopK struct {
	k int
	h []Entry
}

// Reset empties the heap for a new k.
func (t *TopK) Reset(k int) { t.k, t.h = k, t.h[:0] }

// Threshold is the key a newcomer must exceed to enter a full heap when
// documents arrive in increasing number (a tie in score loses to the
// earlier document); -Inf-like false when the heap is not full.
func (t *TopK) Threshold() (float32, bool) {
	if len(t.h) < t.k {
		return 0, false
	}
	return t.h[0].Key, true
}

// Offer adds e if it belongs to the k best.
func (t *TopK) Offer(e Entry) {
	if len(t.h) < t.k {
		t.h = append(t.h, e)
		t.up(len(t.h) - 1)
		return
	}
	if !Better(e, t.h[0]) {
		return
	}
	t.h[0] = e
	t.down(0)
}

func (t *TopK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !Better(t.h[p], t.h[i]) {
			break
		}
		t.h[p], t.h[i] = t.h[i], t.h[p]
		i = p
	}
}

func (t *TopK) down(i int) {
	n := len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && Better(t.h[l], t.h[r]) {
			w = r
		}
		if !Better(t.h[i], t.h[w]) {
			return
		}
		t.h[i], t.h[w] = t.h[w], t.h[i]
		i = w
	}
}

// Entries returns a copy of the kept entries, in no particular order.
func (t *TopK) Entries() []Entry { return slices.Clone(t.h) }

// Best merges entry lists (from disjoint document shards) and returns
// the k best, best first.
func Best(k int, lists ...[]Entry) []Entry {
	var all []Entry
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.SortFunc(all, func(a, b Entry) int {
		if Better(a, b) {
			return -1
		}
		if Better(b, a) {
			return 1
		}
		return 0
	})
	return all[:min(k, len(all))]
}
