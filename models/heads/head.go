package heads

import (
	"context"
	"fmt"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/backbone"
	"github.com/irflow/irflow/models/hf"
)

// Head holds a head's weights in libtorch memory. Call Free when done.
type Head struct {
	Opts Options

	projW, projB *torch.Tensor // linear projection
	// MLM head (SPLADE): transform dense → activation → LayerNorm → decoder.
	mlmDenseW, mlmDenseB, mlmLNW, mlmLNB, mlmDecW, mlmDecB *torch.Tensor
	mlmAct                                                 string
	mlmEps                                                 float64
	distilMLM                                              bool // DistilBERT's vocab_* names
	robertaMLM                                             bool // RoBERTa's lm_head.* names
	modernMLM                                              bool // ModernBERT's head.*, decoder.* names
	tied                                                   bool // mlmDecW is the backbone's word embeddings (TieDecoder)
	// Cross-encoder: optional BERT pooler (dense + tanh), then the scorer.
	poolW, poolB, linW, linB *torch.Tensor
	scale                    float64 // ScaleLinear's input scale (mono on T5, t5.go); 0: none

	coil *coilWeights // COIL / UniCOIL projections (coil.go)

	all []*torch.Tensor
}

// Tensor names of the head weights as Lightning IR saves them, and the
// names transformers task models use for the same weights.
const (
	projectionPrefix = "projection."
	monoLinear       = "linear."
	monoBertPool     = "bert_pool.0."
)

// Load copies the head weights from w into libtorch. It accepts Lightning
// IR's names (projection.*, linear.*, bert_pool.0.*) and those of
// transformers task models (cls.predictions.*, vocab_*, classifier.*,
// bert.pooler.dense.*); an MLM decoder without its own weight is tied to
// the word embeddings. Missing or mis-shaped weights are errors naming the
// tensor and file.
func Load(ctx context.Context, rt *torch.Runtime, o Options, c *hf.Config, w *hf.Weights) (*Head, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	h := &Head{Opts: o}
	scale, t5Err := t5Mono(o, c, w)
	if t5Err != nil {
		return nil, t5Err
	}
	h.scale = scale
	H := c.HiddenSize
	type want struct {
		dst *(*torch.Tensor)
		t   *hf.Tensor
	}
	var wants []want
	get := func(dst **torch.Tensor, shape []int, names ...string) error {
		for _, n := range names {
			if stored, ok := backbone.StoredName(w, n); ok {
				t, err := w.Get(stored, shape...)
				if err != nil {
					return err
				}
				wants = append(wants, want{dst, t})
				return nil
			}
		}
		_, err := w.Get(names[0], shape...) // the missing-tensor error names the preferred name
		return err
	}
	var err error
	switch {
	case o.Architecture == Coil || o.Architecture == UniCoil:
		if err = h.loadCoil(get, H); err != nil {
			return nil, err
		}
	case o.IsCrossEncoder():
		out := 1
		if o.ScoringStrategy == "mono" {
			out = 2
		}
		if o.Pooling == "bert_pool" {
			if err = get(&h.poolW, []int{H, H}, monoBertPool+"weight", "bert.pooler.dense.weight", "pooler.dense.weight"); err != nil {
				return nil, err
			}
			if err = get(&h.poolB, []int{H}, monoBertPool+"bias", "bert.pooler.dense.bias", "pooler.dense.bias"); err != nil {
				return nil, err
			}
		}
		if err = get(&h.linW, []int{out, H}, monoLinear+"weight", "classifier.weight"); err != nil {
			return nil, err
		}
		if o.LinearBias {
			if err = get(&h.linB, []int{out}, monoLinear+"bias", "classifier.bias"); err != nil {
				return nil, err
			}
		}
	case o.Projection == "linear" || o.Projection == "linear_no_bias":
		if err = get(&h.projW, []int{o.EmbeddingDim, H}, projectionPrefix+"weight"); err != nil {
			return nil, err
		}
		if o.Projection == "linear" {
			if err = get(&h.projB, []int{o.EmbeddingDim}, projectionPrefix+"bias"); err != nil {
				return nil, err
			}
		}
	case o.Projection == "mlm":
		if err = h.loadMLM(c, w, get); err != nil {
			return nil, err
		}
	}
	err = rt.Do(ctx, func(s *torch.Scope) error {
		for _, wt := range wants {
			t, err := backbone.ToTorch(s, wt.t)
			if err != nil {
				return err
			}
			if err := s.Keep(t); err != nil {
				return err
			}
			*wt.dst = t
			h.all = append(h.all, t)
		}
		return nil
	})
	if err != nil {
		h.Free()
		return nil, err
	}
	return h, nil
}

