package multivector

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/irflow/irflow/index/multivector"
)

// BenchmarkSearchColBERT: ColBERT-shaped search (128-d vectors, 32-vector
// queries, MaxSim + sum) over 4,000 documents of 1..120 vectors (about
// 240,000 vectors), one thread. No anchor: the floor is the dot products,
// reported as GFLOP/s.
func BenchmarkSearchColBERT(b *testing.B) {
	const dim = 128
	docs := randDocs(1, 4000, 120, dim)
	ix := buildIndex(b, multivector.Options{Dim: dim}, docs)
	r := rand.New(rand.NewPCG(2, 3))
	queries := make([]Query, 16)
	for i := range queries {
		queries[i].Vectors = make([]float32, 32*dim)
		for j := range queries[i].Vectors {
			queries[i].Vectors[j] = r.Float32()
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := SearchAll(context.Background(), ix, queries, Options{K: 100, Threads: 1}); err != nil {
			b.Fatal(err)
		}
	}
	flops := 2 * float64(ix.NumTokens()) * 32 * dim * float64(len(queries))
	b.ReportMetric(float64(len(queries)*b.N)/b.Elapsed().Seconds(), "queries/s")
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
