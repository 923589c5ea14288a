package tokenizer

import (
	"math/rand/v2"
	"testing"
)

// TestTrieLongestMatchesMapSearch checks the trie against HF's way of
// finding a piece: try every end, longest first, in a hash map.
func TestTrieLongestMatchesMapSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// More symbols than denseFanout, so nodes take both paths of step.
	alphabet := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "é", "中", "ß", "z"}
	randWord := func(n int) string {
		s := ""
		for i := 0; i < n; i++ {
			s += alphabet[rng.IntN(len(alphabet))]
		}
		return s
	}
	pieces := map[string]int{}
	for len(pieces) < 5000 {
		pieces[randWord(1+rng.IntN(6))] = len(pieces)
	}
	trie := buildTrie(pieces)
	for k := 0; k < 20000; k++ {
		w := []byte(randWord(1 + rng.IntN(10)))
		wantID, wantN := 0, 0
		for end := len(w); end > 0; end-- {
			if id, ok := pieces[string(w[:end])]; ok {
				wantID, wantN = id, end
				break
			}
		}
		if id, n := trie.longest(w); id != wantID || n != wantN {
			t.Fatalf("longest(%q) = (%d, %d), want (%d, %d)", w, id, n, wantID, wantN)
		}
	}
}
