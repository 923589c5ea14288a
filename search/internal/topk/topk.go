// Package topk keeps the k best results of a search: a heap whose root is
// the worst kept entry, so a newcomer is compared with one entry and most
// are turned away at once. Shared by search/bm25 and search/sparse.
package topk

// Entry is one result. Scores are float64, which holds BM25's float32
// scores exactly. Rank breaks ties in score: the smaller rank is the
// better result (an external id's rank for BM25, the document number for
// sparse search).
type Entry struct {
	Score float64
	Rank  uint32
	Doc   uint32
}

// Better orders results: higher score, then smaller rank.
func (a Entry) Better(b Entry) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Rank < b.Rank
}

// Heap keeps the k best entries offered to it.
type Heap struct {
	k int
	h []Entry
}

// Reset empties the heap and sets k.
func (t *Heap) Reset(k int) { t.k, t.h = k, t.h[:0] }

// Full reports whether k entries are kept.
func (t *Heap) Full() bool { return len(t.h) >= t.k }

// Worst is the entry a newcomer must beat once the heap is full.
func (t *Heap) Worst() Entry { return t.h[0] }

// Offer adds e if it belongs to the k best; it reports whether the worst
// kept entry changed while the heap is full (the threshold rose).
func (t *Heap) Offer(e Entry) bool {
	if len(t.h) < t.k {
		t.h = append(t.h, e)
		t.up(len(t.h) - 1)
		return len(t.h) == t.k
	}
	if !e.Better(t.h[0]) {
		return false
	}
	t.h[0] = e
	t.down(0)
	return true
}

func (t *Heap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.h[p].Better(t.h[i]) {
			break
		}
		t.h[p], t.h[i] = t.h[i], t.h[p]
		i = p
	}
}

func (t *Heap) down(i int) {
	n := len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && t.h[l].Better(t.h[r]) {
			w = r
		}
		if !t.h[i].Better(t.h[w]) {
			return
		}
		t.h[i], t.h[w] = t.h[w], t.h[i]
		i = w
	}
}

// Sorted empties the heap into best-first order.
func (t *Heap) Sorted() []Entry {
	out := make([]Entry, len(t.h))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = t.h[0]
		last := len(t.h) - 1
		t.h[0] = t.h[last]
		t.h = t.h[:last]
		if last > 0 {
			t.down(0)
		}
	}
	return out
}
