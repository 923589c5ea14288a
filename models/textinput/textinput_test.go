package textinput

import (
	"strings"
	"testing"

	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/tokenizer"
)

// robertaTok is a tokenizer with RoBERTa's special tokens at RoBERTa's
// ids (<s> 0, <pad> 1, </s> 2, <unk> 3, <mask> 4) and one word.
func robertaTok(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	o := tokenizer.DefaultOptions()
	o.ClsToken, o.PadToken, o.SepToken, o.UnkToken, o.MaskToken = "<s>", "<pad>", "</s>", "<unk>", "<mask>"
	tok, err := tokenizer.FromVocab([]string{"<s>", "<pad>", "</s>", "<unk>", "<mask>", "word"}, o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRoBERTaInputs checks the input rules RoBERTa adds: pairs are cut to
// the positions the embeddings cover (514 − padding_idx − 1 = 512), the
// tokenizer must pad with the model's padding_idx (positions are counted
// from it), and marker tokens are refused as Lightning IR 0.0.6 refuses
// them on RoBERTa.
func TestRoBERTaInputs(t *testing.T) {
	const roberta = `{"model_type":"roberta","vocab_size":6,"max_position_embeddings":514,"pad_token_id":1,"type_vocab_size":1}`
	cases := []struct {
		name, config, head string
		markers            bool
		pairLen            int // 0: New fails
		err                []string
	}{
		{"roberta pair cut to 512", roberta, heads.Mono, false, 512, nil},
		{"bert pair cut to 512", `{"model_type":"bert","vocab_size":6,"max_position_embeddings":512}`, heads.Mono, false, 512, nil},
		{"roberta with 130 positions", strings.Replace(roberta, "514", "130", 1), heads.Mono, false, 128, nil},
		{"tokenizer pads with another id", strings.Replace(roberta, `"pad_token_id":1`, `"pad_token_id":0`, 1), heads.DPR, false, 0,
			[]string{"/m", "pads with id 1", "pad_token_id in config.json is 0"}},
		{"marker tokens", roberta, heads.Col, true, 0, []string{"/m", "add_marker_tokens", "roberta"}},
	}
	long := strings.Repeat("word ", 600)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := hf.ParseConfig("/m/config.json", []byte(tc.config))
			if err != nil {
				t.Fatal(err)
			}
			h, err := heads.Preset(tc.head, 8)
			if err != nil {
				t.Fatal(err)
			}
			h.AddMarkerTokens = tc.markers
			e, err := New("/m", robertaTok(t), h, cfg)
			if tc.pairLen == 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, s := range tc.err {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h.QueryLength, h.DocLength = 0, 0
			e.head = h
			enc, err := e.Pair(long, long)
			if err != nil {
				t.Fatal(err)
			}
			if enc.Len() != tc.pairLen {
				t.Errorf("pair of two 600-word texts has %d tokens, want %d", enc.Len(), tc.pairLen)
			}
		})
	}
}