// loadMLM finds the masked-language-model head: Lightning IR's
// projection.* or the task model's cls.predictions.* (BERT) /
// vocab_* (DistilBERT) / lm_head.* (RoBERTa) / head.*, decoder.*
// (ModernBERT). A decoder without its own weight is tied to the word
// embeddings, as in transformers.
func (h *Head) loadMLM(c *hf.Config, w *hf.Weights, get func(**torch.Tensor, []int, ...string) error) error {
	H, V := c.HiddenSize, c.VocabSize
	h.mlmEps = c.LayerNormEps
	h.mlmAct = c.HiddenAct
	prefix := backbone.Prefix(c, w)
	switch c.Backbone() {
	case "bert":
		names := func(n string) []string { return []string{projectionPrefix + n, "cls." + n} }
		steps := []struct {
			dst   **torch.Tensor
			shape []int
			name  string
		}{
			{&h.mlmDenseW, []int{H, H}, "predictions.transform.dense.weight"},
			{&h.mlmDenseB, []int{H}, "predictions.transform.dense.bias"},
			{&h.mlmLNW, []int{H}, "predictions.transform.LayerNorm.weight"},
			{&h.mlmLNB, []int{H}, "predictions.transform.LayerNorm.bias"},
		}
		for _, st := range steps {
			if err := get(st.dst, st.shape, names(st.name)...); err != nil {
				return err
			}
		}
		dec := append(names("predictions.decoder.weight"), prefix+"embeddings.word_embeddings.weight")
		if err := get(&h.mlmDecW, []int{V, H}, dec...); err != nil {
			return err
		}
		return get(&h.mlmDecB, []int{V}, append(names("predictions.decoder.bias"), names("predictions.bias")...)...)
	case "distilbert":
		h.distilMLM = true
		h.mlmEps = 1e-12
		h.mlmAct = c.String("activation", "gelu")
		for _, st := range []struct {
			dst   **torch.Tensor
			shape []int
			name  string
		}{
			{&h.mlmDenseW, []int{H, H}, "vocab_transform.weight"},
			{&h.mlmDenseB, []int{H}, "vocab_transform.bias"},
			{&h.mlmLNW, []int{H}, "vocab_layer_norm.weight"},
			{&h.mlmLNB, []int{H}, "vocab_layer_norm.bias"},
			{&h.mlmDecB, []int{V}, "vocab_projector.bias"},
		} {
			if err := get(st.dst, st.shape, projectionPrefix+st.name, st.name); err != nil {
				return err
			}
		}
		return get(&h.mlmDecW, []int{V, H}, projectionPrefix+"vocab_projector.weight", "vocab_projector.weight", prefix+"embeddings.word_embeddings.weight")
	case "roberta", "xlm-roberta":
		// RobertaLMHead: dense → gelu (always: it ignores hidden_act) →
		// layer_norm → decoder, whose bias is lm_head.bias. Lightning IR
		// 0.0.6 has no RoBERTa MLM head; irflow saves it under projection.*
		// as its BERT mapping (cls → projection) would.
		h.robertaMLM = true
		h.mlmAct = "gelu"
		names := func(n string) []string { return []string{projectionPrefix + n, "lm_head." + n} }
		for _, st := range []struct {
			dst   **torch.Tensor
			shape []int
			name  string
		}{
			{&h.mlmDenseW, []int{H, H}, "dense.weight"},
			{&h.mlmDenseB, []int{H}, "dense.bias"},
			{&h.mlmLNW, []int{H}, "layer_norm.weight"},
			{&h.mlmLNB, []int{H}, "layer_norm.bias"},
		} {
			if err := get(st.dst, st.shape, names(st.name)...); err != nil {
				return err
			}
		}
		if err := get(&h.mlmDecW, []int{V, H}, append(names("decoder.weight"), prefix+"embeddings.word_embeddings.weight")...); err != nil {
			return err
		}
		return get(&h.mlmDecB, []int{V}, append(names("bias"), names("decoder.bias")...)...)
	case "modernbert":
		// ModernBertForMaskedLM: head.dense (classifier_bias) →
		// classifier_activation → head.norm (norm_bias) → decoder (tied,
		// decoder_bias). Saved under projection.* like RoBERTa's.
		h.modernMLM = true
		h.mlmAct = c.String("classifier_activation", "gelu")
		if h.mlmAct != "gelu" && h.mlmAct != "relu" {
			return fmt.Errorf("%s: unsupported classifier_activation %q (irflow runs gelu and relu)", c.Path, h.mlmAct)
		}
		names := func(n string) []string { return []string{projectionPrefix + n, n} }
		if err := get(&h.mlmDenseW, []int{H, H}, names("head.dense.weight")...); err != nil {
			return err
		}
		if c.Bool("classifier_bias", false) {
			if err := get(&h.mlmDenseB, []int{H}, names("head.dense.bias")...); err != nil {
				return err
			}
		}
		if err := get(&h.mlmLNW, []int{H}, names("head.norm.weight")...); err != nil {
			return err
		}
		if c.Bool("norm_bias", false) {
			if err := get(&h.mlmLNB, []int{H}, names("head.norm.bias")...); err != nil {
				return err
			}
		}
		if err := get(&h.mlmDecW, []int{V, H}, append(names("decoder.weight"), prefix+"embeddings.tok_embeddings.weight")...); err != nil {
			return err
		}
		if c.Bool("decoder_bias", true) {
			return get(&h.mlmDecB, []int{V}, names("decoder.bias")...)
		}
		return nil
	}
	return fmt.Errorf("%s: SPLADE's MLM head is not supported for %s backbones (bert, distilbert, roberta, xlm-roberta, modernbert)", c.Path, c.Backbone())
}

