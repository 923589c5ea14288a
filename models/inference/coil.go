package inference

import (
	"context"
	"sync"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/tokenizer"
)

// coilRows stores one batch of COIL embeddings: per text the projected
// [CLS] vector, and the token vectors after [CLS] (padding trimmed) with
// their input ids and scoring mask, which exact-match scoring needs.
func (m *Model) coilRows(s *torch.Scope, b batch, hidden *torch.Tensor, encs []tokenizer.Encoding, query bool, out *Embeddings, mu *sync.Mutex) error {
	cls, tok, err := m.head.CoilEmbed(s, hidden)
	if err != nil {
		return err
	}
	cv, err := s.Float32s(cls)
	if err != nil {
		return err
	}
	tv, err := s.Float32s(tok)
	if err != nil {
		return err
	}
	Dc, D, n := int(cls.Shape()[2]), int(tok.Shape()[2]), int(tok.Shape()[1])
	masked := m.inputs.Masked(query)
	mu.Lock()
	defer mu.Unlock()
	out.Dim, out.CLSDim = D, Dc
	for i, j := range b.idx {
		e := encs[j]
		keep := e.Len() - 1
		out.CLS[j] = append([]float32(nil), cv[i*Dc:(i+1)*Dc]...)
		out.Vectors[j] = append([]float32(nil), tv[i*n*D:(i*n+keep)*D]...)
		ids := make([]int64, keep)
		mk := make([]bool, keep)
		for t := range keep {
			ids[t] = int64(e.IDs[t+1])
			mk[t] = e.AttentionMask[t+1] == 1 && !masked[e.IDs[t+1]]
		}
		out.IDs[j], out.Mask[j] = ids, mk
	}
	return nil
}

// uniCoilRows stores one batch of UniCOIL embeddings: each text's token
// weights scattered into a vocabulary-sized vector by input id, the last
// occurrence of a repeated token standing (torch.scatter on CPU, as
// Lightning IR computes it).
func (m *Model) uniCoilRows(s *torch.Scope, b batch, hidden, mask *torch.Tensor, encs []tokenizer.Encoding, out *Embeddings, mu *sync.Mutex) error {
	w, err := m.head.TokenWeights(s, hidden, mask)
	if err != nil {
		return err
	}
	wv, err := s.Float32s(w)
	if err != nil {
		return err
	}
	L, V := int(w.Shape()[1]), m.Config.VocabSize
	mu.Lock()
	defer mu.Unlock()
	out.Dim = V
	for i, j := range b.idx {
		vec := make([]float32, V)
		for t, id := range encs[j].IDs {
			vec[id] = wv[i*L+t]
		}
		out.Vectors[j] = vec
	}
	return nil
}

// coilScore is ScoreEmbeddings for COIL (heads.Head.CoilScore).
func (m *Model) coilScore(ctx context.Context, q *Embeddings, qi int, d *Embeddings) ([]float32, error) {
	n := len(d.Vectors)
	lengths := make([]int, n)
	for i := range lengths {
		lengths[i] = d.Len(i)
	}
	scores := make([]float32, n)
	var mu sync.Mutex
	D, Dc := d.Dim, d.CLSDim
	err := m.forEachBatch(ctx, plan(lengths, 256, 1<<16, 1), func(s *torch.Scope, b batch) error {
		Lq := int64(q.Len(qi))
		qc, err := s.FromFloat32(q.CLS[qi], 1, 1, int64(Dc))
		if err != nil {
			return err
		}
		qt, err := s.FromFloat32(q.Vectors[qi], 1, Lq, int64(D))
		if err != nil {
			return err
		}
		qid, err := s.FromInt64(q.IDs[qi], 1, Lq)
		if err != nil {
			return err
		}
		qm, err := s.FromInt64(maskInts(q.Mask, qi, int(Lq)), 1, Lq)
		if err != nil {
			return err
		}
		N, L := len(b.idx), b.seqLen
		dc := make([]float32, N*Dc)
		dv := make([]float32, N*L*D)
		di := make([]int64, N*L)
		dm := make([]int64, N*L)
		for i, j := range b.idx {
			copy(dc[i*Dc:], d.CLS[j])
			copy(dv[i*L*D:], d.Vectors[j])
			copy(dm[i*L:], maskInts(d.Mask, j, d.Len(j)))
			copy(di[i*L:], d.IDs[j]) // padding is masked out, its id never counts
		}
		dct, err := s.FromFloat32(dc, int64(N), 1, int64(Dc))
		if err != nil {
			return err
		}
		dt, err := s.FromFloat32(dv, int64(N), int64(L), int64(D))
		if err != nil {
			return err
		}
		dit, err := s.FromInt64(di, int64(N), int64(L))
		if err != nil {
			return err
		}
		dmt, err := s.FromInt64(dm, int64(N), int64(L))
		if err != nil {
			return err
		}
		sc, err := m.head.CoilScore(s, qc, qt, qid, qm, dct, dt, dit, dmt)
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
