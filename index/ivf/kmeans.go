package ivf

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"github.com/irflow/irflow/internal/parallel"
	"github.com/irflow/irflow/internal/vecmath"
)

// chunk is the number of rows scored together against a set of centroids
// (one packed query batch of the dense kernel).
const chunk = 128

// scorer finds, for rows of x, the best of k centroids: the nearest in
// Euclidean distance (l2) or the largest inner product. Products come from
// the dense search's kernel (each summed in order of dimension, one fused
// multiply-add at a time), so a row's result does not depend on its chunk.
type scorer struct {
	c    []float32 // k × d
	k, d int
	l2   bool
	cc   []float32 // ‖c‖² (l2)
}

func newScorer(c []float32, k, d int, l2 bool) *scorer {
	s := &scorer{c: c, k: k, d: d, l2: l2}
	if l2 {
		s.cc = make([]float32, k)
		for j := range s.cc {
			s.cc[j] = vecmath.SqNorm(c[j*d : (j+1)*d])
		}
	}
	return s
}

// scratch is a worker's memory for scorer.best.
type scratch struct {
	p    vecmath.Packed
	tile []float32
	bv   [chunk]float32 // best value per row
}

// best writes into out[i] the best centroid of each of the n rows in x
// (ties: the lower number).
func (s *scorer) best(sc *scratch, x []float32, n int, out []int32) {
	sc.p.Pack(x, n, s.d)
	if len(sc.tile) < chunk*s.k {
		sc.tile = make([]float32, chunk*s.k)
	}
	sc.p.Dots(sc.tile, chunk, s.c, s.k)
	// Centroid by centroid over the tile's contiguous rows; a later
	// centroid must be strictly better, so ties go to the lower number.
	bv := sc.bv[:chunk]
	for i := 0; i < n; i++ {
		out[i] = 0
	}
	if s.l2 {
		for i, v := range sc.tile[:n] {
			bv[i] = s.cc[0] - 2*v // ‖x−c‖² − ‖x‖²
		}
		for j := 1; j < s.k; j++ {
			row, cc := sc.tile[j*chunk:j*chunk+n], s.cc[j]
			for i, v := range row {
				if e := cc - 2*v; e < bv[i] {
					bv[i], out[i] = e, int32(j)
				}
			}
		}
		return
	}
	copy(bv, sc.tile[:n])
	for j := 1; j < s.k; j++ {
		for i, v := range sc.tile[j*chunk : j*chunk+n] {
			if v > bv[i] {
				bv[i], out[i] = v, int32(j)
			}
		}
	}
}

// assignAll finds the best centroid of every row of x (n × d).
func (s *scorer) assignAll(ctx context.Context, x []float32, n, threads int) ([]int32, error) {
	out := make([]int32, n)
	nc := (n + chunk - 1) / chunk
	scr := make([]scratch, max(1, threadsOr(threads)))
	err := parallel.Tasks(ctx, len(scr), nc, func(w, c int) {
		lo, hi := c*chunk, min(n, (c+1)*chunk)
		s.best(&scr[w], x[lo*s.d:hi*s.d], hi-lo, out[lo:hi])
	})
	return out, err
}

func threadsOr(t int) int {
	if t <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return t
}

// kmeansConfig configures one k-means run.
type kmeansConfig struct {
	K, Iters int
	// Spherical divides every centroid by its norm after each update and
	// assigns by inner product (cosine similarity).
	Spherical bool
	// IP assigns by largest inner product instead of Euclidean distance
	// (implied by Spherical).
	IP      bool
	Threads int
	// Resume, if set, holds the centroids of an interrupted run after Done
	// Lloyd rounds (0: just seeded): seeding is skipped and the rounds go
	// on from there, so the result is the uninterrupted run's bit for bit.
	Resume []float32
	Done   int
	// After, if set, is told the centroids once seeded (round 0) and after
	// every round, to checkpoint them; an error stops the run.
	After func(round int, c []float32) error
}

