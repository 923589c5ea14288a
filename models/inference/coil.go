package inference

import (
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

// coilScore scores one batch b of documents for COIL: the token vectors
// and masks (qt, qm, dt, dm) ScoreEmbeddings built, plus the [CLS]
// vectors and the input ids that exact matching compares
// (heads.Head.CoilScore).
func (m *Model) coilScore(s *torch.Scope, q *Embeddings, qi int, qt, qm *torch.Tensor, d *Embeddings, b batch, dt, dm *torch.Tensor) (*torch.Tensor, error) {
	qc, qid, err := coilTensors(s, q, []int{qi}, q.Len(qi))
	if err != nil {
		return nil, err
	}
	dc, did, err := coilTensors(s, d, b.idx, b.seqLen)
	if err != nil {
		return nil, err
	}
	return m.head.CoilScore(s, qc, qt, qid, qm, dc, dt, did, dm)
}

// coilTensors stacks the [CLS] vectors of texts idx of e, [n 1 CLSDim],
// and their input ids padded to L, [n L] (padding is masked out of
// scoring, its id never counts).
func coilTensors(s *torch.Scope, e *Embeddings, idx []int, L int) (cls, ids *torch.Tensor, err error) {
	Dc := e.CLSDim
	cv := make([]float32, len(idx)*Dc)
	iv := make([]int64, len(idx)*L)
	for i, j := range idx {
		copy(cv[i*Dc:], e.CLS[j])
		copy(iv[i*L:], e.IDs[j])
	}
	if cls, err = s.FromFloat32(cv, int64(len(idx)), 1, int64(Dc)); err != nil {
		return nil, nil, err
	}
	ids, err = s.FromInt64(iv, int64(len(idx)), int64(L))
	return cls, ids, err
}
