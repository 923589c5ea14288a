package heads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/irflow/irflow/models/backbone"
	"github.com/irflow/irflow/models/hf"
)

// InitMissing adds freshly initialised head weights to w where a head
// needs them and the checkpoint has none (a preset put on a plain
// backbone). It follows torch.nn.Linear's default initialisation, U(±1/√in)
// for weight and bias, from a seeded generator. Only linear projections and
// the cross-encoder scorer can be created; an MLM head cannot.
func InitMissing(o Options, c *hf.Config, w *hf.Weights, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x1f10))
	H := c.HiddenSize
	linear := func(name string, out, in int, bias bool) {
		if w.Has(name + "weight") {
			return
		}
		bound := 1 / math.Sqrt(float64(in))
		u := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32((rng.Float64()*2 - 1) * bound)
			}
			return v
		}
		w.Add(&hf.Tensor{Name: name + "weight", Shape: []int{out, in}, DType: "F32", F32: u(out * in)}, "(initialised)")
		if bias {
			w.Add(&hf.Tensor{Name: name + "bias", Shape: []int{out}, DType: "F32", F32: u(out)}, "(initialised)")
		}
	}
	switch {
	case o.IsCrossEncoder():
		if w.Has("classifier.weight") {
			return nil
		}
		if o.Architecture == Mono && c.Backbone() == "t5" { // castorini's rows of shared.weight, not random ones
			_, err := t5Mono(o, c, w)
			return err
		}
		out := 1
		if o.ScoringStrategy == "mono" {
			out = 2
		}
		if o.Pooling == "bert_pool" && !w.Has("bert.pooler.dense.weight") && !w.Has("pooler.dense.weight") {
			linear(monoBertPool, H, H, true)
		}
		linear(monoLinear, out, H, o.LinearBias)
	case strings.HasPrefix(o.Projection, "linear"):
		linear(projectionPrefix, o.EmbeddingDim, H, o.Projection == "linear")
	case o.Projection == "mlm":
		if !w.Has(projectionPrefix+"predictions.transform.dense.weight") && !w.Has("cls.predictions.transform.dense.weight") &&
			!w.Has("vocab_transform.weight") && !w.Has(projectionPrefix+"vocab_transform.weight") &&
			!w.Has("lm_head.dense.weight") && !w.Has(projectionPrefix+"dense.weight") &&
			!w.Has("head.dense.weight") && !w.Has(projectionPrefix+"head.dense.weight") {
			return fmt.Errorf("%s: SPLADE needs a pre-trained masked-language-model head (cls.predictions.* / vocab_* / lm_head.* / head.*), which the checkpoint lacks", strings.Join(w.Files, ", "))
		}
	}
	return nil
}

// LightningIRTensors returns the weights to save for a model with head o:
// the backbone at the top level (prefix stripped, as transformers saves a
// bare BertModel) and the head under Lightning IR's names (projection.*,
// linear.*, bert_pool.0.*). Task-model weights the head does not use are
// dropped.
func LightningIRTensors(o Options, c *hf.Config, w *hf.Weights) []*hf.Tensor {
	prefix := backbone.Prefix(c, w)
	var out []*hf.Tensor
	seen := map[string]bool{}
	put := func(t *hf.Tensor, name string) {
		if t == nil || seen[name] {
			return
		}
		seen[name] = true
		cp := *t
		cp.Name = name
		out = append(out, &cp)
	}
	headMap := map[string]string{}
	switch {
	case o.IsCrossEncoder():
		for _, p := range []string{"bert.pooler.dense.", "pooler.dense."} {
			headMap[p+"weight"], headMap[p+"bias"] = monoBertPool+"weight", monoBertPool+"bias"
		}
		headMap["classifier.weight"], headMap["classifier.bias"] = monoLinear+"weight", monoLinear+"bias"
	case o.Projection == "mlm":
		for _, n := range w.Names() {
			if rest, ok := strings.CutPrefix(n, "cls."); ok {
				headMap[n] = projectionPrefix + rest
			}
			if rest, ok := strings.CutPrefix(n, "lm_head."); ok && rest != "decoder.bias" { // decoder.bias is lm_head.bias
				headMap[n] = projectionPrefix + rest
			}
			if c.Backbone() == "modernbert" && (strings.HasPrefix(n, "head.") || strings.HasPrefix(n, "decoder.")) {
				headMap[n] = projectionPrefix + n
			}
			for _, d := range []string{"vocab_transform.", "vocab_layer_norm.", "vocab_projector."} {
				if strings.HasPrefix(n, d) {
					headMap[n] = projectionPrefix + n
				}
			}
		}
	}
	for _, n := range w.Names() {
		t := w.Lookup(n)
		switch {
		case headMap[n] != "":
			if o.Pooling == "bert_pool" || !strings.Contains(n, "pooler") {
				put(t, headMap[n])
			}
		case strings.HasPrefix(n, projectionPrefix) || strings.HasPrefix(n, monoLinear) || strings.HasPrefix(n, monoBertPool):
			put(t, n)
		case prefix != "" && strings.HasPrefix(n, prefix):
			if !strings.Contains(n, "pooler.") {
				put(t, strings.TrimPrefix(n, prefix))
			}
		case prefix == "" && !strings.HasPrefix(n, "cls.") && !strings.HasPrefix(n, "classifier.") && !strings.HasPrefix(n, "vocab_") && !strings.HasPrefix(n, "lm_head.") && !strings.HasPrefix(n, "pooler.") &&
			!(c.Backbone() == "modernbert" && (strings.HasPrefix(n, "head.") || strings.HasPrefix(n, "decoder."))) && !strings.HasPrefix(n, "discriminator_predictions."):
			put(t, n)
		}
	}
	// A tied MLM decoder is saved explicitly so the file stands alone.
	if o.Projection == "mlm" && c.Backbone() == "bert" && !seen[projectionPrefix+"predictions.decoder.weight"] {
		put(w.Lookup(prefix+"embeddings.word_embeddings.weight"), projectionPrefix+"predictions.decoder.weight")
	}
	if o.Projection == "mlm" && c.Backbone() == "distilbert" && !seen[projectionPrefix+"vocab_projector.weight"] {
		put(w.Lookup(prefix+"embeddings.word_embeddings.weight"), projectionPrefix+"vocab_projector.weight")
	}
	if o.Projection == "mlm" && backbone.IsRoBERTa(c) && !seen[projectionPrefix+"decoder.weight"] {
		put(w.Lookup(prefix+"embeddings.word_embeddings.weight"), projectionPrefix+"decoder.weight")
	}
	if o.Projection == "mlm" && c.Backbone() == "modernbert" && !seen[projectionPrefix+"decoder.weight"] {
		put(w.Lookup(prefix+"embeddings.tok_embeddings.weight"), projectionPrefix+"decoder.weight")
	}
	return out
}
