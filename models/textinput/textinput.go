// Package textinput turns queries and documents into the token ids a
// ranking head expects, as Lightning IR's tokenizer does: bi-encoder texts
// truncated to the head's query or doc length, with a [QUE]/[DOC] marker
// after [CLS] when the head adds marker tokens and [MASK] padding for
// expansion; cross-encoder pairs with each side truncated alone and the
// pair cut to the model's maximum length. Inference and training share it,
// so a model is trained on exactly the inputs it is later run on.
package textinput

import (
	"fmt"
	"path/filepath"

	"github.com/irflow/irflow/models/backbone"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/tokenizer"
)

// Encoder tokenises for one head.
type Encoder struct {
	tok                    *tokenizer.Tokenizer
	head                   heads.Options
	maxPositions           int
	queryMarker, docMarker int          // -1 without marker tokens
	queryMasked, docMasked map[int]bool // token ids left out of multi-vector scoring
	viewers                []int        // MVR's [VIE0]…[VIEn-1], after a document's [CLS] (and [DOC])
	t5                     *t5Pair      // Lightning IR's monoT5/RankT5 pair template (t5.go)
}

// New adds the head's marker tokens to tok and resolves its scoring-mask
// tokens; errors name the model directory dir.
func New(dir string, tok *tokenizer.Tokenizer, head heads.Options, cfg *hf.Config) (*Encoder, error) {
	e := &Encoder{tok: tok, head: head, maxPositions: backbone.MaxLength(cfg), queryMarker: -1, docMarker: -1}
	e.t5 = newT5Pair(tok, head, cfg)
	if backbone.IsRoBERTa(cfg) {
		// RoBERTa numbers positions from the input ids: padding must be the
		// model's padding_idx, or padded texts would shift their positions.
		if pad := tok.Specials().PAD; pad != cfg.PadTokenID {
			return nil, fmt.Errorf("%s: the tokenizer pads with id %d but pad_token_id in %s is %d", dir, pad, filepath.Base(cfg.Path), cfg.PadTokenID)
		}
		// Lightning IR 0.0.6 adds [QUE]/[DOC] only after BERT's [CLS]
		// (ADD_MARKER_TOKEN_MAPPING) and refuses other backbones.
		if head.AddMarkerTokens {
			return nil, fmt.Errorf("%s: add_marker_tokens is not supported on a %s backbone (Lightning IR 0.0.6 places [QUE]/[DOC] only in BERT's template)", dir, cfg.Backbone())
		}
	}
	if head.AddMarkerTokens {
		ids := tok.AddSpecialTokens("[QUE]", "[DOC]")
		e.queryMarker, e.docMarker = ids[0], ids[1]
		if max(ids[0], ids[1]) >= cfg.VocabSize {
			return nil, fmt.Errorf("%s: marker tokens [QUE]/[DOC] get ids %v but the embeddings have only %d rows (the model was not trained with marker tokens)", dir, ids, cfg.VocabSize)
		}
	}
	if head.Architecture == heads.MVR {
		// MvrTokenizer adds them after the marker tokens, so the ids match.
		e.viewers = tok.AddSpecialTokens(heads.ViewerTokens(head.NumViewerTokens)...)
		if last := e.viewers[len(e.viewers)-1]; last >= cfg.VocabSize {
			return nil, fmt.Errorf("%s: viewer tokens [VIE0]…[VIE%d] get ids up to %d but the embeddings have only %d rows (the model was not trained as MVR)", dir, head.NumViewerTokens-1, last, cfg.VocabSize)
		}
	}
	resolve := func(tokens []string) (map[int]bool, error) {
		if len(tokens) == 0 {
			return nil, nil
		}
		set := map[int]bool{}
		for _, t := range heads.ExpandMaskTokens(tokens) {
			id, ok := tok.TokenID(t)
			if !ok {
				return nil, fmt.Errorf("%s: scoring-mask token %q is not in the vocabulary", dir, t)
			}
			set[id] = true
		}
		return set, nil
	}
	var err error
	if e.queryMasked, err = resolve(head.QueryMaskScoringTokens); err != nil {
		return nil, err
	}
	if e.docMasked, err = resolve(head.DocMaskScoringTokens); err != nil {
		return nil, err
	}
	return e, nil
}

