package backbone

import (
	"context"
	"strings"
	"testing"

	"github.com/irflow/irflow/models/hf"
)

// TestT5Bucket checks the relative-position buckets against values worked
// out by hand from T5's formula (half the buckets of a direction exact,
// the rest log-spaced up to max_distance): T5's defaults (32 buckets up
// to 128) and the tiny models' (8 up to 20), both directions.
func TestT5Bucket(t *testing.T) {
	cases := []struct {
		rel, buckets, maxDist int
		bidirectional         bool
		want                  int
	}{
		{0, 32, 128, true, 0},
		{-1, 32, 128, true, 1},
		{1, 32, 128, true, 17},    // keys to the right: the upper half
		{-7, 32, 128, true, 7},    // last exact distance
		{-8, 32, 128, true, 8},    // 8 + ⌊log(8/8)/log(16)·8⌋
		{-16, 32, 128, true, 10},  // 8 + ⌊log 2/log 16·8⌋ = 8 + 2
		{-127, 32, 128, true, 15}, // 8 + ⌊7.98⌋
		{-500, 32, 128, true, 15}, // beyond max_distance: the last bucket
		{20, 32, 128, true, 26},   // 16 + 8 + ⌊log 2.5/log 16·8⌋ = 16 + 8 + 2
		{5, 32, 128, false, 0},    // decoder: the future is bucket 0
		{-3, 32, 128, false, 3},
		{-16, 32, 128, false, 16},
		{-64, 32, 128, false, 26}, // 16 + ⌊log 4/log 8·16⌋ = 16 + 10
		{-2, 8, 20, true, 2},
		{-5, 8, 20, true, 2},  // 2 + ⌊log 2.5/log 10·2⌋ = 2 + 0
		{-10, 8, 20, true, 3}, // 2 + ⌊log 5/log 10·2⌋ = 2 + 1
		{-20, 8, 20, true, 3}, // 2 + 2, capped at 3
		{3, 8, 20, true, 6},   // 4 + 2 + ⌊log 1.5/log 10·2⌋
	}
	for _, c := range cases {
		if got := t5Bucket(c.rel, c.buckets, c.maxDist, c.bidirectional); got != c.want {
			t.Errorf("bucket(%d, %d buckets, max %d, bidirectional %v) = %d, want %d", c.rel, c.buckets, c.maxDist, c.bidirectional, got, c.want)
		}
	}
}

// TestT5Config checks what a T5 config decides before weights load: the
// sizes under T5's names, encoder–decoder by default, a head size d_kv
// that need not divide d_model, and the refusals naming file and field.
func TestT5Config(t *testing.T) {
	const base = `{"model_type":"t5","vocab_size":32128,"d_model":768,"num_heads":12,"d_kv":64,"d_ff":3072,"num_layers":12`
	c, err := hf.ParseConfig("/m/config.json", []byte(base+`}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.HiddenSize != 768 || c.NumAttentionHeads != 12 || c.IntermediateSize != 3072 || c.NumHiddenLayers != 12 ||
		c.LayerNormEps != 1e-6 || c.HiddenAct != "relu" || MaxLength(c) != 512 || !IsEncoderDecoder(c) {
		t.Errorf("parsed %+v", c)
	}
	if err := CheckSupported(c); err != nil {
		t.Error(err)
	}
	cases := []struct {
		name, extra string
		err         []string
	}{
		{"flan: gated-gelu", `,"feed_forward_proj":"gated-gelu"`, nil},
		{"d_kv not d_model/num_heads (t5-3b's 32 heads of 128)", `,"num_heads":32,"d_kv":128`, nil},
		{"odd heads", `,"d_model":100,"num_heads":3,"d_kv":32`, nil},
		{"gated-silu", `,"feed_forward_proj":"gated-silu"`, []string{"/m/config.json", `feed_forward_proj "gated-silu"`}},
		{"too few buckets", `,"relative_attention_num_buckets":2`, []string{"/m/config.json", "relative_attention_num_buckets 2"}},
		{"zero d_kv", `,"d_kv":0`, []string{"/m/config.json", "d_kv 0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := hf.ParseConfig("/m/config.json", []byte(base+tc.extra+`}`))
			if err == nil {
				err = CheckSupported(c)
			}
			if len(tc.err) == 0 {
				if err != nil {
					t.Fatal(err)
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
}

// TestT5LoadErrors: a missing decoder tensor is an error for an
// encoder–decoder config, naming the tensor and file.
func TestT5LoadErrors(t *testing.T) {
	c, err := hf.ParseConfig("/m/config.json", []byte(`{"model_type":"t5","vocab_size":10,"d_model":4,"num_heads":2,"d_kv":2,"d_ff":6,"num_layers":1,"relative_attention_num_buckets":4}`))
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
	add("shared.weight", 10, 4)
	add("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", 4, 2)
	for _, n := range []string{"q", "k", "v"} {
		add("encoder.block.0.layer.0.SelfAttention."+n+".weight", 4, 4)
	}
	add("encoder.block.0.layer.0.SelfAttention.o.weight", 4, 4)
	add("encoder.block.0.layer.0.layer_norm.weight", 4)
	add("encoder.block.0.layer.1.layer_norm.weight", 4)
	add("encoder.block.0.layer.1.DenseReluDense.wi.weight", 6, 4)
	add("encoder.block.0.layer.1.DenseReluDense.wo.weight", 4, 6)
	add("encoder.final_layer_norm.weight", 4)
	_, err = Load(context.Background(), nil, c, w)
	if err == nil || !strings.Contains(err.Error(), `"decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"`) || !strings.Contains(err.Error(), "/m/model.safetensors") {
		t.Errorf("error %v, want the missing decoder tensor and the file", err)
	}
	w.Lookup("encoder.block.0.layer.1.DenseReluDense.wi.weight").Shape = []int{4, 6}
	c.Set("is_encoder_decoder", false)
	if _, err = Load(context.Background(), nil, c, w); err == nil || !strings.Contains(err.Error(), `"encoder.block.0.layer.1.DenseReluDense.wi.weight"`) {
		t.Errorf("error %v, want the mis-shaped wi", err)
	}
}
