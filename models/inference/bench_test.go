//go:build torch

package inference

import (
	"context"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
	"github.com/irflow/irflow/models/internal/testtexts"
)

// BenchmarkEncodeMiniLM encodes MS MARCO passages with all-MiniLM-L6-v2;
// docs/s is reported per configuration.
func BenchmarkEncodeMiniLM(b *testing.B) {
	dir := oracle.MiniLMDir(b)
	docs := testtexts.Lines(b, 256, "msmarco-passage", "rerank", "passages.tsv")
	for _, o := range []Options{{Threads: 2, Workers: 1}, {Threads: 2}} {
		m, err := Load(context.Background(), dir, o)
		if err != nil {
			b.Fatal(err)
		}
		name := "1worker-2threads"
		if o.Workers == 0 {
			name = "2workers-1thread"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := m.EncodeDocs(context.Background(), docs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
		})
		m.Close()
	}
}
