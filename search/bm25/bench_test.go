package bm25

import (
	"context"
	"testing"

	"github.com/irflow/irflow/analysis"
	index "github.com/irflow/irflow/index/bm25"
	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/collection"
)

// benchIndex builds the flat SciFact index with Lucene-equal analysis.
func benchIndex(b *testing.B) (*index.Index, []Query) {
	docs, err := collection.ReadDocs(testenv.Collection(b, "scifact", "corpus.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	seq := func(yield func(index.Document, error) bool) {
		for _, d := range docs {
			if !yield(index.Document{ID: d.ID, Fields: []string{d.Title + "\n" + d.Text}}, nil) {
				return
			}
		}
	}
	dir := b.TempDir()
	if _, err := index.Build(context.Background(), seq, dir, index.BuildOptions{
		Fields: []string{"contents"}, CheckpointDir: b.TempDir(),
		NewAnalyzer: func() (index.Analyzer, error) { return analysis.New(analysis.Config{}) },
	}); err != nil {
		b.Fatal(err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	qs, err := collection.ReadQueriesFile(testenv.Collection(b, "scifact", "queries.tsv"))
	if err != nil {
		b.Fatal(err)
	}
	out := make([]Query, len(qs))
	for i, q := range qs {
		out[i] = Query{ID: q.ID, Text: q.Text}
	}
	return ix, out
}

// BenchmarkSearchSciFact is single-thread top-1000 latency per query
// (analysis included), with pruning and exhaustively.
func BenchmarkSearchSciFact(b *testing.B) {
	ix, queries := benchIndex(b)
	s, err := NewSearcher(ix, DefaultParams())
	if err != nil {
		b.Fatal(err)
	}
	an, _ := analysis.New(analysis.Config{})
	b.Run("auto", func(b *testing.B) {
		var sc Scratch
		for i := 0; b.Loop(); i++ {
			s.Search(an, queries[i%len(queries)].Text, 1000, &sc)
		}
	})
	b.Run("exhaustive", func(b *testing.B) {
		var sc Scratch
		for i := 0; b.Loop(); i++ {
			terms, counts := QueryTerms(an, queries[i%len(queries)].Text, &sc)
			s.SearchExhaustive(terms, counts, 1000, &sc)
		}
	})
}
