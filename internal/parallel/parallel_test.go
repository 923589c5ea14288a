package parallel

import (
	"sync/atomic"
	"testing"
)

func TestBlocksCoversEveryElementOnce(t *testing.T) {
	for _, n := range []int{0, 1, Block - 1, Block, Block + 1, 5*Block + 17} {
		for _, workers := range []int{0, 1, 2, 3, 64} {
			seen := make([]int32, n)
			var calls atomic.Int32
			Blocks(n, workers, func(b, lo, hi int) {
				calls.Add(1)
				if lo != b*Block || hi > n || hi <= lo || (hi-lo != Block && hi != n) {
					t.Errorf("n=%d workers=%d: block %d is [%d, %d)", n, workers, b, lo, hi)
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&seen[i], 1)
				}
			})
			if want := (n + Block - 1) / Block; int(calls.Load()) != want {
				t.Errorf("n=%d workers=%d: %d calls, want %d", n, workers, calls.Load(), want)
			}
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("n=%d workers=%d: element %d visited %d times", n, workers, i, c)
				}
			}
		}
	}
}
