package inference

import (
	"context"
	"fmt"
	"sync"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/backbone"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/tokenizer"
)

// Score returns the model's relevance score of each document for the
// query, in document order.
func (m *Model) Score(ctx context.Context, query string, docs []string) ([]float32, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	if m.Head.Architecture == heads.SetEncoder {
		return m.listwiseScore(ctx, query, docs)
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
	return m.scoreDocs(ctx, d, func(s *torch.Scope, b batch) (*torch.Tensor, error) {
		qt, qm, err := vectorTensors(s, q, []int{qi}, q.Len(qi))
		if err != nil {
			return nil, err
		}
		dt, dm, err := vectorTensors(s, d, b.idx, b.seqLen)
		if err != nil {
			return nil, err
		}
		if m.Head.Architecture == heads.Coil {
			return m.coilScore(s, q, qi, qt, qm, d, b, dt, dm)
		}
		return m.head.Score(s, qt, qm, dt, dm)
	})
}

// scoreDocs runs score over the documents of d in length-sorted batches
// and returns one score per document, in document order.
func (m *Model) scoreDocs(ctx context.Context, d *Embeddings, score func(s *torch.Scope, b batch) (*torch.Tensor, error)) ([]float32, error) {
	n := len(d.Vectors)
	lengths := make([]int, n)
	for i := range lengths {
		lengths[i] = d.Len(i)
	}
	scores := make([]float32, n)
	var mu sync.Mutex
	err := m.forEachBatch(ctx, plan(lengths, 256, 1<<16, 1), func(s *torch.Scope, b batch) error {
		sc, err := score(s, b)
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

// vectorTensors stacks the vectors of texts idx of e, each padded to L
// vectors, [n L Dim], and their scoring masks, [n L] (0 on padding).
func vectorTensors(s *torch.Scope, e *Embeddings, idx []int, L int) (v, mask *torch.Tensor, err error) {
	D := e.Dim
	vals := make([]float32, len(idx)*L*D)
	m := make([]int64, len(idx)*L)
	for i, j := range idx {
		copy(vals[i*L*D:], e.Vectors[j])
		copy(m[i*L:], maskInts(e.Mask, j, e.Len(j)))
	}
	if v, err = s.FromFloat32(vals, int64(len(idx)), int64(L), int64(D)); err != nil {
		return nil, nil, err
	}
	mask, err = s.FromInt64(m, int64(len(idx)), int64(L))
	return v, mask, err
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

// pairs tokenises the query with each document as the cross-encoder's
// input.
func (m *Model) pairs(query string, docs []string) ([]tokenizer.Encoding, error) {
	encs := make([]tokenizer.Encoding, len(docs))
	for i, d := range docs {
		e, err := m.inputs.Pair(query, d)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		encs[i] = e
	}
	return encs, nil
}

func (m *Model) crossScore(ctx context.Context, query string, docs []string) ([]float32, error) {
	encs, err := m.pairs(query, docs)
	if err != nil {
		return nil, err
	}
	scores := make([]float32, len(docs))
	var mu sync.Mutex
	err = m.forwardEach(ctx, encs, func(s *torch.Scope, b batch, hidden, mask *torch.Tensor) error {
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

// listwiseScore scores a Set-Encoder's candidate list as Lightning IR
// does (ALLOW_SUB_BATCHING = False): the query's documents go through one
// forward pass together, since every passage attends to the others
// (heads.Head.InterPassage). Inside that pass the list is cut into
// length-sorted chunks (BatchSize, MaxBatchTokens) that each pad only to
// their own longest pair; the result does not depend on the cut.
// More documents than the model's depth are an error.
func (m *Model) listwiseScore(ctx context.Context, query string, docs []string) ([]float32, error) {
	ip, err := m.head.InterPassage(len(docs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Dir, err)
	}
	encs, err := m.pairs(query, docs)
	if err != nil {
		return nil, err
	}
	if err := m.Head.CheckInteractionToken(m.tok, encs[0]); err != nil {
		return nil, fmt.Errorf("%s: %w", m.Dir, err)
	}
	lengths := make([]int, len(encs))
	for i, e := range encs {
		lengths[i] = e.Len()
	}
	scores, err := m.listwisePass(ctx, encs, plan(lengths, m.opts.BatchSize, m.opts.MaxBatchTokens, 1), ip)
	if err != nil {
		return nil, err
	}
	if m.opts.Progress != nil {
		m.opts.Progress(len(docs))
	}
	return scores, nil
}

// listwisePass runs one list's forward pass with ip over the chunks
// batches (indices into encs) and returns the scores in encs' order.
func (m *Model) listwisePass(ctx context.Context, encs []tokenizer.Encoding, batches []batch, ip *backbone.InterPassage) ([]float32, error) {
	scores := make([]float32, len(encs))
	err := m.rt.Do(ctx, func(s *torch.Scope) error {
		return s.NoGrad(func(s *torch.Scope) error {
			chunks := make([]backbone.Chunk, len(batches))
			for c, b := range batches {
				be := make([]tokenizer.Encoding, len(b.idx))
				for i, j := range b.idx {
					be[i] = encs[j]
				}
				ch := &chunks[c]
				var err error
				if ch.IDs, ch.TypeIDs, ch.Mask, err = tensors(s, be, m.tok.Specials().PAD, b.seqLen); err != nil {
					return err
				}
			}
			hidden, err := m.enc.ForwardInterPassage(s, chunks, ip)
			if err != nil {
				return err
			}
			for c, b := range batches {
				sc, err := m.head.ListwiseScore(s, hidden[c], chunks[c].Mask)
				if err != nil {
					return err
				}
				vals, err := s.Float32s(sc)
				if err != nil {
					return err
				}
				for i, j := range b.idx {
					scores[j] = vals[i]
				}
			}
			return nil
		})
	})
	return scores, err
}
