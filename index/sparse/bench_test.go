package sparse_test

import (
	"context"
	"testing"

	"github.com/irflow/irflow/index/sparse"
)

// BenchmarkBuild indexes 100,000 synthetic documents held in memory
// (generation not timed) at scale 100 with a 64 MiB budget (several runs);
// docs/s is Build's own throughput, input parsing excluded.
func BenchmarkBuild(b *testing.B) {
	docs := synthDocs(100000, 30522, 5)
	for b.Loop() {
		if _, err := sparse.Build(context.Background(), seqOf(docs), b.TempDir(), sparse.BuildOptions{
			VocabSize: 30522, Scale: 100, MemoryBudget: 64 << 20, TmpDir: b.TempDir()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
}
