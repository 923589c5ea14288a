package inference

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/tokenizer"
)

// Embeddings are the vectors of a list of texts, in input order. A
// single-vector head gives one vector per text; a multi-vector head one
// per token, with Mask saying which take part in scoring.
type Embeddings struct {
	Dim int
	// Vectors[i] holds n·Dim values for text i (n = 1 or its token count).
	Vectors [][]float32
	// Mask[i][j] is false for token j of text i when it is left out of
	// scoring (padding is already trimmed); nil for single-vector heads.
	Mask [][]bool
	// COIL only: IDs[i] are the input ids of text i's vectors (exact-match
	// scoring) and CLS[i] its [CLS] vector of CLSDim values.
	IDs    [][]int64
	CLS    [][]float32
	CLSDim int
}

// Len is the number of vectors of text i.
func (e *Embeddings) Len(i int) int { return len(e.Vectors[i]) / e.Dim }

// batch is a run of inputs (indices into the caller's list) padded to one
// length.
type batch struct {
	idx    []int
	seqLen int
}

// plan sorts inputs by length (longest first, as sentence-transformers
// does) and cuts batches of at most size inputs and maxTokens padded
// tokens, so memory stays bounded however long the list is.
func plan(lengths []int, size, maxTokens, multipleOf int) []batch {
	order := make([]int, len(lengths))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return lengths[order[a]] > lengths[order[b]] })
	var out []batch
	for start := 0; start < len(order); {
		L := roundUp(lengths[order[start]], multipleOf)
		n := 1
		for start+n < len(order) && n < size && (n+1)*L <= maxTokens {
			n++
		}
		out = append(out, batch{idx: order[start : start+n], seqLen: L})
		start += n
	}
	return out
}

func roundUp(n, m int) int {
	if m > 1 && n%m != 0 {
		n += m - n%m
	}
	return n
}

