package bm25

import (
	"context"
	"testing"

	"github.com/irflow/irflow/analysis"
)

// BenchmarkBuildSciFact indexes SciFact (flat) with Lucene-equal analysis;
// docs/s is the throughput.
func BenchmarkBuildSciFact(b *testing.B) {
	coll := readCollection(b, "scifact")
	docs := make([]Document, len(coll))
	for i, d := range coll {
		docs[i] = Document{ID: d.ID, Fields: []string{d.Fields[1] + "\n" + d.Fields[0]}}
	}
	for b.Loop() {
		opts := BuildOptions{Fields: []string{"contents"}, CheckpointDir: b.TempDir(),
			NewAnalyzer: func() (Analyzer, error) { return analysis.New(analysis.Config{}) }}
		if _, err := Build(context.Background(), seqOf(docs), b.TempDir(), opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
}
