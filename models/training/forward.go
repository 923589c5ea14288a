package training

import (
	"errors"
	"fmt"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/backbone"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/tokenizer"
)

// Batch is one training batch: Q queries, each with the same number D of
// documents (the first usually the positive).
type Batch struct {
	Queries []string
	Docs    [][]string
}

// Output is what Forward computes. Every tensor belongs to the scope
// passed to Forward and is differentiable where it depends on weights.
type Output struct {
	// Scores [Q, D] float32: query i against its own documents.
	Scores *torch.Tensor
	// QueryEmbeddings and DocEmbeddings (bi-encoders; nil for
	// cross-encoders): pooled [Q, dim] / [Q*D, dim], or token level
	// [Q, Lq, dim] / [Q*D, Ld, dim] for multi-vector heads and MVR (Lq 1,
	// Ld its views), documents in batch order (query 0's D documents first).
	QueryEmbeddings, DocEmbeddings *torch.Tensor
	// QueryMask [Q, Lq] and DocMask [Q*D, Ld] (int64, 1 = scored): the
	// scoring masks of token-level embeddings and MVR's; nil when pooled.
	QueryMask, DocMask *torch.Tensor
	// InBatchScores [Q, Q*D] (bi-encoders): every query against every
	// document of the batch with the model's similarity and aggregation.
	InBatchScores *torch.Tensor
}

// check returns Q and D of a well-formed batch.
func (b Batch) check() (Q, D int, err error) {
	Q = len(b.Queries)
	if Q == 0 {
		return 0, 0, errors.New("training: empty batch")
	}
	if len(b.Docs) != Q {
		return 0, 0, fmt.Errorf("training: %d queries but %d document lists", Q, len(b.Docs))
	}
	D = len(b.Docs[0])
	for i, d := range b.Docs {
		if len(d) != D || D == 0 {
			return 0, 0, fmt.Errorf("training: query %d has %d documents, query 0 has %d (want the same number > 0)", i, len(d), D)
		}
	}
	return Q, D, nil
}

// Forward runs the model over a batch: bi-encoders embed the queries and
// the documents (tokenised as inference does: lengths, marker tokens,
// expansion) and score them; cross-encoders score each query–document
// pair. With grad mode on (the default in Do) the result is
// differentiable; dropout applies when SetTraining(true).
func (m *Model) Forward(s *torch.Scope, b Batch) (*Output, error) {
	Q, D, err := b.check()
	if err != nil {
		return nil, err
	}
	var docs []string
	for _, d := range b.Docs {
		docs = append(docs, d...)
	}
	switch m.Head.Architecture {
	case heads.SetEncoder:
		return m.listwiseForward(s, b)
	case heads.Coil:
		return m.coilForward(s, b.Queries, docs, Q, D)
	}
	if m.Head.IsCrossEncoder() {
		return m.crossForward(s, b.Queries, docs, Q, D)
	}
	out := &Output{}
	q, qMask, err := m.embed(s, b.Queries, true)
	if err != nil {
		return nil, fmt.Errorf("training: queries: %w", err)
	}
	d, dMask, err := m.embed(s, docs, false)
	if err != nil {
		return nil, fmt.Errorf("training: documents: %w", err)
	}
	// Every query against every document: [Q, Q*D].
	rows := make([]*torch.Tensor, Q)
	for i := range rows {
		qi, err := s.Narrow(q, 0, int64(i), 1)
		if err != nil {
			return nil, err
		}
		qm, err := s.Narrow(qMask, 0, int64(i), 1)
		if err != nil {
			return nil, err
		}
		if rows[i], err = m.head.Score(s, qi, qm, d, dMask); err != nil {
			return nil, fmt.Errorf("training: scoring: %w", err)
		}
	}
	if out.InBatchScores, err = s.Stack(rows, 0); err != nil {
		return nil, err
	}
	own := make([]*torch.Tensor, Q)
	for i := range own {
		if own[i], err = s.Narrow(rows[i], 0, int64(i*D), int64(D)); err != nil {
			return nil, err
		}
	}
	if out.Scores, err = s.Stack(own, 0); err != nil {
		return nil, err
	}
	if m.Head.MultiVector() || m.Head.Architecture == heads.MVR { // MVR: several views per document
		out.QueryEmbeddings, out.DocEmbeddings, out.QueryMask, out.DocMask = q, d, qMask, dMask
		return out, nil
	}
	if out.QueryEmbeddings, err = s.Squeeze(q, 1); err != nil {
		return nil, err
	}
	if out.DocEmbeddings, err = s.Squeeze(d, 1); err != nil {
		return nil, err
	}
	return out, nil
}

