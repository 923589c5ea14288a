// Package densetest makes index/dense indexes for the tests of what is
// built on them (approximate indexes, searches, stage kill tests), so
// that each does not write its own copy.
package densetest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/irflow/irflow/index/dense"
)

// Clustered draws n vectors of d values around c random centres (a
// Gaussian mixture, as embeddings cluster by topic), seeded.
func Clustered(seed uint64, n, d, c int, spread float64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	centres := make([]float64, c*d)
	for i := range centres {
		centres[i] = r.NormFloat64()
	}
	x := make([]float32, n*d)
	for i := 0; i < n; i++ {
		k := r.IntN(c)
		for t := 0; t < d; t++ {
			x[i*d+t] = float32(centres[k*d+t] + spread*r.NormFloat64())
		}
	}
	return x
}

// Write writes the rows of x (n × d) as a dense index in dir, with ids
// "d0", "d1", …, and opens it (closed when the test ends).
func Write(t testing.TB, dir string, x []float32, d int, sim string) *dense.Index {
	t.Helper()
	w, err := dense.Create(dir, dense.Options{Dim: d, Similarity: sim})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(x)/d; i++ {
		if err := w.Add(fmt.Sprintf("d%d", i), x[i*d:(i+1)*d]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err := dense.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}
