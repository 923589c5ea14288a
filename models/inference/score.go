package inference

import (
	"context"
	"fmt"
	"sync"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/tokenizer"
)

// Score returns the model's relevance score of each document for the
// query, in document order.
func (m *Model) Score(ctx context.Context, query string, docs []string) ([]float32, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	if m.Head.IsCrossEncoder() {
		return m.crossScore(ctx, query, docs)
	}
	q, err := m.EncodeQueries(ctx, []string{query})
	if err != nil {
		return nil, err
	}
	d, err := m.EncodeDocs(ctx, docs)
	if err != nil {
		return nil, err
	}
	return m.ScoreEmbeddings(ctx, q, 0, d)
}

// ScoreEmbeddings scores query qi of q against every document of d.
func (m *Model) ScoreEmbeddings(ctx context.Context, q *Embeddings, qi int, d *Embeddings) ([]float32, error) {
	if q.Dim != d.Dim {
		return nil, fmt.Errorf("query vectors have %d dimensions, document vectors %d", q.Dim, d.Dim)
	}
	if m.Head.Architecture == heads.Coil {
		return m.coilScore(ctx, q, qi, d)
	}
	n := len(d.Vectors)
	lengths := make([]int, n)
	for i := range lengths {
		lengths[i] = d.Len(i)
	}
	scores := make([]float32, n)
	var mu sync.Mutex
	D := d.Dim
	err := m.forEachBatch(ctx, plan(lengths, 256, 1<<16, 1), func(s *torch.Scope, b batch) error {
		Lq := q.Len(qi)
		qt, err := s.FromFloat32(q.Vectors[qi], 1, int64(Lq), int64(D))
		if err != nil {
			return err
		}
		qm, err := s.FromInt64(maskInts(q.Mask, qi, Lq), 1, int64(Lq))
		if err != nil {
			return err
		}
		L := b.seqLen
		dv := make([]float32, len(b.idx)*L*D)
		dm := make([]int64, len(b.idx)*L)
		for i, j := range b.idx {
			copy(dv[i*L*D:], d.Vectors[j])
			copy(dm[i*L:], maskInts(d.Mask, j, d.Len(j)))
		}
		dt, err := s.FromFloat32(dv, int64(len(b.idx)), int64(L), int64(D))
		if err != nil {
			return err
		}
		dmt, err := s.FromInt64(dm, int64(len(b.idx)), int64(L))
		if err != nil {
			return err
		}
		sc, err := m.head.Score(s, qt, qm, dt, dmt)
		if err != nil {
			return err
		}
		vals, err := s.Float32s(sc)
		if err != nil {
			return err
		}
		mu.Lock()
		for i, j := range b.idx {
			scores[j] = vals[i]
		}
		mu.Unlock()
		return nil
	})
	return scores, err
}

// maskInts is the scoring mask of vectors 0…n-1 of text i as 0/1 (all 1 for
// single-vector heads).
func maskInts(mask [][]bool, i, n int) []int64 {
	out := make([]int64, n)
	for t := range out {
		if mask == nil || mask[i][t] {
			out[t] = 1
		}
	}
	return out
}

func (m *Model) crossScore(ctx context.Context, query string, docs []string) ([]float32, error) {
	encs := make([]tokenizer.Encoding, len(docs))
	for i, d := range docs {
		e, err := m.inputs.Pair(query, d)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		encs[i] = e
	}
	scores := make([]float32, len(docs))
	var mu sync.Mutex
	err := m.forwardEach(ctx, encs, func(s *torch.Scope, b batch, hidden, mask *torch.Tensor) error {
		sc, err := m.head.CrossScore(s, hidden, mask)
		if err != nil {
			return err
		}
		vals, err := s.Float32s(sc)
		if err != nil {
			return err
		}
		mu.Lock()
		for i, j := range b.idx {
			scores[j] = vals[i]
		}
		mu.Unlock()
		return nil
	})
	return scores, err
}
