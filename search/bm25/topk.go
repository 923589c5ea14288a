package bm25

// Hit is one retrieved document.
type Hit struct {
	Doc   uint32 // internal document number
	ID    string // external document id
	Score float32
}

// entry is a heap element; rank is the document's external-id rank, the
// tie-breaker (smaller id first, like Anserini's Sort on the id field).
type entry struct {
	score float32
	rank  uint32
	doc   uint32
}

// better orders results: higher score, then smaller id.
func better(a, b entry) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.rank < b.rank
}

// topK keeps the k best entries in a heap whose root is the worst.
type topK struct {
	k int
	h []entry
}

func (t *topK) reset(k int) { t.k, t.h = k, t.h[:0] }

func (t *topK) full() bool { return len(t.h) >= t.k }

// worst is the entry a newcomer must beat once the heap is full.
func (t *topK) worst() entry { return t.h[0] }

// offer adds e if it belongs to the top k; it reports whether the
// heap's root changed.
func (t *topK) offer(e entry) bool {
	if len(t.h) < t.k {
		t.h = append(t.h, e)
		t.up(len(t.h) - 1)
		return len(t.h) == t.k
	}
	if !better(e, t.h[0]) {
		return false
	}
	t.h[0] = e
	t.down(0)
	return true
}

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !better(t.h[p], t.h[i]) {
			break
		}
		t.h[p], t.h[i] = t.h[i], t.h[p]
		i = p
	}
}

func (t *topK) down(i int) {
	n := len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && better(t.h[l], t.h[r]) {
			w = r
		}
		if !better(t.h[i], t.h[w]) {
			return
		}
		t.h[i], t.h[w] = t.h[w], t.h[i]
		i = w
	}
}

// sorted empties the heap into best-first order.
func (t *topK) sorted() []entry {
	out := make([]entry, len(t.h))
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
