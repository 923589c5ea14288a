package topk

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestHeapKeepsBest: against sorting everything, with many ties.
func TestHeapKeepsBest(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	for _, tc := range []struct{ n, k, distinct int }{{0, 5, 3}, {3, 5, 3}, {100, 1, 10}, {1000, 10, 5}, {1000, 100, 1000}, {500, 500, 7}} {
		var h Heap
		h.Reset(tc.k)
		all := make([]Entry, tc.n)
		for i := range all {
			all[i] = Entry{Score: float64(r.IntN(tc.distinct)), Rank: uint32(r.IntN(tc.n)), Doc: uint32(i)}
			h.Offer(all[i])
		}
		slices.SortStableFunc(all, func(a, b Entry) int {
			switch {
			case a.Better(b):
				return -1
			case b.Better(a):
				return 1
			}
			return 0
		})
		want := all[:min(tc.k, tc.n)]
		got := h.Sorted()
		// Entries equal in score and rank may be kept in either order.
		for i := range want {
			if got[i].Score != want[i].Score || got[i].Rank != want[i].Rank {
				t.Fatalf("n=%d k=%d: entry %d = %+v, want %+v", tc.n, tc.k, i, got[i], want[i])
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d entries, want %d", len(got), len(want))
		}
	}
}

func TestOfferReportsThreshold(t *testing.T) {
	var h Heap
	h.Reset(2)
	for i, tc := range []struct {
		score   float64
		rank    uint32
		changed bool
	}{{1, 5, false}, {2, 1, true}, {0.5, 0, false}, {1, 6, false}, {1, 4, true}, {3, 9, true}} {
		if got := h.Offer(Entry{Score: tc.score, Rank: tc.rank}); got != tc.changed {
			t.Errorf("offer %d: %v, want %v", i, got, tc.changed)
		}
	}
	if w := h.Worst(); w.Score != 2 || w.Rank != 1 {
		t.Errorf("worst %+v", w)
	}
}