// Free releases the weights.
func (h *Head) Free() {
	for _, t := range h.all {
		t.Free()
	}
	h.all = nil
}

// Embed turns the backbone's last hidden state [B L H] into embeddings:
// [B 1 D] for single-vector heads, [B L D] for multi-vector heads. mask is
// the attention mask [B L] (int64). Lightning IR's order: an MLM projection
// works per token, so it comes before sparsification and pooling; a linear
// projection comes after pooling; normalization is last.
func (h *Head) Embed(s *torch.Scope, hidden, mask *torch.Tensor, query bool) (*torch.Tensor, error) {
	o := h.Opts
	if o.Architecture == Coil || o.Architecture == UniCoil {
		return nil, fmt.Errorf("head %s: embeddings need the input ids (CoilEmbed, TokenWeights)", o.Architecture)
	}
	pooling := o.DocPooling
	if query {
		pooling = o.QueryPooling
	}
	x := hidden
	var err error
	if o.Projection == "mlm" {
		if x, err = h.mlm(s, x); err != nil {
			return nil, err
		}
		// Every sparsification is monotone non-decreasing, so it commutes
		// with max pooling: pooling first applies it to [B 1 V] instead of
		// the vocabulary-sized [B L V] (SPLADE's dominant cost after the
		// decoder), with the same result.
		if pooling == "max" {
			if x, err = Pool(s, x, mask, pooling); err != nil {
				return nil, err
			}
			if x, err = sparsify(s, x, o.Sparsification); err != nil {
				return nil, err
			}
		} else {
			if x, err = sparsify(s, x, o.Sparsification); err != nil {
				return nil, err
			}
			if x, err = Pool(s, x, mask, pooling); err != nil {
				return nil, err
			}
		}
	} else {
		if x, err = h.pool(s, x, mask, pooling); err != nil {
			return nil, err
		}
		if h.projW != nil {
			if x, err = s.Linear(x, h.projW, h.projB); err != nil {
				return nil, err
			}
		}
		if x, err = sparsify(s, x, o.Sparsification); err != nil {
			return nil, err
		}
	}
	if o.Normalization == "l2" {
		return normalize(s, x)
	}
	return x, nil
}

func (h *Head) mlm(s *torch.Scope, x *torch.Tensor) (*torch.Tensor, error) {
	x, err := s.Linear(x, h.mlmDenseW, h.mlmDenseB)
	if err != nil {
		return nil, err
	}
	if h.mlmAct == "relu" {
		x, err = s.ReLU(x)
	} else {
		x, err = s.GELU(x)
	}
	if err != nil {
		return nil, err
	}
	H := h.mlmLNW.Shape()[0]
	if x, err = s.LayerNorm(x, []int64{H}, h.mlmLNW, h.mlmLNB, h.mlmEps); err != nil {
		return nil, err
	}
	return s.Linear(x, h.mlmDecW, h.mlmDecB)
}

