package heads

import (
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/models/hf"
)

// TestRoBERTaMLMSavedNames checks the names a SPLADE model on a
// RobertaForMaskedLM checkpoint is saved under: the encoder at the top
// level, lm_head.* as projection.* (lm_head → projection, as Lightning IR
// maps BERT's cls → projection), the tied decoder written out, and
// lm_head.decoder.bias (the same tensor as lm_head.bias) not twice.
func TestRoBERTaMLMSavedNames(t *testing.T) {
	c, err := hf.ParseConfig("/m/config.json", []byte(`{"model_type":"roberta","vocab_size":5,"hidden_size":2,"num_attention_heads":1}`))
	if err != nil {
		t.Fatal(err)
	}
	w := hf.NewWeights()
	for _, n := range []string{"roberta.embeddings.word_embeddings.weight", "roberta.encoder.layer.0.output.dense.weight",
		"lm_head.dense.weight", "lm_head.dense.bias", "lm_head.layer_norm.weight", "lm_head.layer_norm.bias",
		"lm_head.bias", "lm_head.decoder.bias"} {
		w.Add(&hf.Tensor{Name: n, Shape: []int{1}, DType: "F32", F32: []float32{0}}, "/m/model.safetensors")
	}
	o, _ := Preset(Splade, 2)
	var got []string
	for _, tn := range LightningIRTensors(o, c, w) {
		got = append(got, tn.Name)
	}
	slices.Sort(got)
	want := []string{"embeddings.word_embeddings.weight", "encoder.layer.0.output.dense.weight",
		"projection.bias", "projection.decoder.weight", "projection.dense.bias", "projection.dense.weight",
		"projection.layer_norm.bias", "projection.layer_norm.weight"}
	if !slices.Equal(got, want) {
		t.Errorf("saved %v\nwant  %v", got, want)
	}
	// A DPR head on the same checkpoint keeps only the encoder.
	o, _ = Preset(DPR, 2)
	got = got[:0]
	for _, tn := range LightningIRTensors(o, c, w) {
		if !strings.HasPrefix(tn.Name, "projection.") {
			got = append(got, tn.Name)
		}
	}
	slices.Sort(got)
	if want := want[:2]; !slices.Equal(got, want) {
		t.Errorf("dpr saved %v, want %v", got, want)
	}
}

// TestModernBERTMLMSavedNames: ModernBertForMaskedLM's head.* and
// decoder.* are saved under projection.*, the tied decoder written out
// from the token embeddings.
func TestModernBERTMLMSavedNames(t *testing.T) {
	c, err := hf.ParseConfig("/m/config.json", []byte(`{"model_type":"modernbert","vocab_size":5,"hidden_size":2,"num_attention_heads":1}`))
	if err != nil {
		t.Fatal(err)
	}
	w := hf.NewWeights()
	for _, n := range []string{"model.embeddings.tok_embeddings.weight", "model.layers.0.attn.Wqkv.weight", "model.final_norm.weight",
		"head.dense.weight", "head.norm.weight", "decoder.bias"} {
		w.Add(&hf.Tensor{Name: n, Shape: []int{1}, DType: "F32", F32: []float32{0}}, "/m/model.safetensors")
	}
	o, _ := Preset(Splade, 2)
	var got []string
	for _, tn := range LightningIRTensors(o, c, w) {
		got = append(got, tn.Name)
	}
	slices.Sort(got)
	want := []string{"embeddings.tok_embeddings.weight", "final_norm.weight", "layers.0.attn.Wqkv.weight",
		"projection.decoder.bias", "projection.decoder.weight", "projection.head.dense.weight", "projection.head.norm.weight"}
	if !slices.Equal(got, want) {
		t.Errorf("saved %v\nwant  %v", got, want)
	}
}

// TestRoBERTaClassifierRefused: RoBERTa's and ModernBERT's
// sequence-classification heads are not Lightning IR's mono head, so
// irflow says so instead of treating the directory as a plain backbone.
func TestRoBERTaClassifierRefused(t *testing.T) {
	for _, arch := range []string{"RobertaForSequenceClassification", "XLMRobertaForSequenceClassification", "ModernBertForSequenceClassification"} {
		c, err := hf.ParseConfig("/m/config.json", []byte(`{"model_type":"roberta","vocab_size":5,"hidden_size":2,"num_attention_heads":1,
			"architectures":["`+arch+`"]}`))
		if err != nil {
			t.Fatal(err)
		}
		_, ok, err := FromConfig(t.TempDir(), c)
		if ok || err == nil || !strings.Contains(err.Error(), "/m/config.json") || !strings.Contains(err.Error(), arch) {
			t.Errorf("%s: ok %v, error %v", arch, ok, err)
		}
	}
}
