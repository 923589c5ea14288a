package exact

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/irflow/irflow/search/internal/topk"
)

func TestPlan(t *testing.T) {
	for _, c := range []struct {
		threads, batches, docs, shards int
	}{
		{1, 1, 100, 1},  // one thread: never split documents
		{2, 16, 100, 1}, // enough batches
		{2, 5, 100, 2},  // 5 batches for 2 threads: 10 tasks
		{2, 1, 100, 8},  // one batch: 8 shards
		{4, 1, 3, 3},    // no more shards than documents
		{16, 2, 1000, 32},
	} {
		p := NewPlan(c.threads, c.batches, c.docs)
		if p.Shards != c.shards {
			t.Errorf("%+v: %d shards, want %d", c, p.Shards, c.shards)
		}
		next := 0
		for s := 0; s < p.Shards; s++ {
			lo, hi := p.Shard(s)
			if lo != next || hi <= lo {
				t.Errorf("%+v: shard %d = [%d, %d)", c, s, lo, hi)
			}
			next = hi
		}
		if next != c.docs {
			t.Errorf("%+v: shards end at %d", c, next)
		}
		var mu sync.Mutex
		seen := map[[2]int]int{}
		done := map[int]int{}
		err := p.Run(context.Background(), func(w, b, s int) error {
			mu.Lock()
			defer mu.Unlock()
			if w < 0 || w >= p.Threads {
				t.Errorf("worker %d", w)
			}
			seen[[2]int{b, s}]++
			return nil
		}, func(b int) {
			mu.Lock()
			defer mu.Unlock()
			for s := 0; s < p.Shards; s++ {
				if seen[[2]int{b, s}] != 1 {
					t.Errorf("%+v: batch %d done before shard %d ran", c, b, s)
				}
			}
			done[b]++
		})
		if err != nil || len(seen) != c.batches*p.Shards || len(done) != c.batches {
			t.Errorf("%+v: %d tasks, %d batches done, %v", c, len(seen), len(done), err)
		}
	}
}

func TestRunStopsAtError(t *testing.T) {
	p := NewPlan(1, 10, 10)
	boom := errors.New("boom")
	ran := 0
	err := p.Run(context.Background(), func(w, b, s int) error {
		ran++
		if b == 2 {
			return boom
		}
		return nil
	}, nil)
	if err != boom || ran != 3 {
		t.Errorf("error %v after %d tasks, want boom after 3", err, ran)
	}
}

func TestBest(t *testing.T) {
	e := func(score float64, doc uint32) topk.Entry { return topk.Entry{Score: score, Rank: doc, Doc: doc} }
	a := []topk.Entry{e(3, 1), e(2, 0), e(2, 4)}
	b := []topk.Entry{e(5, 7), e(2, 2)}
	got := Best(4, a, b)
	want := []topk.Entry{e(5, 7), e(3, 1), e(2, 0), e(2, 2)}
	if !slices.Equal(got, want) {
		t.Errorf("Best = %v, want %v", got, want)
	}
	if got := Best(10, a); !slices.Equal(got, a) {
		t.Errorf("one list: %v", got)
	}
}
