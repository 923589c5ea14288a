package sparse_test

import (
	"testing"

	"github.com/irflow/irflow/search/sparse"
)

// BenchmarkSearch: one thread, 100 queries over 50,000 synthetic documents
// (quantised at 100), pruned and exhaustive, top 10 and top 1000.
func BenchmarkSearch(b *testing.B) {
	c := synthCollection(50000, 100, 9)
	ix := buildIndex(b, c, 100)
	for _, k := range []int{10, 1000} {
		for _, exhaustive := range []bool{false, true} {
			name := "pruned"
			if exhaustive {
				name = "exhaustive"
			}
			b.Run(name+"/k="+map[int]string{10: "10", 1000: "1000"}[k], func(b *testing.B) {
				s := sparse.NewSearcher(ix)
				for b.Loop() {
					for _, q := range c.queries {
						if _, err := s.Search(q, sparse.Options{K: k, Exhaustive: exhaustive}); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*len(c.queries)), "ms/query")
			})
		}
	}
}
