package heads

import (
	"strings"
	"testing"

	"github.com/irflow/irflow/models/hf"
)

func t5Config(t *testing.T, extra string) *hf.Config {
	t.Helper()
	c, err := hf.ParseConfig("/m/config.json", []byte(`{"model_type":"t5","vocab_size":32128,"d_model":2,"num_heads":1,"d_kv":2`+extra+`}`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestT5Heads checks how heads fit a T5 backbone: the preset mono on a
// plain T5 checkpoint is castorini's monoT5 (two logits, no per-side
// cut), bi-encoders select T5's encoder alone, and what Lightning IR
// cannot run on T5 is refused naming file and field.
func TestT5Heads(t *testing.T) {
	c := t5Config(t, "")
	h, err := Resolve("/m", c, Mono)
	if err != nil {
		t.Fatal(err)
	}
	if h.ScoringStrategy != "mono" || h.QueryLength != 0 || h.DocLength != 0 || !c.Bool("is_encoder_decoder", true) {
		t.Errorf("mono on T5: %+v, is_encoder_decoder %v", h, c.Raw["is_encoder_decoder"])
	}
	if m := h.LightningIRConfig("t5"); m["query_length"] != nil || m["doc_length"] != nil {
		t.Errorf("saved lengths %v, %v, want None (Lightning IR truncates to 0 tokens otherwise)", m["query_length"], m["doc_length"])
	}
	if _, err := Resolve("/m", c, Col); err != nil || c.Bool("is_encoder_decoder", true) {
		t.Errorf("col on T5: %v, is_encoder_decoder %v (want the encoder alone)", err, c.Raw["is_encoder_decoder"])
	}
	mono, _ := Preset(Mono, 2)
	cases := []struct {
		name, extra string
		o           func() Options
		err         string
	}{
		{"mono pooled by mean", "", func() Options { o := mono; o.Pooling = "mean"; return o }, `pooling_strategy "mean" is not supported for mono on T5`},
		{"mono on the encoder alone", `,"is_encoder_decoder":false`, func() Options { return mono }, "is_encoder_decoder is false"},
		{"col with marker tokens", "", func() Options { o, _ := Preset(Col, 2); o.AddMarkerTokens = true; return o }, "add_marker_tokens is not supported on a T5 backbone"},
		{"col with expansion", "", func() Options { o, _ := Preset(Col, 2); o.QueryExpansion = true; return o }, "[MASK], which T5's tokenizer lacks"},
		{"mvr", "", func() Options { return Options{Architecture: MVR} }, "head mvr is not supported on a T5 backbone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ForBackbone(tc.o(), t5Config(t, tc.extra))
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "/m/config.json") {
				t.Errorf("error %v, want %q naming the file", err, tc.err)
			}
		})
	}
}

// TestT5ScorerRows: a castorini checkpoint's scorer is rows 6136, 1176
// (monoT5: false, true) or 32089 (RankT5) of shared.weight, as Lightning
// IR's _map_mono_t5_weights / _map_rank_t5_weights copy them; row r of
// the test embedding holds r, r + 0.5.
func TestT5ScorerRows(t *testing.T) {
	for _, c := range []struct {
		strategy string
		want     []float32
	}{
		{"mono", []float32{6136, 6136.5, 1176, 1176.5}},
		{"rank", []float32{32089, 32089.5}},
	} {
		cfg := t5Config(t, "")
		w := hf.NewWeights()
		shared := make([]float32, 32128*2)
		for r := 0; r < 32128; r++ {
			shared[2*r], shared[2*r+1] = float32(r), float32(r)+0.5
		}
		w.Add(&hf.Tensor{Name: "shared.weight", Shape: []int{32128, 2}, DType: "F32", F32: shared}, "/m/model.safetensors")
		o, _ := Preset(Mono, 2)
		o.ScoringStrategy = c.strategy
		scale, err := t5Mono(o, cfg, w)
		if err != nil {
			t.Fatal(err)
		}
		lin := w.Lookup(monoLinear + "weight")
		if scale != 1/1.4142135623730951 || lin == nil || len(lin.F32) != len(c.want) {
			t.Fatalf("%s: scale %v, linear %v", c.strategy, scale, lin)
		}
		for i, v := range c.want {
			if lin.F32[i] != v {
				t.Errorf("%s: linear.weight %v, want %v", c.strategy, lin.F32, c.want)
				break
			}
		}
	}
	small, _ := hf.ParseConfig("/m/config.json", []byte(`{"model_type":"t5","vocab_size":100,"d_model":2,"num_heads":1}`))
	w := hf.NewWeights()
	w.Add(&hf.Tensor{Name: "shared.weight", Shape: []int{100, 2}, DType: "F32", F32: make([]float32, 200)}, "/m/model.safetensors")
	o, _ := Preset(Mono, 2)
	if _, err := t5Mono(o, small, w); err == nil || !strings.Contains(err.Error(), "beyond its 100 rows") {
		t.Errorf("error %v, want the rows beyond the embeddings", err)
	}
}

// TestT5InitMissing: putting mono on a castorini checkpoint for training
// (InitMissing, which fit always runs) starts from monoT5's rows of the
// shared embeddings, not from a random scorer.
func TestT5InitMissing(t *testing.T) {
	c := t5Config(t, "")
	w := hf.NewWeights()
	shared := make([]float32, 32128*2)
	for i := range shared {
		shared[i] = float32(i)
	}
	w.Add(&hf.Tensor{Name: "shared.weight", Shape: []int{32128, 2}, DType: "F32", F32: shared}, "/m/model.safetensors")
	o, err := Resolve("/m", c, Mono)
	if err != nil {
		t.Fatal(err)
	}
	if err := InitMissing(o, c, w, 1); err != nil {
		t.Fatal(err)
	}
	lin := w.Lookup(monoLinear + "weight")
	if lin == nil || len(lin.F32) != 4 || lin.F32[0] != 2*6136 || lin.F32[2] != 2*1176 {
		t.Errorf("linear.weight %v, want rows 6136 and 1176 of shared.weight", lin)
	}
}
