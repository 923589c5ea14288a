// Package parallel splits element-wise work over goroutines in fixed-size
// blocks, so that results never depend on how many goroutines ran it.
package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Block is the number of elements one call of fn handles (the last block
// of a range may be shorter). Reductions done per block and combined in
// block order are therefore the same for any worker count.
const Block = 1 << 15

// Blocks calls fn(b, lo, hi) for every block b = 0, 1, … of [0, n) (lo =
// b·Block, hi = min(lo+Block, n)), on up to workers goroutines (the calling
// one included). fn must only touch its own block's elements.
func Blocks(n, workers int, fn func(b, lo, hi int)) {
	nb := (n + Block - 1) / Block
	if workers > nb {
		workers = nb
	}
	if workers <= 1 {
		for b := 0; b < nb; b++ {
			fn(b, b*Block, min(b*Block+Block, n))
		}
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Contiguous runs of blocks per worker keep each one's memory
			// streaming forward.
			for b := w * nb / workers; b < (w+1)*nb/workers; b++ {
				fn(b, b*Block, min(b*Block+Block, n))
			}
		}(w)
	}
	wg.Wait()
}

// Tasks calls fn(worker, task) for every task 0..n-1 on up to workers
// goroutines (≤ 0: GOMAXPROCS), each taking the next task as it finishes
// one; worker (0..workers-1) lets fn keep per-goroutine scratch space. fn
// must make its task's result depend on the task only. Tasks stops handing
// out tasks once ctx is done and returns ctx.Err().
func Tasks(ctx context.Context, workers, n int, fn func(worker, task int)) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, n))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for ctx.Err() == nil {
				t := int(next.Add(1) - 1)
				if t >= n {
					return
				}
				fn(w, t)
			}
		}(w)
	}
	wg.Wait()
	return ctx.Err()
}
