package backbone

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/irflow/irflow/models/hf"
)

// tinyBert returns a config and a complete set of zero weights for a
// 2-layer BERT, named as a bare BertModel saves them.
func tinyBert(t *testing.T) (*hf.Config, *hf.Weights) {
	t.Helper()
	c, err := hf.ParseConfig("/m/config.json", []byte(`{"model_type":"bert","vocab_size":50,"hidden_size":8,
		"num_hidden_layers":2,"num_attention_heads":2,"intermediate_size":12,"max_position_embeddings":16,"type_vocab_size":2}`))
	if err != nil {
		t.Fatal(err)
	}
	w := hf.NewWeights()
	w.Files = []string{"/m/model.safetensors"}
	add := func(name string, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		w.Add(&hf.Tensor{Name: name, Shape: shape, DType: "F32", F32: make([]float32, n)}, "/m/model.safetensors")
	}
	add("embeddings.word_embeddings.weight", 50, 8)
	add("embeddings.position_embeddings.weight", 16, 8)
	add("embeddings.token_type_embeddings.weight", 2, 8)
	add("embeddings.LayerNorm.weight", 8)
	add("embeddings.LayerNorm.bias", 8)
	for i := 0; i < 2; i++ {
		p := fmt.Sprintf("encoder.layer.%d.", i)
		for _, m := range []string{"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"} {
			add(p+m+".weight", 8, 8)
			add(p+m+".bias", 8)
		}
		add(p+"intermediate.dense.weight", 12, 8)
		add(p+"intermediate.dense.bias", 12)
		add(p+"output.dense.weight", 8, 12)
		add(p+"output.dense.bias", 8)
		for _, ln := range []string{"attention.output.LayerNorm", "output.LayerNorm"} {
			add(p+ln+".weight", 8)
			add(p+ln+".bias", 8)
		}
	}
	return c, w
}

// TestLoadErrors checks the errors Load gives before touching libtorch:
// each names the file, and the tensor where there is one.
func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *hf.Config, w *hf.Weights)
		want   []string
	}{
		{"unsupported architecture", func(c *hf.Config, w *hf.Weights) { c.ModelType = "gpt2" },
			[]string{"/m/config.json", `unsupported model_type "gpt2"`, "bert, electra, distilbert"}},
		{"unsupported activation", func(c *hf.Config, w *hf.Weights) { c.HiddenAct = "swish" },
			[]string{"/m/config.json", `hidden_act "swish"`}},
		{"relative positions", func(c *hf.Config, w *hf.Weights) { c.PositionEmbeddingType = "relative_key" },
			[]string{"/m/config.json", "relative_key"}},
		{"missing tensor", func(c *hf.Config, w *hf.Weights) {
			w.Rename("encoder.layer.1.output.dense.weight", "something.else")
		}, []string{"/m/model.safetensors", `missing tensor "encoder.layer.1.output.dense.weight"`}},
		{"mis-shaped tensor", func(c *hf.Config, w *hf.Weights) {
			w.Lookup("encoder.layer.0.intermediate.dense.weight").Shape = []int{8, 12}
		}, []string{"/m/model.safetensors", `"encoder.layer.0.intermediate.dense.weight"`, "[8 12]", "[12 8]"}},
		{"vocabulary larger than the embeddings", func(c *hf.Config, w *hf.Weights) { c.VocabSize = 51 },
			[]string{`"embeddings.word_embeddings.weight"`, "[50 8]", "[51 8]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, w := tinyBert(t)
			tc.mutate(c, w)
			_, err := Load(context.Background(), nil, c, w)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

// TestPrefix finds the backbone inside task models.
func TestPrefix(t *testing.T) {
	c, w := tinyBert(t)
	if p := Prefix(c, w); p != "" {
		t.Errorf("bare model prefix %q", p)
	}
	for _, n := range w.Names() {
		w.Rename(n, "bert."+n)
	}
	if p := Prefix(c, w); p != "bert." {
		t.Errorf("BertForMaskedLM prefix %q, want bert.", p)
	}
}

// TestRoBERTaConfig checks what RoBERTa's config decides before any
// weights load: the positions left for tokens (max_position_embeddings
// less padding_idx + 1, pad_token_id defaulting to RobertaConfig's 1),
// the task-model prefix, and the refusals naming file and field.
func TestRoBERTaConfig(t *testing.T) {
	cases := []struct {
		name, json string
		maxLen     int
		err        []string
	}{
		{"roberta-base", `{"model_type":"roberta","vocab_size":50265,"max_position_embeddings":514,"pad_token_id":1,"type_vocab_size":1}`, 512, nil},
		{"pad_token_id absent: RobertaConfig's 1", `{"model_type":"roberta","vocab_size":50,"max_position_embeddings":514}`, 512, nil},
		{"xlm-roberta", `{"model_type":"xlm-roberta","vocab_size":250002,"max_position_embeddings":514,"pad_token_id":1}`, 512, nil},
		{"Lightning IR model on RoBERTa", `{"model_type":"col","backbone_model_type":"roberta","vocab_size":50,"max_position_embeddings":130,"pad_token_id":1}`, 128, nil},
		{"bert keeps every position", `{"model_type":"bert","vocab_size":50,"max_position_embeddings":512,"pad_token_id":0}`, 512, nil},
		{"relative positions", `{"model_type":"roberta","vocab_size":50,"position_embedding_type":"relative_key_query"}`, 0,
			[]string{"/m/config.json", `position_embedding_type "relative_key_query"`}},
		{"no position left", `{"model_type":"roberta","vocab_size":50,"max_position_embeddings":2,"pad_token_id":1}`, 0,
			[]string{"/m/config.json", "pad_token_id 1", "max_position_embeddings 2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := hf.ParseConfig("/m/config.json", []byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			err = CheckSupported(c)
			if tc.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := MaxLength(c); got != tc.maxLen {
					t.Errorf("MaxLength %d, want %d", got, tc.maxLen)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.err {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
	// XLMRobertaForMaskedLM keeps its encoder under "roberta.".
	c, w := tinyBert(t)
	c.ModelType = "xlm-roberta"
	for _, n := range w.Names() {
		w.Rename(n, "roberta."+n)
	}
	if p := Prefix(c, w); p != "roberta." {
		t.Errorf("XLMRobertaForMaskedLM prefix %q, want roberta.", p)
	}
}
