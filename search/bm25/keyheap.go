package bm25

import "slices"

// keyHeap keeps the k largest hitKeys offered to it: a min-heap of
// integers, so the root is the key a newcomer must beat. It is the
// pruning strategies' top k: eight bytes an entry (k = 1000 fits in L1)
// compared inline, where topk.Heap moves 16-byte entries through a
// comparison method; with k = 1000 and many competitive candidates the
// heap's sift-downs are a good part of a query's time.
type keyHeap struct {
	k int
	h []uint64
}

func (t *keyHeap) reset(k int) { t.k, t.h = k, t.h[:0] }

func (t *keyHeap) full() bool { return len(t.h) >= t.k }

// worst is the smallest kept key; only meaningful when full.
func (t *keyHeap) worst() uint64 { return t.h[0] }

// offer adds key if it is among the k largest; it reports whether the
// worst kept key changed while the heap is full (the threshold rose).
func (t *keyHeap) offer(key uint64) bool {
	h := t.h
	if len(h) < t.k {
		h = append(h, key)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if h[p] <= h[i] {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		t.h = h
		return len(h) == t.k
	}
	if key <= h[0] {
		return false
	}
	// Sift the newcomer down from the root.
	n, i := len(h), 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h[r] < h[c] {
			c = r
		}
		if key <= h[c] {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = key
	return true
}

// sorted returns the kept keys, largest first, and empties the heap.
func (t *keyHeap) sorted() []uint64 {
	out := t.h
	slices.Sort(out)
	slices.Reverse(out)
	t.h = out[:0]
	return out
}