// forEachBatch runs fn for every batch, up to Workers at once, each in its
// own torch scope without autograd. It stops at the first error.
func (m *Model) forEachBatch(ctx context.Context, batches []batch, fn func(s *torch.Scope, b batch) error) error {
	workers := 1
	if m.rt != nil {
		workers = max(1, runtimeOptions(m.opts).Workers)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan batch)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				err := m.rt.Do(ctx, func(s *torch.Scope) error {
					return s.NoGrad(func(s *torch.Scope) error { return fn(s, b) })
				})
				if err == nil && m.opts.Progress != nil {
					m.opts.Progress(len(b.idx))
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
				}
			}
		}()
	}
	for _, b := range batches {
		select {
		case next <- b:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// forwardEach runs the encoder over encs in length-sorted, padded batches
// (plan, forEachBatch) and hands fn each batch's hidden states and
// attention mask.
func (m *Model) forwardEach(ctx context.Context, encs []tokenizer.Encoding, fn func(s *torch.Scope, b batch, hidden, mask *torch.Tensor) error) error {
	lengths := make([]int, len(encs))
	for i, e := range encs {
		lengths[i] = e.Len()
	}
	pad := m.tok.Specials().PAD
	return m.forEachBatch(ctx, plan(lengths, m.opts.BatchSize, m.opts.MaxBatchTokens, 1), func(s *torch.Scope, b batch) error {
		be := make([]tokenizer.Encoding, len(b.idx))
		for i, j := range b.idx {
			be[i] = encs[j]
		}
		ids, types, mask, err := tensors(s, be, pad, b.seqLen)
		if err != nil {
			return err
		}
		hidden, err := m.enc.Forward(s, ids, types, mask)
		if err != nil {
			return err
		}
		return fn(s, b, hidden, mask)
	})
}

// tensors builds the ids, type ids and attention mask of one batch.
func tensors(s *torch.Scope, encs []tokenizer.Encoding, padID, seqLen int) (ids, types, mask *torch.Tensor, err error) {
	idv, tv, mv, B, L := tokenizer.PadBatch(encs, padID, 1)
	if L < seqLen { // expansion pads further than the longest encoding
		idv, tv, mv, L = padTo(idv, tv, mv, B, L, seqLen, padID)
	}
	if ids, err = s.FromInt64(idv, int64(B), int64(L)); err != nil {
		return
	}
	if types, err = s.FromInt64(tv, int64(B), int64(L)); err != nil {
		return
	}
	mask, err = s.FromInt64(mv, int64(B), int64(L))
	return
}

func padTo(ids, types, mask []int64, B, L, want, padID int) ([]int64, []int64, []int64, int) {
	ni, nt, nm := make([]int64, B*want), make([]int64, B*want), make([]int64, B*want)
	for b := 0; b < B; b++ {
		copy(ni[b*want:], ids[b*L:(b+1)*L])
		copy(nt[b*want:], types[b*L:(b+1)*L])
		copy(nm[b*want:], mask[b*L:(b+1)*L])
		for j := L; j < want; j++ {
			ni[b*want+j] = int64(padID)
		}
	}
	return ni, nt, nm, want
}

// EncodeQueries embeds queries (truncated to the head's query length).
func (m *Model) EncodeQueries(ctx context.Context, texts []string) (*Embeddings, error) {
	return m.encode(ctx, texts, true)
}

// EncodeDocs embeds documents (truncated to the head's doc length).
func (m *Model) EncodeDocs(ctx context.Context, texts []string) (*Embeddings, error) {
	return m.encode(ctx, texts, false)
}

func (m *Model) encode(ctx context.Context, texts []string, query bool) (*Embeddings, error) {
	if m.Head.IsCrossEncoder() {
		return nil, fmt.Errorf("%s: a cross-encoder (%s) scores query–document pairs and has no separate embeddings", m.Dir, m.Head.Architecture)
	}
	encs := m.inputs.Texts(texts, query)
	multi := m.Head.MultiVector()
	masked := m.inputs.Masked(query)
	expansion := m.Head.DocExpansion
	if query {
		expansion = m.Head.QueryExpansion
	}
	out := &Embeddings{Vectors: make([][]float32, len(texts))}
	if multi {
		out.Mask = make([][]bool, len(texts))
	}
	coil := m.Head.Architecture == heads.Coil
	if coil {
		out.IDs, out.CLS = make([][]int64, len(texts)), make([][]float32, len(texts))
	}
	var mu sync.Mutex
	err := m.forwardEach(ctx, encs, func(s *torch.Scope, b batch, hidden, mask *torch.Tensor) error {
		switch m.Head.Architecture {
		case heads.Coil:
			return m.coilRows(s, b, hidden, encs, query, out, &mu)
		case heads.UniCoil:
			return m.uniCoilRows(s, b, hidden, mask, encs, out, &mu)
		}
		emb, err := m.head.Embed(s, hidden, mask, query)
		if err != nil {
			return err
		}
		shape := emb.Shape() // [B n D]
		vals, err := s.Float32s(emb)
		if err != nil {
			return err
		}
		n, D := int(shape[1]), int(shape[2])
		mu.Lock()
		defer mu.Unlock()
		out.Dim = D
		for i, j := range b.idx {
			row := vals[i*n*D : (i+1)*n*D]
			if !multi {
				out.Vectors[j] = append([]float32(nil), row...)
				continue
			}
			e := encs[j]
			keep := e.Len() // padding is never scored: trim it
			out.Vectors[j] = append([]float32(nil), row[:keep*D]...)
			mk := make([]bool, keep)
			for t := 0; t < keep; t++ {
				// Lightning IR scores every token under expansion, else the attended ones.
				mk[t] = (expansion || e.AttentionMask[t] == 1) && !masked[e.IDs[t]]
			}
			out.Mask[j] = mk
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Subset returns the embeddings of texts idx (sharing the vectors).
func (e *Embeddings) Subset(idx []int) *Embeddings {
	out := &Embeddings{Dim: e.Dim, Vectors: make([][]float32, len(idx)), CLSDim: e.CLSDim}
	if e.Mask != nil {
		out.Mask = make([][]bool, len(idx))
	}
	if e.IDs != nil {
		out.IDs, out.CLS = make([][]int64, len(idx)), make([][]float32, len(idx))
	}
	for i, j := range idx {
		out.Vectors[i] = e.Vectors[j]
		if e.Mask != nil {
			out.Mask[i] = e.Mask[j]
		}
		if e.IDs != nil {
			out.IDs[i], out.CLS[i] = e.IDs[j], e.CLS[j]
		}
	}
	return out
}