// embed encodes texts and returns their embeddings [B n dim] and scoring
// mask [B n] (int64; all ones for pooled embeddings, n = 1 or MVR's
// document views; UniCOIL's one vector is vocabulary-sized).
func (m *Model) embed(s *torch.Scope, texts []string, query bool) (*torch.Tensor, *torch.Tensor, error) {
	encs := m.inputs.Texts(texts, query)
	ids, types, mask, L, err := m.tensors(s, encs)
	if err != nil {
		return nil, nil, err
	}
	hidden, err := m.enc.Forward(s, ids, types, mask)
	if err != nil {
		return nil, nil, err
	}
	var emb *torch.Tensor
	if m.Head.Architecture == heads.UniCoil { // pooled by input id
		emb, err = m.head.UniCoilEmbed(s, hidden, mask, ids, m.Config.VocabSize)
	} else {
		emb, err = m.head.Embed(s, hidden, mask, query)
	}
	if err != nil {
		return nil, nil, err
	}
	B := int64(len(texts))
	if !m.Head.MultiVector() {
		// Every pooled vector is scored: one, or MVR's views.
		ones, err := s.Ones(torch.Int64, B, emb.Shape()[1])
		return emb, ones, err
	}
	masked, expansion := m.inputs.Masked(query), m.Head.DocExpansion
	if query {
		expansion = m.Head.QueryExpansion
	}
	sm := make([]int64, int(B)*L)
	for i, e := range encs {
		for t := 0; t < e.Len(); t++ {
			// Lightning IR scores every token under expansion, else the attended ones.
			if (expansion || e.AttentionMask[t] == 1) && !masked[e.IDs[t]] {
				sm[i*L+t] = 1
			}
		}
	}
	scoring, err := s.FromInt64(sm, B, int64(L))
	return emb, scoring, err
}

// tensors pads a batch of encodings to its longest and builds ids, type
// ids and attention mask [B L] (int64).
func (m *Model) tensors(s *torch.Scope, encs []tokenizer.Encoding) (ids, types, mask *torch.Tensor, L int, err error) {
	idv, tv, mv, B, L := tokenizer.PadBatch(encs, m.tok.Specials().PAD, 1)
	if ids, err = s.FromInt64(idv, int64(B), int64(L)); err != nil {
		return
	}
	if types, err = s.FromInt64(tv, int64(B), int64(L)); err != nil {
		return
	}
	mask, err = s.FromInt64(mv, int64(B), int64(L))
	return
}

// crossForward scores each query–document pair jointly.
func (m *Model) crossForward(s *torch.Scope, queries, docs []string, Q, D int) (*Output, error) {
	encs := make([]tokenizer.Encoding, len(docs))
	for i, d := range docs {
		e, err := m.inputs.Pair(queries[i/D], d)
		if err != nil {
			return nil, fmt.Errorf("training: query %d, document %d: %w", i/D, i%D, err)
		}
		encs[i] = e
	}
	ids, types, mask, _, err := m.tensors(s, encs)
	if err != nil {
		return nil, err
	}
	hidden, err := m.enc.Forward(s, ids, types, mask)
	if err != nil {
		return nil, err
	}
	sc, err := m.head.CrossScore(s, hidden, mask)
	if err != nil {
		return nil, err
	}
	if sc, err = s.View(sc, int64(Q), int64(D)); err != nil {
		return nil, err
	}
	return &Output{Scores: sc}, nil
}

// listwiseForward scores each query's documents as one Set-Encoder list,
// as Lightning IR's training step does (num_docs = D per query: every
// passage attends to the other D − 1 of its query and, with
// sample_missing_docs and D < depth, to depth − D stand-ins, which carry
// no gradient, as torch.normal's do). One list per forward pass; a list
// pads to its own longest pair, which changes nothing (padding is masked).
func (m *Model) listwiseForward(s *torch.Scope, b Batch) (*Output, error) {
	rows := make([]*torch.Tensor, len(b.Queries))
	for i, q := range b.Queries {
		ip, err := m.head.InterPassage(len(b.Docs[i]))
		if err != nil {
			return nil, fmt.Errorf("training: query %d: %w", i, err)
		}
		encs := make([]tokenizer.Encoding, len(b.Docs[i]))
		for j, d := range b.Docs[i] {
			if encs[j], err = m.inputs.Pair(q, d); err != nil {
				return nil, fmt.Errorf("training: query %d, document %d: %w", i, j, err)
			}
		}
		if err := m.Head.CheckInteractionToken(m.tok, encs[0]); err != nil {
			return nil, fmt.Errorf("training: %s: %w", m.Dir, err)
		}
		var ch backbone.Chunk
		if ch.IDs, ch.TypeIDs, ch.Mask, _, err = m.tensors(s, encs); err != nil {
			return nil, err
		}
		hidden, err := m.enc.ForwardInterPassage(s, []backbone.Chunk{ch}, ip)
		if err != nil {
			return nil, err
		}
		if rows[i], err = m.head.ListwiseScore(s, hidden[0], ch.Mask); err != nil {
			return nil, err
		}
	}
	sc, err := s.Stack(rows, 0)
	if err != nil {
		return nil, err
	}
	return &Output{Scores: sc}, nil
}
