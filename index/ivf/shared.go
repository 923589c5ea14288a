package ivf

import "context"

// This file lends ivf's seeded training to other approximate indexes
// (index/plaid clusters token vectors with the same k-means), so that
// every method trains the same way.

// KMeansOptions configure KMeans.
type KMeansOptions struct {
	K, Iters int
	// Spherical keeps the centroids at unit norm and assigns by inner
	// product (cosine similarity); else assignment is Euclidean.
	Spherical bool
	// Seed and Stream pick the random stream of the k-means++ seeding.
	Seed, Stream uint64
	Threads      int
	// Resume, if set, holds the centroids of an interrupted run after Done
	// rounds (0: just seeded); the run goes on from there with the result
	// of an uninterrupted one.
	Resume []float32
	Done   int
	// After, if set, is told the centroids once seeded (round 0) and after
	// every round, to checkpoint them; an error stops the run.
	After func(round int, c []float32) error
}

// KMeans clusters the n rows of x (n × d, n ≥ K): k-means++ seeding, then
// exactly Iters Lloyd rounds with sums in row order; the result depends on
// x and the options only, not on the number of threads.
func KMeans(ctx context.Context, x []float32, n, d int, o KMeansOptions) ([]float32, error) {
	return kmeans(ctx, x, n, d, kmeansConfig{K: o.K, Iters: o.Iters, Spherical: o.Spherical, Threads: o.Threads,
		Resume: o.Resume, Done: o.Done, After: o.After}, newRNG(o.Seed, o.Stream), nil)
}

// Sample returns size row numbers drawn uniformly without replacement
// among n (all when size ≤ 0 or ≥ n), increasing.
func Sample(n, size int, seed, stream uint64) []int {
	return sample(n, trainCount(n, size), newRNG(seed, stream))
}

// Assign returns, for each of the n rows of x, the number of the best of
// the k centroids c (k × d): the nearest (l2) or the largest inner
// product; ties go to the lower number.
func Assign(ctx context.Context, c []float32, k, d int, x []float32, n int, l2 bool, threads int) ([]int32, error) {
	return newScorer(c, k, d, l2).assignAll(ctx, x, n, threads)
}

// Residuals returns x_i − c_{a_i} for the n rows of x (n × d) assigned to
// centroids a.
func Residuals(x []float32, a []int32, c []float32, d int) []float32 { return residuals(x, a, c, d) }
