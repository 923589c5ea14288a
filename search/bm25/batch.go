package bm25

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Query is one query to search.
type Query struct {
	ID   string
	Text string
}

// BatchOptions configure SearchAll.
type BatchOptions struct {
	K int
	// Threads search queries in parallel (default GOMAXPROCS).
	Threads int
	// RemoveQuery drops a hit whose document id equals the query id after
	// retrieving K (Anserini's -removeQuery, used for BEIR), so such a
	// query returns K−1 hits.
	RemoveQuery bool
	// AdjustScoreTies rounds and perturbs the scores of the K hits as
	// Anserini's SearchCollection does (AdjustScoreTies), before
	// RemoveQuery, as Anserini does.
	AdjustScoreTies bool
	// NewAnalyzer makes one query analyzer per thread.
	NewAnalyzer func() (Analyzer, error)
	// Progress, if set, is told about each finished query.
	Progress func(n int64)
}

// SearchAll searches every query on opts.Threads goroutines and returns
// the hits of each query, in the order of queries.
func (s *Searcher) SearchAll(ctx context.Context, queries []Query, opts BatchOptions) ([][]Hit, error) {
	if opts.K <= 0 {
		return nil, fmt.Errorf("bm25: k must be positive, got %d", opts.K)
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = max(1, min(threads, len(queries)))
	out := make([][]Hit, len(queries))
	var next atomic.Int64
	errs := make([]error, threads)
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		an, err := opts.NewAnalyzer()
		if err != nil {
			return nil, fmt.Errorf("bm25: query analyzer: %w", err)
		}
		wg.Add(1)
		go func(w int, an Analyzer) {
			defer wg.Done()
			var sc Scratch
			for {
				i := int(next.Add(1) - 1)
				if i >= len(queries) {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				hits := s.Search(an, queries[i].Text, opts.K, &sc)
				if opts.AdjustScoreTies {
					AdjustScoreTies(hits)
				}
				if opts.RemoveQuery {
					hits = removeID(hits, queries[i].ID)
				}
				out[i] = hits
				if opts.Progress != nil {
					opts.Progress(1)
				}
			}
		}(w, an)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func removeID(hits []Hit, id string) []Hit {
	for i, h := range hits {
		if h.ID == id {
			return append(hits[:i], hits[i+1:]...)
		}
	}
	return hits
}
