package textinput

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/tokenizer"
)

// TestT5Pair checks Lightning IR's monoT5 and RankT5 templates on the
// committed SentencePiece fixture (models/tokenizer/testdata/t5-precompiled,
// whose small vocabulary lacks "Query", "▁Document" and "▁Relevan", so
// they become <unk>, 2, as convert_tokens_to_ids makes them). The expected
// ids are HF tokenizers' (0.22.2) TemplateProcessing with the same
// template, truncation max_length 20 (longest first), written down by hand
// from its output; the 20 comes from n_positions.
func TestT5Pair(t *testing.T) {
	tok, err := tokenizer.Load(filepath.Join("..", "tokenizer", "testdata", "t5-precompiled"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := hf.ParseConfig("/m/config.json", []byte(`{"model_type":"t5","vocab_size":2000,"d_model":8,"num_heads":2,"n_positions":20}`))
	if err != nil {
		t.Fatal(err)
	}
	const q, d = "What causes cell division?", "Cells divide by mitosis, a process studied in many organisms over the years."
	cases := []struct {
		name, strategy, doc string
		want                []int
	}{
		{"mono, cut to 20: query 5, doc 6 of 20 − 9", "mono", d,
			[]int{4, 2, 145, 381, 65, 113, 524, 3, 2, 145, 929, 3, 209, 236, 17, 14, 2, 21, 145, 1}},
		{"mono, short doc: doc 5, query 6", "mono", "Cells divide.",
			[]int{4, 2, 145, 381, 65, 113, 524, 3, 80, 2, 145, 929, 3, 209, 236, 17, 2, 21, 145, 1}},
		{"rank, cut to 20: 7 and 7 of 20 − 6", "rank", d,
			[]int{4, 2, 145, 381, 65, 113, 524, 3, 80, 1192, 2, 145, 929, 3, 209, 236, 17, 14, 50, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, _ := heads.Preset(heads.Mono, 8)
			o.ScoringStrategy, o.QueryLength, o.DocLength = c.strategy, 0, 0
			e, err := New("/m", tok, o, cfg)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := e.Pair(q, c.doc)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(enc.IDs, c.want) {
				t.Errorf("ids %v\nwant %v", enc.IDs, c.want)
			}
			if enc.Len() > 20 || len(enc.AttentionMask) != enc.Len() || len(enc.SpecialTokensMask) != enc.Len() {
				t.Errorf("%d ids, %d mask, %d special mask", enc.Len(), len(enc.AttentionMask), len(enc.SpecialTokensMask))
			}
		})
	}
}

// TestLongestFirst: HF's longest-first split of a pair's room, by hand.
func TestLongestFirst(t *testing.T) {
	for _, c := range [][5]int{
		{8, 30, 11, 5, 6},  // both cut: half each, the odd one to the second
		{3, 30, 11, 3, 8},  // the short side keeps all
		{30, 3, 11, 8, 3},  // the same, swapped
		{10, 10, 9, 4, 5},  // equal: the second gets the odd token
		{4, 5, 20, 4, 5},   // fits
		{12, 40, 0, 0, 0},  // no room
		{20, 30, 11, 5, 6}, // both longer than the room
	} {
		a, b, err := tokenizer.TruncatePair(c[0], c[1], c[2], tokenizer.LongestFirst)
		if err != nil || a != c[3] || b != c[4] {
			t.Errorf("TruncatePair(%d, %d, %d, LongestFirst) = %d, %d, %v, want %d, %d", c[0], c[1], c[2], a, b, err, c[3], c[4])
		}
	}
}
