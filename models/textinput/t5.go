package textinput

import (
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/tokenizer"
)

// Lightning IR's CrossEncoderTokenizer lays out monoT5 and RankT5 pairs
// with its own template on T5 (SCORING_STRATEGY_POST_PROCESSOR_MAPPING),
// replacing the tokenizer's "$A </s> $B </s>": for scoring_strategy mono
// "▁ Query : $A ▁Document : $B ▁Relevan t : </s>", for rank the same
// without "▁Relevan t :". Each piece is looked up as a token (the unknown
// token where the vocabulary lacks it, as convert_tokens_to_ids does).
var t5Templates = map[string][]string{
	"mono": {"▁", "Query", ":", "$A", "▁Document", ":", "$B", "▁Relevan", "t", ":", "</s>"},
	"rank": {"▁", "Query", ":", "$A", "▁Document", ":", "$B", "</s>"},
}

// t5Pair is a pair template: the special ids before A, between A and B,
// and after B.
type t5Pair struct {
	before, between, after []int
}

// newT5Pair resolves the template of a mono head on a T5 backbone; nil
// for every other head and backbone.
func newT5Pair(tok *tokenizer.Tokenizer, head heads.Options, cfg *hf.Config) *t5Pair {
	pieces, ok := t5Templates[head.ScoringStrategy]
	if cfg.Backbone() != "t5" || head.Architecture != heads.Mono || !ok {
		return nil
	}
	p := &t5Pair{}
	part := &p.before
	for _, piece := range pieces {
		switch piece {
		case "$A":
			part = &p.between
		case "$B":
			part = &p.after
		default:
			id, ok := tok.TokenID(piece)
			if !ok {
				id = tok.Specials().UNK
			}
			*part = append(*part, id)
		}
	}
	return p
}

func (p *t5Pair) specials() int { return len(p.before) + len(p.between) + len(p.after) }

// encode lays out the pair a, b (already cut to their sides' lengths):
// both are tokenised alone, cut together to maxLen less the template's
// tokens, longest first, as HF's truncation does under the template.
func (p *t5Pair) encode(tok *tokenizer.Tokenizer, a, b string, maxLen int) tokenizer.Encoding {
	ea, eb := tok.EncodeNoSpecial(a, 0), tok.EncodeNoSpecial(b, 0)
	na, nb := ea.Len(), eb.Len()
	if maxLen > 0 {
		na, nb, _ = tokenizer.TruncatePair(na, nb, max(maxLen-p.specials(), 0), tokenizer.LongestFirst)
	}
	var e tokenizer.Encoding
	add := func(ids []int, toks []string, special int) {
		for i, id := range ids {
			e.IDs = append(e.IDs, id)
			e.TypeIDs = append(e.TypeIDs, 0)
			e.AttentionMask = append(e.AttentionMask, 1)
			e.SpecialTokensMask = append(e.SpecialTokensMask, special)
			t, _ := tok.Token(id)
			if toks != nil {
				t = toks[i]
			}
			e.Tokens = append(e.Tokens, t)
		}
	}
	add(p.before, nil, 1)
	add(ea.IDs[:na], prefix(ea.Tokens, na), 0)
	add(p.between, nil, 1)
	add(eb.IDs[:nb], prefix(eb.Tokens, nb), 0)
	add(p.after, nil, 1)
	return e
}

func prefix(s []string, n int) []string {
	if s == nil {
		return nil
	}
	return s[:n]
}
