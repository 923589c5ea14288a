package tokenizer

import (
	"fmt"
	"unicode/utf8"
)

// unigram is HF's Unigram model (SentencePiece's unigram language model,
// T5): the segmentation of a word into vocabulary pieces with the highest
// total log-probability, found by Viterbi (Unigram::encode_optimized). A
// character no piece covers becomes the unknown token with the score of the
// least likely piece minus 10; adjacent unknowns are fused into one.
type unigram struct {
	pieces    []string
	scores    []float64
	ids       map[string]int
	trie      *pieceTrie
	unkID     int
	unkScore  float64
	byteFB    bool
	byteIDs   [256]int // <0xXX> ids with byte fallback
	idToToken []string
}

// unkPenalty is SentencePiece's kUnkPenalty.
const unkPenalty = 10.0

func newUnigram(pieces []string, scores []float64, unkID int, byteFB bool) (*unigram, error) {
	if unkID < 0 || unkID >= len(pieces) {
		return nil, fmt.Errorf("unk_id %d outside the vocabulary of %d pieces", unkID, len(pieces))
	}
	m := &unigram{pieces: pieces, scores: scores, ids: make(map[string]int, len(pieces)), unkID: unkID, byteFB: byteFB}
	minScore := 0.0
	for i, p := range pieces {
		m.ids[p] = i // a repeated piece keeps its last id, as HF's token_to_ids
		if i == 0 || scores[i] < minScore {
			minScore = scores[i]
		}
	}
	m.unkScore = minScore - unkPenalty
	m.trie = buildTrie(m.ids)
	for c := 0; c < 256; c++ {
		m.byteIDs[c] = -1
		if id, ok := m.ids[fmt.Sprintf("<0x%02X>", c)]; ok {
			m.byteIDs[c] = id
		}
	}
	return m, nil
}

// span is a piece of a word, [lo, hi) in bytes.
type span struct{ lo, hi int }

// latticeNode is the best path ending at a byte position.
type latticeNode struct {
	id      int
	start   int
	score   float64
	reached bool
}

func (m *unigram) appendWord(sc *scratch, w word) {
	s := w.b
	if w.byteLevel {
		s = []byte(w.text())
	}
	if len(s) == 0 {
		return
	}
	if cap(sc.lattice) < len(s)+1 {
		sc.lattice = make([]latticeNode, len(s)+1)
	}
	best := sc.lattice[:len(s)+1]
	clear(best)
	best[0] = latticeNode{start: -1, reached: true}
	for start := 0; start < len(s); {
		base := best[start].score
		_, mblen := utf8.DecodeRune(s[start:])
		single := false
		m.trie.prefixes(s[start:], func(id, n int) {
			cand := m.scores[id] + base
			t := &best[start+n]
			if !t.reached || cand > t.score {
				*t = latticeNode{id: id, start: start, score: cand, reached: true}
			}
			if n == mblen {
				single = true
			}
		})
		if !single {
			t := &best[start+mblen]
			cand := m.unkScore + base
			if !t.reached || cand > t.score {
				*t = latticeNode{id: m.unkID, start: start, score: cand, reached: true}
			}
		}
		start += mblen
	}
	// Backtrack; unknown pieces next to each other are fused into one.
	spans := sc.spans[:0]
	for end := len(s); end > 0; {
		n := best[end]
		if n.id == m.unkID && len(spans) > 0 && spans[len(spans)-1].lo == end && best[spans[len(spans)-1].hi].id == m.unkID {
			spans[len(spans)-1].lo = n.start
		} else {
			spans = append(spans, span{n.start, end})
		}
		end = n.start
	}
	sc.spans = spans
	for k := len(spans) - 1; k >= 0; k-- {
		piece := s[spans[k].lo:spans[k].hi]
		if id, ok := m.ids[string(piece)]; ok {
			sc.ids = append(sc.ids, id)
			sc.toks = append(sc.toks, m.pieces[id])
			continue
		}
		if m.byteFB && m.bytesCovered(piece) {
			for _, c := range piece {
				sc.ids = append(sc.ids, m.byteIDs[c])
				sc.toks = append(sc.toks, m.pieces[m.byteIDs[c]])
			}
			continue
		}
		// HF keeps the text of an unknown piece as its token string.
		sc.ids = append(sc.ids, m.unkID)
		sc.toks = append(sc.toks, string(piece))
	}
}

func (m *unigram) bytesCovered(b []byte) bool {
	for _, c := range b {
		if m.byteIDs[c] < 0 {
			return false
		}
	}
	return true
}

// prefixes calls fn with the id and length of every piece that prefixes
// s, shortest first (a common-prefix search).
func (t *pieceTrie) prefixes(s []byte, fn func(id, n int)) {
	node := int32(0)
	for i := 0; i < len(s); i++ {
		node = t.step(node, s[i])
		if node < 0 {
			return
		}
		if t.id[node] >= 0 {
			fn(int(t.id[node]), i+1)
		}
	}
}