// Masked returns the token ids left out of multi-vector scoring for
// queries or documents (nil: none).
func (e *Encoder) Masked(query bool) map[int]bool {
	if query {
		return e.queryMasked
	}
	return e.docMasked
}

// Texts tokenises bi-encoder inputs: truncated to the query or doc length,
// with the marker token after [CLS] when the head adds marker tokens, and
// for expansion padded to the full length with [MASK] tokens (attended to
// or not, as the head says).
func (e *Encoder) Texts(texts []string, query bool) []tokenizer.Encoding {
	h := e.head
	maxLen, marker, expand, attend := h.DocLength, e.docMarker, h.DocExpansion, h.AttendToDocExpanded
	if query {
		maxLen, marker, expand, attend = h.QueryLength, e.queryMarker, h.QueryExpansion, h.AttendToQueryExpanded
	}
	views := 0
	if !query {
		views = len(e.viewers)
		maxLen -= views // the viewer tokens count in the doc length
	}
	var encs []tokenizer.Encoding
	if marker >= 0 {
		encs = make([]tokenizer.Encoding, len(texts))
		for i, t := range texts {
			encs[i] = e.tok.EncodeWithMarker(t, marker, maxLen)
		}
	} else {
		encs = e.tok.EncodeBatch(texts, maxLen)
	}
	if views > 0 {
		at := 1 // after [CLS] and the marker, as MvrTokenizer's template
		if marker >= 0 {
			at = 2
		}
		for i := range encs {
			e.insertViewers(&encs[i], at)
		}
	}
	if expand {
		maskID := e.tok.Specials().MASK
		a := 0
		if attend {
			a = 1
		}
		for i := range encs {
			enc := &encs[i]
			for len(enc.IDs) < maxLen {
				enc.IDs = append(enc.IDs, maskID)
				enc.TypeIDs = append(enc.TypeIDs, 0)
				enc.AttentionMask = append(enc.AttentionMask, a)
				enc.SpecialTokensMask = append(enc.SpecialTokensMask, 1)
			}
		}
	}
	return encs
}

// Pair tokenises a query–document pair as Lightning IR's cross-encoder
// tokenizer: each side alone is truncated to its length by encode →
// truncate → decode (when the head sets a length), then the pair is
// encoded and cut to the model's maximum length, longest side first.
func (e *Encoder) Pair(query, doc string) (tokenizer.Encoding, error) {
	q := e.truncateSide(query, e.head.QueryLength)
	d := e.truncateSide(doc, e.head.DocLength)
	maxLen := e.tok.ModelMaxLength()
	if maxLen <= 0 || maxLen > e.maxPositions {
		maxLen = e.maxPositions
	}
	if e.t5 != nil {
		return e.t5.encode(e.tok, q, d, maxLen), nil
	}
	return e.tok.EncodePair(q, d, maxLen, tokenizer.LongestFirst)
}

func (e *Encoder) truncateSide(text string, n int) string {
	if n <= 0 {
		return text
	}
	enc := e.tok.EncodeNoSpecial(text, n)
	return e.tok.DecodeWith(enc.IDs, tokenizer.DecodeOptions{CleanUpTokenizationSpaces: e.tok.CleanUpTokenizationSpaces()})
}

// insertViewers puts MVR's viewer tokens into enc at position at.
func (e *Encoder) insertViewers(enc *tokenizer.Encoding, at int) {
	n := len(e.viewers)
	ins := func(v []int, fill func(i int) int) []int {
		out := make([]int, 0, len(v)+n)
		out = append(out, v[:at]...)
		for i := 0; i < n; i++ {
			out = append(out, fill(i))
		}
		return append(out, v[at:]...)
	}
	enc.IDs = ins(enc.IDs, func(i int) int { return e.viewers[i] })
	enc.TypeIDs = ins(enc.TypeIDs, func(int) int { return 0 })
	enc.AttentionMask = ins(enc.AttentionMask, func(int) int { return 1 })
	enc.SpecialTokensMask = ins(enc.SpecialTokensMask, func(int) int { return 1 })
	if enc.Tokens != nil {
		toks := make([]string, 0, len(enc.Tokens)+n)
		toks = append(toks, enc.Tokens[:at]...)
		toks = append(toks, heads.ViewerTokens(n)...)
		enc.Tokens = append(toks, enc.Tokens[at:]...)
	}
}
