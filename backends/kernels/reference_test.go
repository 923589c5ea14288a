package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// fullSortTopK is the plain definition: every finite-or-infinite (non-NaN)
// score of every block, sorted by score then document, cut to k.
func fullSortTopK(row []float32, k int) []Hit {
	var all []Hit
	for d, v := range row {
		if v == v {
			all = append(all, Hit{Doc: int64(d), Score: v})
		}
	}
	slices.SortStableFunc(all, func(a, b Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0 // stable: smaller document first
	})
	return all[:min(k, len(all))]
}

// topkCase is a score matrix (queries × documents) fed in blocks.
type topkCase struct {
	name         string
	queries, n   int
	k            int
	blocks       []int // block sizes, cycled
	levels       int   // 0: continuous scores; else scores from this many values (ties)
	nanEvery     int   // about every nanEvery-th score is NaN (0: none)
	infEvery     int   // about every infEvery-th score is −Inf (0: none)
	wantPartialK bool  // fewer than k hits exist
}

func topkCases() []topkCase {
	return []topkCase{
		{name: "continuous", queries: 5, n: 5000, k: 10, blocks: []int{700}},
		{name: "ties", queries: 4, n: 3000, k: 50, blocks: []int{256}, levels: 7},
		{name: "k larger than a block", queries: 3, n: 2000, k: 300, blocks: []int{64, 17, 200}},
		{name: "k larger than the corpus", queries: 2, n: 90, k: 100, blocks: []int{32}, wantPartialK: true},
		{name: "blocks larger than a chunk", queries: 3, n: 9000, k: 1024, blocks: []int{4000, 1500}, levels: 50},
		{name: "NaN and -Inf", queries: 3, n: 2500, k: 40, blocks: []int{333}, nanEvery: 5, infEvery: 7},
		{name: "all ties", queries: 2, n: 4000, k: 1000, blocks: []int{1500}, levels: 1},
		{name: "k=1", queries: 6, n: 3000, k: 1, blocks: []int{1}, levels: 3},
	}
}

// scores returns scores[q][d].
func (c topkCase) scores() [][]float32 {
	rng := rand.New(rand.NewPCG(1, uint64(c.n)))
	scores := make([][]float32, c.queries)
	for q := range scores {
		scores[q] = make([]float32, c.n)
		for d := range scores[q] {
			v := float32(rng.NormFloat64())
			if c.levels > 0 {
				v = float32(rng.IntN(c.levels))
			}
			if c.nanEvery > 0 && rng.IntN(c.nanEvery) == 0 {
				v = float32(math.NaN())
			} else if c.infEvery > 0 && rng.IntN(c.infEvery) == 0 {
				v = float32(math.Inf(-1))
			}
			scores[q][d] = v
		}
	}
	return scores
}

// eachBlock calls f with each block (row-major queries × nb) in order.
func (c topkCase) eachBlock(scores [][]float32, f func(blk []float32, nb, d0 int) error) error {
	for d0, i := 0, 0; d0 < c.n; i++ {
		nb := min(c.blocks[i%len(c.blocks)], c.n-d0)
		blk := make([]float32, c.queries*nb)
		for q := range scores {
			copy(blk[q*nb:], scores[q][d0:d0+nb])
		}
		if err := f(blk, nb, d0); err != nil {
			return err
		}
		d0 += nb
	}
	return nil
}

func TestTopKReference(t *testing.T) {
	for _, c := range topkCases() {
		t.Run(c.name, func(t *testing.T) {
			scores := c.scores()
			r, err := NewTopKReference(c.queries, c.k)
			if err != nil {
				t.Fatal(err)
			}
			err = c.eachBlock(scores, func(blk []float32, nb, d0 int) error { return r.Add(blk, nb, int64(d0)) })
			if err != nil {
				t.Fatal(err)
			}
			got := r.Results()
			for q := range scores {
				want := fullSortTopK(scores[q], c.k)
				if !slices.Equal(got[q], want) {
					t.Fatalf("query %d: got %d hits %v…, want %d %v…", q, len(got[q]), head(got[q]), len(want), head(want))
				}
				if c.wantPartialK == (len(want) == c.k) {
					t.Fatalf("query %d: %d hits, the case expects partial=%v", q, len(want), c.wantPartialK)
				}
			}
		})
	}
}

func head(h []Hit) []Hit { return h[:min(5, len(h))] }

// naivePool is the composition in float64: every logit materialised,
// sparsified and pooled as models/heads does it.
func naivePool(hidden []float32, B, L, D int, weight []float32, V int, bias []float32, mask []int64, o PoolOptions) []float64 {
	sp := func(x float64) float64 {
		if o.Sparsification == SparsifyNone {
			return x
		}
		x = math.Max(x, 0)
		if o.Sparsification >= SparsifyReLULog {
			x = math.Log1p(x)
		}
		if o.Sparsification == SparsifyReLU2xLog {
			x = math.Log1p(x)
		}
		return x
	}
	out := make([]float64, B*V)
	for b := 0; b < B; b++ {
		for v := 0; v < V; v++ {
			acc := math.Inf(-1)
			if o.Sum {
				acc = 0
			}
			for t := 0; t < L; t++ {
				if mask[b*L+t] == 0 {
					continue
				}
				x := 0.0
				for k := 0; k < D; k++ {
					x += float64(hidden[(b*L+t)*D+k]) * float64(weight[v*D+k])
				}
				if bias != nil {
					x += float64(bias[v])
				}
				if o.Sum {
					acc += sp(x)
				} else {
					acc = math.Max(acc, x)
				}
			}
			if !o.Sum {
				acc = sp(acc)
			}
			out[b*V+v] = acc
		}
	}
	return out
}

