package training

import (
	"fmt"

	"github.com/irflow/irflow/backends/torch"
)

// coilForward is COIL's training forward, as Lightning IR's CoilModel
// scores in training: every query's [CLS] and token vectors against every
// document of the batch (heads.Head.CoilScore: [CLS] similarity plus the
// aggregated similarities of tokens with the same input id), the own
// documents' scores taken from those rows.
func (m *Model) coilForward(s *torch.Scope, queries, docs []string, Q, D int) (*Output, error) {
	qc, q, qIDs, qMask, err := m.coilEmbed(s, queries, true)
	if err != nil {
		return nil, fmt.Errorf("training: queries: %w", err)
	}
	dc, d, dIDs, dMask, err := m.coilEmbed(s, docs, false)
	if err != nil {
		return nil, fmt.Errorf("training: documents: %w", err)
	}
	rows := make([]*torch.Tensor, Q)
	own := make([]*torch.Tensor, Q)
	for i := range rows {
		var one [4]*torch.Tensor
		for k, x := range []*torch.Tensor{qc, q, qIDs, qMask} {
			if one[k], err = s.Narrow(x, 0, int64(i), 1); err != nil {
				return nil, err
			}
		}
		if rows[i], err = m.head.CoilScore(s, one[0], one[1], one[2], one[3], dc, d, dIDs, dMask); err != nil {
			return nil, fmt.Errorf("training: scoring: %w", err)
		}
		if own[i], err = s.Narrow(rows[i], 0, int64(i*D), int64(D)); err != nil {
			return nil, err
		}
	}
	out := &Output{QueryEmbeddings: q, DocEmbeddings: d, QueryMask: qMask, DocMask: dMask}
	if out.InBatchScores, err = s.Stack(rows, 0); err != nil {
		return nil, err
	}
	if out.Scores, err = s.Stack(own, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// coilEmbed encodes texts for COIL: [CLS] vectors [B 1 Dc], the vectors of
// the tokens after [CLS] [B L-1 Dt], their input ids [B L-1] and scoring
// mask [B L-1] (int64: attended and not a masked scoring token, as
// inference scores them).
func (m *Model) coilEmbed(s *torch.Scope, texts []string, query bool) (cls, tok, ids, mask *torch.Tensor, err error) {
	encs := m.inputs.Texts(texts, query)
	idT, types, attn, L, err := m.tensors(s, encs)
	if err != nil {
		return
	}
	hidden, err := m.enc.Forward(s, idT, types, attn)
	if err != nil {
		return
	}
	if cls, tok, err = m.head.CoilEmbed(s, hidden); err != nil {
		return
	}
	if ids, err = s.Narrow(idT, 1, 1, int64(L-1)); err != nil {
		return
	}
	masked := m.inputs.Masked(query)
	sm := make([]int64, len(encs)*(L-1))
	for i, e := range encs {
		for t := 1; t < e.Len(); t++ {
			if e.AttentionMask[t] == 1 && !masked[e.IDs[t]] {
				sm[i*(L-1)+t-1] = 1
			}
		}
	}
	mask, err = s.FromInt64(sm, int64(len(encs)), int64(L-1))
	return
}
