package dense

import (
	"context"
	"testing"

	"github.com/irflow/irflow/index/dense"
)

// BenchmarkSearch: 100,000 random 384-d documents, 256 queries, k=10, one
// thread (faiss's IndexFlatIP is compared in `task bench:dense`).
func BenchmarkSearch(b *testing.B) {
	for _, dtype := range []string{"float32", "float16"} {
		b.Run(dtype, func(b *testing.B) {
			const n, dim, nq = 100_000, 384, 256
			ix := buildIndex(b, dense.Options{Dim: dim, DType: dtype}, randVecs(1, n, dim))
			queries := randVecs(2, nq, dim)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := SearchAll(context.Background(), ix, queries, Options{K: 10, Threads: 1}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(nq*b.N)/b.Elapsed().Seconds(), "queries/s")
			b.ReportMetric(2*n*dim*nq*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