// poolCase is random SPLADE-like input: hidden states, decoder and a mask
// with padding (one sequence fully padded when L allows).
type poolCase struct {
	name       string
	B, L, D, V int
	noBias     bool
	opts       PoolOptions
}

func poolCases() []poolCase {
	return []poolCase{
		{name: "max relu_log", B: 3, L: 37, D: 40, V: 300, opts: PoolOptions{Sparsification: SparsifyReLULog}},
		{name: "max none", B: 2, L: 70, D: 17, V: 129, opts: PoolOptions{}},
		{name: "max relu_2xlog no bias", B: 2, L: 16, D: 33, V: 257, noBias: true, opts: PoolOptions{Sparsification: SparsifyReLU2xLog}},
		{name: "sum relu_log", B: 4, L: 65, D: 24, V: 200, opts: PoolOptions{Sum: true, Sparsification: SparsifyReLULog}},
		{name: "sum relu", B: 1, L: 130, D: 8, V: 64, opts: PoolOptions{Sum: true, Sparsification: SparsifyReLU}},
	}
}

func (c poolCase) data() (hidden, weight, bias []float32, mask []int64) {
	rng := rand.New(rand.NewPCG(7, uint64(c.B*1000+c.V)))
	hidden = make([]float32, c.B*c.L*c.D)
	for i := range hidden {
		hidden[i] = float32(rng.NormFloat64())
	}
	weight = make([]float32, c.V*c.D)
	for i := range weight {
		weight[i] = float32(rng.NormFloat64() * 0.3)
	}
	if !c.noBias {
		bias = make([]float32, c.V)
		for i := range bias {
			bias[i] = float32(rng.NormFloat64())
		}
	}
	mask = make([]int64, c.B*c.L)
	for b := 0; b < c.B; b++ {
		n := c.L - b*c.L/3 // later sequences are padded
		if b == c.B-1 && c.B > 2 {
			n = 0 // a fully padded row: max leaves −Inf before sparsifying
		}
		for t := 0; t < n; t++ {
			mask[b*c.L+t] = 1
		}
	}
	return
}

// closeTo is the kernels' tolerance: 1e-4 relative, absolute near zero.
func closeTo(got, want float64) bool {
	if math.IsInf(want, 0) || math.IsNaN(want) {
		return got == want || (math.IsNaN(got) && math.IsNaN(want))
	}
	return math.Abs(got-want) <= 1e-4*math.Max(1, math.Abs(want))
}

func TestPoolReference(t *testing.T) {
	for _, c := range poolCases() {
		t.Run(c.name, func(t *testing.T) {
			h, w, b, m := c.data()
			got, err := PoolReference(h, c.B, c.L, c.D, w, c.V, b, m, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := naivePool(h, c.B, c.L, c.D, w, c.V, b, m, c.opts)
			bad := 0
			for i := range want {
				if !closeTo(float64(got[i]), want[i]) {
					if bad++; bad < 5 {
						t.Errorf("out[%d,%d] = %v, want %v", i/c.V, i%c.V, got[i], want[i])
					}
				}
			}
			if bad > 0 {
				t.Fatalf("%d of %d values differ", bad, len(want))
			}
		})
	}
}

func TestPoolReferenceSizes(t *testing.T) {
	if _, err := PoolReference(make([]float32, 5), 1, 1, 4, make([]float32, 8), 2, nil, []int64{1}, PoolOptions{}); err == nil {
		t.Fatal("mis-sized hidden states accepted")
	}
}

func TestParsePoolOptions(t *testing.T) {
	for _, c := range []struct {
		pool, sp string
		want     PoolOptions
		err      bool
	}{
		{"max", "relu_log", PoolOptions{Sparsification: SparsifyReLULog}, false},
		{"sum", "relu", PoolOptions{Sum: true, Sparsification: SparsifyReLU}, false},
		{"max", "", PoolOptions{}, false},
		{"sum", "relu_2xlog", PoolOptions{Sum: true, Sparsification: SparsifyReLU2xLog}, false},
		{"mean", "relu_log", PoolOptions{}, true},
		{"first", "relu_log", PoolOptions{}, true},
		{"max", "softplus", PoolOptions{}, true},
	} {
		got, err := ParsePoolOptions(c.pool, c.sp)
		if (err != nil) != c.err || (err == nil && got != c.want) {
			t.Errorf("ParsePoolOptions(%q, %q) = %+v, %v", c.pool, c.sp, got, err)
		}
	}
}