// Pool reduces [B L D] over tokens to [B 1 D] ("" keeps every token).
// Padded positions are excluded as in Lightning IR's Pooler: mean divides
// by the number of real tokens, max fills padding with −inf.
func Pool(s *torch.Scope, x, mask *torch.Tensor, pooling string) (*torch.Tensor, error) {
	switch pooling {
	case "":
		return x, nil
	case "first":
		return s.Narrow(x, 1, 0, 1)
	case "sum", "mean":
		m, err := s.ToDType(mask, torch.Float32)
		if err != nil {
			return nil, err
		}
		if m, err = s.Unsqueeze(m, -1); err != nil { // [B L 1]
			return nil, err
		}
		xm, err := s.Mul(x, m)
		if err != nil {
			return nil, err
		}
		sum, err := s.Sum(xm, []int64{1}, true)
		if err != nil || pooling == "sum" {
			return sum, err
		}
		n, err := s.Sum(m, []int64{1}, true) // [B 1 1]
		if err != nil {
			return nil, err
		}
		return s.Div(sum, n)
	case "max":
		pad, err := s.EqScalar(mask, 0)
		if err != nil {
			return nil, err
		}
		if pad, err = s.Unsqueeze(pad, -1); err != nil {
			return nil, err
		}
		xm, err := s.MaskedFill(x, pad, negInf)
		if err != nil {
			return nil, err
		}
		return s.Max(xm, 1, true)
	}
	return nil, fmt.Errorf("unknown pooling %q", pooling)
}

func sparsify(s *torch.Scope, x *torch.Tensor, how string) (*torch.Tensor, error) {
	if how == "" {
		return x, nil
	}
	x, err := s.ReLU(x)
	if err != nil || how == "relu" {
		return x, err
	}
	if x, err = s.Log1p(x); err != nil || how == "relu_log" {
		return x, err
	}
	return s.Log1p(x) // relu_2xlog
}

// CrossScore turns the last hidden state of query–document pairs [B L H]
// into one score per pair [B]: pooling (or BERT's pooler on [CLS]), the
// linear scorer, and for the "mono" strategy the log-probability of the
// relevant class.
func (h *Head) CrossScore(s *torch.Scope, hidden, mask *torch.Tensor) (*torch.Tensor, error) {
	if h.Opts.Architecture == SetEncoder {
		return nil, errListwise
	}
	return h.pairScore(s, hidden, mask)
}

// pairScore is CrossScore's computation, which ListwiseScore shares.
func (h *Head) pairScore(s *torch.Scope, hidden, mask *torch.Tensor) (*torch.Tensor, error) {
	o := h.Opts
	pooling := o.Pooling
	if pooling == "bert_pool" {
		pooling = "first"
	}
	x, err := Pool(s, hidden, mask, pooling)
	if err != nil {
		return nil, err
	}
	if h.poolW != nil {
		if x, err = s.Linear(x, h.poolW, h.poolB); err != nil {
			return nil, err
		}
		if x, err = s.Tanh(x); err != nil {
			return nil, err
		}
	}
	if h.scale != 0 {
		if x, err = s.MulScalar(x, h.scale); err != nil {
			return nil, err
		}
	}
	if x, err = s.Linear(x, h.linW, h.linB); err != nil { // [B 1 out]
		return nil, err
	}
	B := hidden.Shape()[0]
	if o.ScoringStrategy == "mono" {
		if x, err = s.View(x, B, 2); err != nil {
			return nil, err
		}
		if x, err = s.LogSoftmax(x, -1); err != nil {
			return nil, err
		}
		return s.Select(x, 1, 1)
	}
	return s.View(x, B)
}

// Cast converts the head's weights to dt (float32 or bfloat16), freeing
// the old ones. A decoder tied to the backbone's embeddings (training) is
// not the head's to convert: Cast refuses it.
func (h *Head) Cast(ctx context.Context, rt *torch.Runtime, dt torch.DType) error {
	slots := []**torch.Tensor{&h.projW, &h.projB, &h.mlmDenseW, &h.mlmDenseB, &h.mlmLNW, &h.mlmLNB,
		&h.mlmDecW, &h.mlmDecB, &h.poolW, &h.poolB, &h.linW, &h.linB}
	slots = append(slots, h.coilSlots()...)
	all, err := backbone.CastWeights(ctx, rt, dt, h.all, slots)
	if err == nil {
		h.all = all
	}
	return err
}
