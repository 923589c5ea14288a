package tokenizer

import (
	"container/heap"
	"fmt"
	"sync"
	"unicode/utf8"
)

// bpe is HF's BPE model: a word starts as one symbol per character (byte
// for byte-level words) and adjacent symbols are merged by the rank of
// their pair in the merges list, lowest rank first and leftmost on ties,
// until no listed pair remains (Word::merge_all).
type bpe struct {
	vocab       map[string]int
	idToToken   []string
	merges      map[uint64]merge // (left id, right id) → rank and merged id
	unkID       int              // -1 when unk_token is null
	prefix      string           // continuing_subword_prefix
	suffix      string           // end_of_word_suffix
	fuseUnk     bool
	byteFB      bool
	ignoreMerge bool
	byteIDs     [256]int // id of each byte's byte-level character, -1 if absent

	mu             sync.RWMutex
	cache, cacheBL map[string][]int // word → ids, as HF's cache of words (plain, byte-level)
}

type merge struct{ rank, id int }

// bpeCacheSize bounds the word cache; once full, new words are not cached.
// HF keeps 10,000 words, too few for a corpus's vocabulary (SciFact has
// about 60,000 distinct words); the cache does not change results.
const bpeCacheSize = 1 << 17

func pairKey(a, b int) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func newBPE(vocab map[string]int, merges [][2]string, unk, prefix, suffix string, fuseUnk, byteFB, ignoreMerges bool) (*bpe, error) {
	m := &bpe{vocab: vocab, merges: make(map[uint64]merge, len(merges)), unkID: -1, prefix: prefix, suffix: suffix,
		fuseUnk: fuseUnk, byteFB: byteFB, ignoreMerge: ignoreMerges, cache: map[string][]int{}, cacheBL: map[string][]int{}}
	n := 0
	for _, id := range vocab {
		n = max(n, id+1)
	}
	m.idToToken = make([]string, n)
	for tok, id := range vocab {
		m.idToToken[id] = tok
	}
	if unk != "" {
		id, ok := vocab[unk]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocabulary", unk)
		}
		m.unkID = id
	}
	for rank, p := range merges {
		a, okA := vocab[p[0]]
		b, okB := vocab[p[1]]
		if !okA || !okB {
			return nil, fmt.Errorf("merge %d (%q %q): token not in the vocabulary", rank+1, p[0], p[1])
		}
		right := p[1]
		if len(prefix) > 0 && len(right) >= len(prefix) {
			right = right[len(prefix):] // HF cuts the prefix length whether or not it is there
		}
		id, ok := vocab[p[0]+right]
		if !ok {
			return nil, fmt.Errorf("merge %d (%q %q): merged token %q not in the vocabulary", rank+1, p[0], p[1], p[0]+right)
		}
		m.merges[pairKey(a, b)] = merge{rank, id} // a repeated pair keeps its last rank, as HF's HashMap
	}
	for c := 0; c < 256; c++ {
		m.byteIDs[c] = -1
		if id, ok := vocab[string(byteToRune[c])]; ok {
			m.byteIDs[c] = id
		}
	}
	return m, nil
}

func (m *bpe) appendWord(sc *scratch, w word) {
	if len(w.b) == 0 {
		return
	}
	cache := m.cache
	if w.byteLevel {
		cache = m.cacheBL // byte-level and plain words never share entries
	}
	m.mu.RLock()
	ids, ok := cache[string(w.b)]
	m.mu.RUnlock()
	if !ok {
		ids = m.tokenize(w)
		m.mu.Lock()
		if len(cache) < bpeCacheSize {
			cache[string(w.b)] = ids
		}
		m.mu.Unlock()
	}
	for _, id := range ids {
		sc.ids = append(sc.ids, id)
		sc.toks = append(sc.toks, m.idToToken[id])
	}
}

// symbol is one symbol of a word being merged, in a doubly linked list.
type symbol struct {
	id         int
	prev, next int // indices, -1 at the ends
	gone       bool
}

// mergeItem is a candidate merge at symbol pos (its left side).
type mergeItem struct{ rank, pos, id int }

type mergeHeap []mergeItem

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// tokenize is BPE::tokenize_with_cache without the cache.
func (m *bpe) tokenize(w word) []int {
	if m.ignoreMerge {
		if id, ok := m.vocab[w.text()]; ok {
			return []int{id}
		}
	}
	var syms []symbol
	add := func(id int) {
		syms = append(syms, symbol{id: id, prev: len(syms) - 1, next: len(syms) + 1})
	}
	if w.byteLevel && m.prefix == "" && m.suffix == "" && m.allBytes(w.b) {
		for _, c := range w.b {
			add(m.byteIDs[c])
		}
	} else {
		m.initialSymbols(w.text(), add)
	}
	if len(syms) == 0 {
		return nil
	}
	syms[len(syms)-1].next = -1
	h := make(mergeHeap, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if mg, ok := m.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			h = append(h, mergeItem{mg.rank, i, mg.id})
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		top := heap.Pop(&h).(mergeItem)
		s := &syms[top.pos]
		if s.gone || s.next < 0 {
			continue
		}
		right := &syms[s.next]
		// A stale entry: the pair at pos changed since it was pushed.
		if mg, ok := m.merges[pairKey(s.id, right.id)]; !ok || mg.id != top.id {
			continue
		}
		s.id = top.id
		right.gone = true
		s.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if s.prev >= 0 {
			if mg, ok := m.merges[pairKey(syms[s.prev].id, s.id)]; ok {
				heap.Push(&h, mergeItem{mg.rank, s.prev, mg.id})
			}
		}
		if s.next >= 0 {
			if mg, ok := m.merges[pairKey(s.id, syms[s.next].id)]; ok {
				heap.Push(&h, mergeItem{mg.rank, top.pos, mg.id})
			}
		}
	}
	ids := make([]int, 0, len(syms))
	for i := 0; i >= 0 && i < len(syms); i = syms[i].next {
		ids = append(ids, syms[i].id)
	}
	return ids
}

func (m *bpe) allBytes(b []byte) bool {
	for _, c := range b {
		if m.byteIDs[c] < 0 {
			return false
		}
	}
	return true
}

// initialSymbols is the start of BPE::merge_word: one symbol per
// character (with the continuing-subword prefix after the first and the
// end-of-word suffix on the last), byte-fallback tokens <0xXX> for a
// character the vocabulary lacks, else the unknown token (fused with a
// preceding one when fuse_unk), else nothing.
func (m *bpe) initialSymbols(s string, add func(int)) {
	unk, unkPending := 0, false
	for i, r := range s {
		n := utf8.RuneLen(r)
		if r == utf8.RuneError {
			n = 1
		}
		c := s[i : i+n]
		if i > 0 && m.prefix != "" {
			c = m.prefix + c
		}
		if i+n == len(s) && m.suffix != "" {
			c += m.suffix
		}
		if id, ok := m.vocab[c]; ok {
			if unkPending {
				add(unk)
				unkPending = false
			}
			add(id)
			continue
		}
		if m.byteFB {
			ids := make([]int, 0, len(c))
			for k := 0; k < len(c); k++ {
				id, ok := m.vocab[fmt.Sprintf("<0x%02X>", c[k])]
				if !ok {
					ids = nil
					break
				}
				ids = append(ids, id)
			}
			if ids != nil {
				for _, id := range ids {
					add(id)
				}
				continue
			}
		}
		if m.unkID >= 0 {
			if unkPending && !m.fuseUnk {
				add(unk)
			}
			unk, unkPending = m.unkID, true
		}
	}
	if unkPending {
		add(unk)
	}
}
