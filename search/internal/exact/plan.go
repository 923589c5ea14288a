package exact

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Plan splits a search into tasks: QueryBatches × Shards, where each
// shard is a contiguous range of documents. More shards than one only
// when there are too few query batches to keep every thread busy; each
// task scans its shard once for its batch.
type Plan struct {
	Threads      int
	QueryBatches int
	Shards       int
	// shard boundaries in documents: shard s covers bounds[s]..bounds[s+1]-1
	bounds []int
}

// tasksPerThread balances uneven task lengths.
const tasksPerThread = 4

// NewPlan plans nBatches query batches over nDocs documents. threads ≤ 0
// means GOMAXPROCS.
func NewPlan(threads, nBatches, nDocs int) Plan {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := Plan{Threads: threads, QueryBatches: nBatches, Shards: 1}
	if threads > 1 && nBatches < tasksPerThread*threads {
		p.Shards = (tasksPerThread*threads + nBatches - 1) / nBatches
	}
	p.Shards = max(1, min(p.Shards, nDocs))
	for s := 0; s <= p.Shards; s++ {
		p.bounds = append(p.bounds, s*nDocs/p.Shards)
	}
	return p
}

// Shard returns the document range of shard s.
func (p Plan) Shard(s int) (lo, hi int) { return p.bounds[s], p.bounds[s+1] }

// Run calls work(worker, batch, shard) for every task on p.Threads
// goroutines; worker (0 ≤ worker < Threads) indexes per-thread scratch.
// done(batch) runs once all of a batch's shards are finished. The first
// error, or ctx's, stops the remaining tasks.
func (p Plan) Run(ctx context.Context, work func(worker, batch, shard int) error, done func(batch int)) error {
	n := p.QueryBatches * p.Shards
	threads := max(1, min(p.Threads, n))
	left := make([]atomic.Int32, p.QueryBatches)
	for i := range left {
		left[i].Store(int32(p.Shards))
	}
	var next atomic.Int64
	var once sync.Once
	var first error
	fail := func(err error) { once.Do(func() { first = err }) }
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for !stop.Load() {
				t := int(next.Add(1) - 1)
				if t >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					fail(err)
					stop.Store(true)
					return
				}
				b, s := t/p.Shards, t%p.Shards
				if err := work(w, b, s); err != nil {
					fail(err)
					stop.Store(true)
					return
				}
				if left[b].Add(-1) == 0 && done != nil {
					done(b)
				}
			}
		}(w)
	}
	wg.Wait()
	return first
}