// kmeans clusters the n rows of x (n × d, n ≥ K) with Lloyd's algorithm:
// k-means++ seeding from rng (unless init holds K × d starting
// centroids), then exactly Iters rounds of assignment and update. Sums are
// taken in float64 in row order, so the result depends on x, the
// configuration and rng only, not on the number of threads. An empty
// cluster takes half of the largest one: its centroid is copied and the
// two are pushed apart by a relative 1/1024 in opposite directions, as
// faiss does.
func kmeans(ctx context.Context, x []float32, n, d int, cfg kmeansConfig, rng *rand.Rand, init []float32) ([]float32, error) {
	k := cfg.K
	if n < k {
		return nil, fmt.Errorf("k-means: %d training vectors for %d centroids: need at least as many vectors as centroids", n, k)
	}
	var c []float32
	if cfg.Resume != nil {
		if len(cfg.Resume) != k*d || cfg.Done < 0 || cfg.Done > cfg.Iters {
			return nil, fmt.Errorf("k-means: resuming from %d values after round %d, want %d × %d after at most %d", len(cfg.Resume), cfg.Done, k, d, cfg.Iters)
		}
		c = append([]float32(nil), cfg.Resume...)
	} else {
		if init == nil {
			var err error
			if c, err = kmeansPP(ctx, x, n, d, k, rng, cfg.Threads); err != nil {
				return nil, err
			}
		} else {
			c = append([]float32(nil), init...)
		}
		if cfg.Spherical {
			for j := 0; j < k; j++ {
				vecmath.Normalize(c[j*d:(j+1)*d], vecmath.CosineEps)
			}
		}
		if err := cfg.after(0, c); err != nil {
			return nil, err
		}
	}
	sums := make([]float64, k*d)
	counts := make([]int, k)
	for it := cfg.Done; it < cfg.Iters; it++ {
		s := newScorer(c, k, d, !(cfg.IP || cfg.Spherical))
		assign, err := s.assignAll(ctx, x, n, cfg.Threads)
		if err != nil {
			return nil, err
		}
		clear(sums)
		clear(counts)
		for i, a := range assign {
			counts[a]++
			row, sum := x[i*d:(i+1)*d], sums[int(a)*d:int(a+1)*d]
			for t, v := range row {
				sum[t] += float64(v)
			}
		}
		for j := 0; j < k; j++ {
			if counts[j] == 0 {
				continue
			}
			for t := 0; t < d; t++ {
				c[j*d+t] = float32(sums[j*d+t] / float64(counts[j]))
			}
		}
		splitEmpty(c, counts, d)
		if cfg.Spherical {
			for j := 0; j < k; j++ {
				vecmath.Normalize(c[j*d:(j+1)*d], vecmath.CosineEps)
			}
		}
		if err := cfg.after(it+1, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (cfg kmeansConfig) after(round int, c []float32) error {
	if cfg.After == nil {
		return nil
	}
	return cfg.After(round, c)
}

// splitEmpty gives every empty cluster half of the currently largest one
// (ties: the lower number).
func splitEmpty(c []float32, counts []int, d int) {
	const eps = 1.0 / 1024
	for j := range counts {
		if counts[j] != 0 {
			continue
		}
		big := 0
		for i, n := range counts {
			if n > counts[big] {
				big = i
			}
		}
		if counts[big] < 2 {
			return // nothing left to split
		}
		cj, cb := c[j*d:(j+1)*d], c[big*d:(big+1)*d]
		for t := range cj {
			if t%2 == 0 {
				cj[t], cb[t] = cb[t]*(1+eps), cb[t]*(1-eps)
			} else {
				cj[t], cb[t] = cb[t]*(1-eps), cb[t]*(1+eps)
			}
		}
		counts[j] = counts[big] / 2
		counts[big] -= counts[j]
	}
}

// kmeansPP picks k seeds among the rows of x by k-means++ (Arthur and
// Vassilvitskii 2007): the first uniformly, each next one with probability
// proportional to its squared distance to the nearest seed so far.
func kmeansPP(ctx context.Context, x []float32, n, d, k int, rng *rand.Rand, threads int) ([]float32, error) {
	c := make([]float32, 0, k*d)
	first := rng.IntN(n)
	c = append(c, x[first*d:(first+1)*d]...)
	dist := make([]float64, n)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	const rows = 1024
	nc := (n + rows - 1) / rows
	for len(c) < k*d {
		last := c[len(c)-d:]
		if err := parallel.Tasks(ctx, threads, nc, func(_, ch int) {
			for i := ch * rows; i < min(n, (ch+1)*rows); i++ {
				if v := sqDist(x[i*d:(i+1)*d], last); v < dist[i] {
					dist[i] = v
				}
			}
		}); err != nil {
			return nil, err
		}
		var total float64
		for _, v := range dist {
			total += v
		}
		pick := 0
		if total > 0 {
			u := rng.Float64() * total
			pick = -1
			for i, v := range dist {
				if u -= v; u < 0 && v > 0 {
					pick = i
					break
				}
			}
			if pick < 0 { // rounding: the last row with positive distance
				for i := n - 1; i >= 0; i-- {
					if dist[i] > 0 {
						pick = i
						break
					}
				}
			}
		} else { // every row is a seed already: any row
			pick = rng.IntN(n)
		}
		c = append(c, x[pick*d:(pick+1)*d]...)
	}
	return c, nil
}

// sqDist is ‖a−b‖² in float64.
func sqDist(a, b []float32) float64 {
	var s float64
	for t, v := range a {
		e := float64(v) - float64(b[t])
		s += e * e
	}
	return s
}

// sample returns the numbers of size rows chosen uniformly without
// replacement among n (all of them when size ≥ n), increasing.
func sample(n, size int, rng *rand.Rand) []int {
	if size >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	// Floyd's algorithm: size draws, memory O(size).
	chosen := make(map[int]bool, size)
	for j := n - size; j < n; j++ {
		t := rng.IntN(j + 1)
		if chosen[t] {
			t = j
		}
		chosen[t] = true
	}
	out := make([]int, 0, size)
	for i := range chosen {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}
