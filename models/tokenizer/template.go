package tokenizer

// templatePiece is one element of HF's TemplateProcessing: special tokens
// (seq < 0) or one of the sequences (seq 0 = A, 1 = B), with a type id.
type templatePiece struct {
	seq    int
	ids    []int
	tokens []string
	typeID int
}

// template is the post-processor: where specials go and which type ids the
// parts get.
type template struct {
	pieces []templatePiece
}

// plainSingle is the template of add_special_tokens=False.
var plainSingle = template{pieces: []templatePiece{{seq: 0}}}

// plainPair is the pair layout without a post-processor: A then B with
// type id 1, as HF's default processing.
var plainPair = template{pieces: []templatePiece{{seq: 0}, {seq: 1, typeID: 1}}}

func bertTemplates(cls string, clsID int, sep string, sepID int) (single, pair template) {
	c := templatePiece{seq: -1, ids: []int{clsID}, tokens: []string{cls}}
	s := templatePiece{seq: -1, ids: []int{sepID}, tokens: []string{sep}}
	s1 := s
	s1.typeID = 1
	single = template{pieces: []templatePiece{c, {seq: 0}, s}}
	pair = template{pieces: []templatePiece{c, {seq: 0}, s, {seq: 1, typeID: 1}, s1}}
	return single, pair
}

// nSpecial counts the tokens the template adds (HF's
// get_n_added_tokens), which truncation reserves.
func (tp *template) nSpecial() int {
	n := 0
	for _, p := range tp.pieces {
		if p.seq < 0 {
			n += len(p.ids)
		}
	}
	return n
}

// withMarker returns the template with one more special token right before
// sequence A, of A's type id.
func (tp *template) withMarker(id int, tok string) template {
	out := template{}
	for _, p := range tp.pieces {
		if p.seq == 0 {
			out.pieces = append(out.pieces, templatePiece{seq: -1, ids: []int{id}, tokens: []string{tok}, typeID: p.typeID})
		}
		out.pieces = append(out.pieces, p)
	}
	return out
}

// build lays out the encoding: the template's specials and the two
// sequences (b only for pair templates).
func (tp *template) build(aIDs []int, aToks []string, bIDs []int, bToks []string, pair bool) Encoding {
	n := 0
	for _, p := range tp.pieces {
		switch p.seq {
		case 0:
			n += len(aIDs)
		case 1:
			n += len(bIDs)
		default:
			n += len(p.ids)
		}
	}
	ints := make([]int, 4*n)
	e := Encoding{
		IDs:               ints[0:0:n],
		TypeIDs:           ints[n : n : 2*n],
		AttentionMask:     ints[2*n : 2*n : 3*n],
		SpecialTokensMask: ints[3*n : 3*n : 4*n],
		Tokens:            make([]string, 0, n),
	}
	add := func(ids []int, toks []string, typeID, special int) {
		e.IDs = append(e.IDs, ids...)
		e.Tokens = append(e.Tokens, toks...)
		for range ids {
			e.TypeIDs = append(e.TypeIDs, typeID)
			e.AttentionMask = append(e.AttentionMask, 1)
			e.SpecialTokensMask = append(e.SpecialTokensMask, special)
		}
	}
	for _, p := range tp.pieces {
		switch p.seq {
		case 0:
			add(aIDs, aToks, p.typeID, 0)
		case 1:
			add(bIDs, bToks, p.typeID, 0)
		default:
			add(p.ids, p.tokens, p.typeID, 1)
		}
	}
	return e
}
