package sparse_test

import (
	"container/heap"
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	index "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/index/sparse/synth"
	"github.com/irflow/irflow/search/sparse"
)

// TestLongSynthetic is the acceptance check, too slow for the
// normal suite: IRFLOW_SPARSE_LONG=1000000 go test -run TestLongSynthetic
// -timeout 2h ./search/sparse/ builds a quantised index of that many
// synthetic SPLADE-like documents (256 MiB budget) and checks that the
// pruned top k equals the exhaustive one for 1000 queries and the naive
// scan for 100 of them, k = 10, 100 and 1000.
func TestLongSynthetic(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("IRFLOW_SPARSE_LONG"))
	if n <= 0 {
		t.Skip("set IRFLOW_SPARSE_LONG=<documents> (the acceptance figure is 1000000) to run")
	}
	g := synth.New(synth.Config{Docs: n, Queries: 1000, Seed: 2024})
	const scale = 100
	dir := t.TempDir()
	t0 := time.Now()
	m, err := index.Build(context.Background(), parallelDocs(g, n), dir, index.BuildOptions{
		VocabSize: g.Config().Vocab, Scale: scale, MemoryBudget: 256 << 20, TmpDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d docs, %d postings in %v (generation included)", m.NumDocs, m.NumPostings, time.Since(t0))
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var qs []sparse.Query
	for i := range 1000 {
		id, terms, weights := g.Query(i)
		qs = append(qs, sparse.Query{ID: id, Terms: terms, Weights: weights})
	}
	t0 = time.Now()
	naive := naiveScan(g, n, qs[:100], scale, 1000)
	t.Logf("naive scan of 100 queries: %v", time.Since(t0))
	for _, k := range []int{10, 100, 1000} {
		t0 := time.Now()
		pruned, err := sparse.SearchAll(context.Background(), ix, qs, sparse.Options{K: k})
		if err != nil {
			t.Fatal(err)
		}
		tp := time.Since(t0)
		t0 = time.Now()
		exh, err := sparse.SearchAll(context.Background(), ix, qs, sparse.Options{K: k, Exhaustive: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("k=%d: 1000 queries pruned %v, exhaustive %v", k, tp, time.Since(t0))
		for qi := range qs {
			if len(pruned[qi]) != len(exh[qi]) {
				t.Fatalf("k=%d query %s: %d hits pruned, %d exhaustive", k, qs[qi].ID, len(pruned[qi]), len(exh[qi]))
			}
			for r := range pruned[qi] {
				if pruned[qi][r] != exh[qi][r] {
					t.Fatalf("k=%d query %s rank %d: pruned %v, exhaustive %v", k, qs[qi].ID, r, pruned[qi][r], exh[qi][r])
				}
			}
			if qi < len(naive) {
				want := naive[qi][:min(k, len(naive[qi]))]
				if len(want) != len(pruned[qi]) {
					t.Fatalf("k=%d query %s: %d hits, naive scan %d", k, qs[qi].ID, len(pruned[qi]), len(want))
				}
				for r, w := range want {
					if h := pruned[qi][r]; h.ID != "d"+strconv.Itoa(w.doc) || h.Score != w.score {
						t.Fatalf("k=%d query %s rank %d: %v, naive scan d%d %v", k, qs[qi].ID, r, h, w.doc, w.score)
					}
				}
			}
		}
	}
}

// parallelDocs generates documents on all cores, yielded in order.
func parallelDocs(g *synth.Generator, n int) func(func(index.Doc, error) bool) {
	return func(yield func(index.Doc, error) bool) {
		const chunk = 4096
		type part struct {
			docs []index.Doc
			done chan struct{}
		}
		parts := make(chan *part, runtime.GOMAXPROCS(0)*2)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			defer close(parts)
			for start := 0; start < n; start += chunk {
				p := &part{done: make(chan struct{})}
				go func(start int) {
					for i := start; i < min(start+chunk, n); i++ {
						p.docs = append(p.docs, g.Doc(i))
					}
					close(p.done)
				}(start)
				select {
				case parts <- p:
				case <-stop:
					return
				}
			}
		}()
		for p := range parts {
			<-p.done
			for _, d := range p.docs {
				if !yield(d, nil) {
					return
				}
			}
		}
	}
}

// naiveScan is the brute-force reference over a regenerated corpus: for
// each document, the integer dot product with every query (through a
// term → queries table), the k best per query by score descending then
// document ascending.
func naiveScan(g *synth.Generator, n int, qs []sparse.Query, scale float64, k int) [][]scored {
	type qw struct {
		q int
		w int64
	}
	byTerm := map[uint32][]qw{}
	for qi, q := range qs {
		for i, t := range q.Terms {
			if w := quantize(q.Weights[i], scale); w > 0 {
				byTerm[t] = append(byTerm[t], qw{qi, w})
			}
		}
	}
	heaps := make([]scoredHeap, len(qs))
	sums := make([]int64, len(qs))
	var touched []int
	for d, ok := range parallelDocs(g, n) {
		_ = ok
		doc, _ := strconv.Atoi(d.ID[1:])
		touched = touched[:0]
		for i, t := range d.Terms {
			dw := quantize(d.Weights[i], scale)
			if dw == 0 {
				continue
			}
			for _, x := range byTerm[t] {
				if sums[x.q] == 0 {
					touched = append(touched, x.q)
				}
				sums[x.q] += x.w * dw
			}
		}
		for _, q := range touched {
			e := scored{doc, float64(sums[q])}
			sums[q] = 0
			h := &heaps[q]
			if h.Len() < k {
				heap.Push(h, e)
			} else if e.score > (*h)[0].score { // ties: the earlier document stays
				(*h)[0] = e
				heap.Fix(h, 0)
			}
		}
	}
	out := make([][]scored, len(qs))
	for q := range heaps {
		h := &heaps[q]
		out[q] = make([]scored, h.Len())
		for i := len(out[q]) - 1; i >= 0; i-- {
			out[q][i] = heap.Pop(h).(scored)
		}
	}
	return out
}

// scoredHeap is a min-heap by (score, then later document first): its
// root is the worst of the kept results.
type scoredHeap []scored

func (h scoredHeap) Len() int { return len(h) }
func (h scoredHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].doc > h[j].doc
}
func (h scoredHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *scoredHeap) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *scoredHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
