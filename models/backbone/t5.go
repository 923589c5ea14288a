package backbone

import (
	"fmt"
	"math"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/hf"
)

// T5 (transformers' T5EncoderModel / T5Model) differs from BERT in every
// block: the shared embedding is the only input embedding (no positions,
// no token types, no embedding norm); positions enter as a learned bias on
// the attention scores, looked up by bucketed relative distance (the
// first layer of each stack owns the table; the encoder's buckets tell
// left from right, the decoder's only look back); attention scores are not
// scaled by 1/√d_kv; the layers are pre-norm with T5's RMS norm (no mean
// subtraction, no bias); the feed-forward block is wi → ReLU → wo (t5,
// "relu") or GELU(wi_0)·wi_1 → wo (t5-v1.1 and flan, "gated-gelu", with
// transformers' tanh-approximated gelu_new); a final RMS norm ends each
// stack.
//
// A config with is_encoder_decoder (T5's default: T5Model, what Lightning
// IR's monoT5/RankT5 run) also loads the decoder, and Forward returns the
// decoder's last hidden state [B 1 H] for the single start token 0 that
// Lightning IR's MonoModel feeds it: one step of causal self-attention
// over that one position (its relative bias at distance 0), then
// cross-attention over the encoder output with the padding mask.
// is_encoder_decoder false (T5EncoderModel, as a Lightning IR bi-encoder
// such as XTR saves it) returns the encoder's.

// t5Net holds T5's layout and its weights; the shared embedding is the
// Encoder's wordEmb.
type t5Net struct {
	gated            bool   // wi_0, wi_1 fused in wi: act(first half) · second half
	act              string // "relu" or "gelu_new"
	heads, dkv       int
	buckets, maxDist int
	relBias          *torch.Tensor // [buckets heads], the encoder's first layer
	decRelBias       *torch.Tensor // the decoder's first layer's
	enc, dec         []t5Block
	encNorm, decNorm *torch.Tensor
}

// t5Block is one T5 layer.
type t5Block struct {
	attnNorm, qkv, o              *torch.Tensor // qkv: q, k, v fused
	crossNorm, crossQ, kv, crossO *torch.Tensor // decoder: EncDecAttention (k, v fused)
	ffNorm, wi, wo                *torch.Tensor
}

func init() {
	Supported = append(Supported, "t5")
	archNames["t5"] = names{word: "shared"}
}

// IsEncoderDecoder reports whether the config's backbone runs an encoder
// and a decoder (T5 with is_encoder_decoder, T5's default): Forward then
// returns the decoder's state for the start token, which only
// cross-encoders use.
func IsEncoderDecoder(c *hf.Config) bool {
	return c.Backbone() == "t5" && c.Bool("is_encoder_decoder", true)
}

// t5FeedForward maps feed_forward_proj to the activation and gating
// transformers' T5Config derives from it.
func t5FeedForward(c *hf.Config) (act string, gated bool, err error) {
	switch p := c.String("feed_forward_proj", "relu"); p {
	case "relu":
		return "relu", false, nil
	case "gated-relu":
		return "relu", true, nil
	case "gated-gelu":
		return "gelu_new", true, nil
	default:
		return "", false, fmt.Errorf("%s: unsupported feed_forward_proj %q (irflow runs relu, gated-relu and gated-gelu)", c.Path, p)
	}
}

// checkT5 refuses T5 configs irflow does not compute.
func checkT5(c *hf.Config) error {
	if _, _, err := t5FeedForward(c); err != nil {
		return err
	}
	for _, f := range []string{"d_kv", "relative_attention_num_buckets", "relative_attention_max_distance"} {
		if c.Has(f) && c.Int(f, 0) < 1 {
			return fmt.Errorf("%s: %s %d must be at least 1", c.Path, f, c.Int(f, 0))
		}
	}
	if n := c.Int("relative_attention_num_buckets", 32); n < 4 {
		return fmt.Errorf("%s: relative_attention_num_buckets %d is too few (T5 halves it per direction and again for exact distances)", c.Path, n)
	}
	return nil
}

// t5Weights lists T5's tensors: the shared embedding in wordEmb, per
// layer the attention's q, k, v fused into one projection, the
// cross-attention's k and v fused, wi_0 and wi_1 fused for the gated
// feed-forward.
func (e *Encoder) t5Weights(c *hf.Config, get func(string, ...int) *hf.Tensor, add func(**torch.Tensor, ...*hf.Tensor)) {
	H, I, V := c.HiddenSize, c.IntermediateSize, c.VocabSize
	t := &t5Net{
		heads:   c.NumAttentionHeads,
		dkv:     c.Int("d_kv", H/c.NumAttentionHeads),
		buckets: c.Int("relative_attention_num_buckets", 32),
		maxDist: c.Int("relative_attention_max_distance", 128),
	}
	t.act, t.gated, _ = t5FeedForward(c)
	e.t5 = t
	in := t.heads * t.dkv
	add(&e.wordEmb, get("shared.weight", V, H))
	add(&t.relBias, get("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", t.buckets, t.heads))
	ff := func(b *t5Block, p string) {
		add(&b.ffNorm, get(p+"layer_norm.weight", H))
		if t.gated {
			add(&b.wi, get(p+"DenseReluDense.wi_0.weight", I, H), get(p+"DenseReluDense.wi_1.weight", I, H))
		} else {
			add(&b.wi, get(p+"DenseReluDense.wi.weight", I, H))
		}
		add(&b.wo, get(p+"DenseReluDense.wo.weight", H, I))
	}
	self := func(b *t5Block, p string) {
		a := p + "0.SelfAttention."
		add(&b.attnNorm, get(p+"0.layer_norm.weight", H))
		add(&b.qkv, get(a+"q.weight", in, H), get(a+"k.weight", in, H), get(a+"v.weight", in, H))
		add(&b.o, get(a+"o.weight", H, in))
	}
	t.enc = make([]t5Block, c.NumHiddenLayers)
	for i := range t.enc {
		b := &t.enc[i]
		p := fmt.Sprintf("encoder.block.%d.layer.", i)
		self(b, p)
		ff(b, p+"1.")
	}
	add(&t.encNorm, get("encoder.final_layer_norm.weight", H))
	if !IsEncoderDecoder(c) {
		return
	}
	add(&t.decRelBias, get("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", t.buckets, t.heads))
	t.dec = make([]t5Block, c.Int("num_decoder_layers", c.NumHiddenLayers))
	for i := range t.dec {
		b := &t.dec[i]
		p := fmt.Sprintf("decoder.block.%d.layer.", i)
		self(b, p)
		x := p + "1.EncDecAttention."
		add(&b.crossNorm, get(p+"1.layer_norm.weight", H))
		add(&b.crossQ, get(x+"q.weight", in, H))
		add(&b.kv, get(x+"k.weight", in, H), get(x+"v.weight", in, H))
		add(&b.crossO, get(x+"o.weight", H, in))
		ff(b, p+"2.")
	}
	add(&t.decNorm, get("decoder.final_layer_norm.weight", H))
}

// slots are T5's weight fields, for Cast.
func (t *t5Net) slots() []**torch.Tensor {
	out := []**torch.Tensor{&t.relBias, &t.decRelBias, &t.encNorm, &t.decNorm}
	for _, blocks := range [][]t5Block{t.enc, t.dec} {
		for i := range blocks {
			b := &blocks[i]
			out = append(out, &b.attnNorm, &b.qkv, &b.o, &b.crossNorm, &b.crossQ, &b.kv, &b.crossO, &b.ffNorm, &b.wi, &b.wo)
		}
	}
	return out
}

// t5Bucket is transformers' T5Attention._relative_position_bucket for one
// relative position (key − query), with its float32 arithmetic: half the
// buckets (per direction when bidirectional) hold exact distances, the
// rest log-spaced distances up to maxDist, beyond which all share the last.
func t5Bucket(rel, buckets, maxDist int, bidirectional bool) int {
	ret := 0
	if bidirectional {
		buckets /= 2
		if rel > 0 {
			ret += buckets
		}
		rel = max(rel, -rel)
	} else {
		rel = -min(rel, 0)
	}
	exact := buckets / 2
	if rel < exact {
		return ret + rel
	}
	l := float32(math.Log(float64(float32(rel) / float32(exact))))
	l = l / float32(math.Log(float64(maxDist)/float64(exact))) * float32(buckets-exact)
	return ret + min(exact+int(l), buckets-1)
}

// t5Forward runs the encoder, and the decoder's first step when loaded.
func (e *Encoder) t5Forward(s *torch.Scope, ids, mask *torch.Tensor) (*torch.Tensor, error) {
	shape := ids.Shape()
	if len(shape) != 2 {
		return nil, fmt.Errorf("backbone: input ids have shape %v, want [batch seq]", shape)
	}
	t := e.t5
	B, L := shape[0], shape[1]
	var x, pad, bias *torch.Tensor
	err := s.Nested(func(s *torch.Scope) error {
		var err error
		if x, err = s.Embedding(e.wordEmb, ids); err != nil {
			return err
		}
		if x, err = e.dropout(s, x, e.dropHidden); err != nil {
			return err
		}
		if pad, err = paddingBias(s, mask, x.DType(), B, L); err != nil {
			return err
		}
		// Relative position bias [1 nh L L] from the bucket of every
		// (query, key) pair, plus the padding bias: [B nh L L].
		idx := make([]int64, L*L)
		for i := int64(0); i < L; i++ {
			for j := int64(0); j < L; j++ {
				idx[i*L+j] = int64(t5Bucket(int(j-i), t.buckets, t.maxDist, true))
			}
		}
		it, err := s.FromInt64(idx, L, L)
		if err != nil {
			return err
		}
		pb, err := s.Embedding(t.relBias, it) // [L L nh]
		if err != nil {
			return err
		}
		if pb, err = s.Permute(pb, 2, 0, 1); err != nil {
			return err
		}
		if pb, err = s.Unsqueeze(pb, 0); err != nil {
			return err
		}
		if bias, err = s.Add(pb, pad); err != nil {
			return err
		}
		return s.Keep(x, pad, bias)
	})
	if err != nil {
		return nil, err
	}
	for i := range t.enc {
		if x, err = e.t5Step(s, func(s *torch.Scope) (*torch.Tensor, error) {
			return e.t5SelfBlock(s, &t.enc[i], x, bias, B, L)
		}, x); err != nil {
			return nil, fmt.Errorf("backbone: encoder layer %d: %w", i, err)
		}
	}
	s.Free(bias)
	if x, err = e.t5Step(s, func(s *torch.Scope) (*torch.Tensor, error) {
		y, err := t5Norm(s, x, t.encNorm, e.Config.LayerNormEps)
		if err != nil {
			return nil, err
		}
		return e.dropout(s, y, e.dropHidden)
	}, x); err != nil {
		return nil, err
	}
	if t.dec == nil {
		s.Free(pad)
		return x, nil
	}
	// The decoder's input: the start token 0 for every row, [B 1 H]; its
	// self-attention bias: the bucket of distance 0, [1 nh 1 1].
	var y, self *torch.Tensor
	if self, err = e.t5Step(s, func(s *torch.Scope) (*torch.Tensor, error) {
		it, err := s.FromInt64([]int64{int64(t5Bucket(0, t.buckets, t.maxDist, false))}, 1, 1)
		if err != nil {
			return nil, err
		}
		pb, err := s.Embedding(t.decRelBias, it) // [1 1 nh]
		if err != nil {
			return nil, err
		}
		if pb, err = s.Permute(pb, 2, 0, 1); err != nil {
			return nil, err
		}
		return s.Unsqueeze(pb, 0)
	}, nil); err != nil {
		return nil, err
	}
	if y, err = e.t5Step(s, func(s *torch.Scope) (*torch.Tensor, error) {
		start, err := s.FromInt64(make([]int64, B), B, 1)
		if err != nil {
			return nil, err
		}
		y, err := s.Embedding(e.wordEmb, start)
		if err != nil {
			return nil, err
		}
		return e.dropout(s, y, e.dropHidden)
	}, nil); err != nil {
		return nil, err
	}
	for i := range t.dec {
		if y, err = e.t5Step(s, func(s *torch.Scope) (*torch.Tensor, error) {
			return e.t5DecoderBlock(s, &t.dec[i], y, x, self, pad, B, L)
		}, y); err != nil {
			return nil, fmt.Errorf("backbone: decoder layer %d: %w", i, err)
		}
	}
	s.Free(x, self, pad)
	return e.t5Step(s, func(s *torch.Scope) (*torch.Tensor, error) {
		z, err := t5Norm(s, y, t.decNorm, e.Config.LayerNormEps)
		if err != nil {
			return nil, err
		}
		return e.dropout(s, z, e.dropHidden)
	}, y)
}

// t5Step runs fn in a nested scope, keeps its result and frees prev.
func (e *Encoder) t5Step(s *torch.Scope, fn func(s *torch.Scope) (*torch.Tensor, error), prev *torch.Tensor) (*torch.Tensor, error) {
	var out *torch.Tensor
	err := s.Nested(func(s *torch.Scope) error {
		y, err := fn(s)
		if err != nil {
			return err
		}
		out = y
		return s.Keep(y)
	})
	if err != nil {
		return nil, err
	}
	if prev != nil {
		s.Free(prev)
	}
	return out, nil
}

// paddingBias is (1 − mask)·lowest as [B 1 1 L] in dt, as Forward builds it.
func paddingBias(s *torch.Scope, mask *torch.Tensor, dt torch.DType, B, L int64) (*torch.Tensor, error) {
	low := maskBias(dt)
	m, err := s.ToDType(mask, torch.Float32)
	if err != nil {
		return nil, err
	}
	if m, err = s.MulScalar(m, -low); err != nil {
		return nil, err
	}
	if m, err = s.AddScalar(m, low); err != nil {
		return nil, err
	}
	if dt != torch.Float32 {
		if m, err = s.ToDType(m, dt); err != nil {
			return nil, err
		}
	}
	return s.View(m, B, 1, 1, L)
}

// t5Norm is T5LayerNorm: x / √(mean(x²) + eps) · weight, the mean taken in
// fp32 and the normalised x cast back to the weight's type before the
// product, as transformers does.
func t5Norm(s *torch.Scope, x, w *torch.Tensor, eps float64) (*torch.Tensor, error) {
	dt := x.DType()
	var err error
	if dt != torch.Float32 {
		if x, err = s.ToDType(x, torch.Float32); err != nil {
			return nil, err
		}
	}
	sq, err := s.Mul(x, x)
	if err != nil {
		return nil, err
	}
	v, err := s.Mean(sq, []int64{-1}, true)
	if err != nil {
		return nil, err
	}
	if v, err = s.AddScalar(v, eps); err != nil {
		return nil, err
	}
	if v, err = s.Sqrt(v); err != nil {
		return nil, err
	}
	if v, err = s.Reciprocal(v); err != nil {
		return nil, err
	}
	if x, err = s.Mul(x, v); err != nil {
		return nil, err
	}
	if w.DType() != torch.Float32 {
		if x, err = s.ToDType(x, w.DType()); err != nil {
			return nil, err
		}
	}
	return s.Mul(x, w)
}

// split divides [B L nh·dkv] into heads, [B nh L dkv].
func (t *t5Net) split(s *torch.Scope, x *torch.Tensor, B, L int64) (*torch.Tensor, error) {
	x, err := s.View(x, B, L, int64(t.heads), int64(t.dkv))
	if err != nil {
		return nil, err
	}
	return s.Permute(x, 0, 2, 1, 3)
}

// t5SelfBlock is an encoder layer: self-attention, then the feed-forward
// block.
func (e *Encoder) t5SelfBlock(s *torch.Scope, b *t5Block, x, bias *torch.Tensor, B, L int64) (*torch.Tensor, error) {
	x, err := e.t5SelfAttention(s, b, x, bias, B, L)
	if err != nil {
		return nil, err
	}
	return e.t5FF(s, b, x)
}

// t5SelfAttention is x + o·attention(q, k, v of norm(x)) with the position
// and padding bias.
func (e *Encoder) t5SelfAttention(s *torch.Scope, b *t5Block, x, bias *torch.Tensor, B, L int64) (*torch.Tensor, error) {
	t := e.t5
	h, err := t5Norm(s, x, b.attnNorm, e.Config.LayerNormEps)
	if err != nil {
		return nil, err
	}
	qkv, err := s.Linear(h, b.qkv, nil) // [B L 3·nh·dkv]
	if err != nil {
		return nil, err
	}
	if qkv, err = s.View(qkv, B, L, 3, int64(t.heads), int64(t.dkv)); err != nil {
		return nil, err
	}
	if qkv, err = s.Permute(qkv, 2, 0, 3, 1, 4); err != nil { // [3 B nh L dkv]
		return nil, err
	}
	var p [3]*torch.Tensor
	for j := range p {
		if p[j], err = s.Select(qkv, 0, int64(j)); err != nil {
			return nil, err
		}
	}
	ctx, err := e.attendScaled(s, p[0], p[1], p[2], bias, 1, B, L, int64(e.t5.heads*e.t5.dkv))
	if err != nil {
		return nil, err
	}
	return e.t5Residual(s, x, ctx, b.o)
}

// t5Residual is x + dropout(out·oᵀ).
func (e *Encoder) t5Residual(s *torch.Scope, x, out, o *torch.Tensor) (*torch.Tensor, error) {
	y, err := s.Linear(out, o, nil)
	if err != nil {
		return nil, err
	}
	if y, err = e.dropout(s, y, e.dropHidden); err != nil {
		return nil, err
	}
	return s.Add(x, y)
}

// t5FF is x + dropout(wo(dropout(act(wi·norm(x))))), gated:
// act(wi_0·h) · (wi_1·h).
func (e *Encoder) t5FF(s *torch.Scope, b *t5Block, x *torch.Tensor) (*torch.Tensor, error) {
	t := e.t5
	h, err := t5Norm(s, x, b.ffNorm, e.Config.LayerNormEps)
	if err != nil {
		return nil, err
	}
	wi, err := s.Linear(h, b.wi, nil)
	if err != nil {
		return nil, err
	}
	var gate *torch.Tensor
	if t.gated {
		I := wi.Shape()[2] / 2
		if gate, err = s.Narrow(wi, 2, I, I); err != nil {
			return nil, err
		}
		if wi, err = s.Narrow(wi, 2, 0, I); err != nil {
			return nil, err
		}
	}
	if t.act == "relu" {
		wi, err = s.ReLU(wi)
	} else {
		wi, err = geluNew(s, wi)
	}
	if err != nil {
		return nil, err
	}
	if gate != nil {
		if wi, err = s.Mul(wi, gate); err != nil {
			return nil, err
		}
	}
	if wi, err = e.dropout(s, wi, e.dropHidden); err != nil {
		return nil, err
	}
	return e.t5Residual(s, x, wi, b.wo)
}

// geluNew is transformers' NewGELUActivation (T5's "gelu_new"), in its
// order of operations: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
func geluNew(s *torch.Scope, x *torch.Tensor) (*torch.Tensor, error) {
	c, err := s.PowScalar(x, 3)
	if err != nil {
		return nil, err
	}
	if c, err = s.MulScalar(c, 0.044715); err != nil {
		return nil, err
	}
	if c, err = s.Add(x, c); err != nil {
		return nil, err
	}
	if c, err = s.MulScalar(c, math.Sqrt(2/math.Pi)); err != nil {
		return nil, err
	}
	if c, err = s.Tanh(c); err != nil {
		return nil, err
	}
	if c, err = s.AddScalar(c, 1); err != nil {
		return nil, err
	}
	h, err := s.MulScalar(x, 0.5)
	if err != nil {
		return nil, err
	}
	return s.Mul(h, c)
}

// t5DecoderBlock is a decoder layer for the single start position y [B 1
// H]: self-attention over that position (bias self), cross-attention over
// the encoder output enc [B L H] with the padding bias pad, then the
// feed-forward block.
func (e *Encoder) t5DecoderBlock(s *torch.Scope, b *t5Block, y, enc, self, pad *torch.Tensor, B, L int64) (*torch.Tensor, error) {
	t := e.t5
	eps := e.Config.LayerNormEps
	y, err := e.t5SelfAttention(s, b, y, self, B, 1)
	if err != nil {
		return nil, err
	}
	h, err := t5Norm(s, y, b.crossNorm, eps)
	if err != nil {
		return nil, err
	}
	q, err := s.Linear(h, b.crossQ, nil)
	if err != nil {
		return nil, err
	}
	if q, err = t.split(s, q, B, 1); err != nil {
		return nil, err
	}
	kv, err := s.Linear(enc, b.kv, nil) // [B L 2·nh·dkv]
	if err != nil {
		return nil, err
	}
	if kv, err = s.View(kv, B, L, 2, int64(t.heads), int64(t.dkv)); err != nil {
		return nil, err
	}
	if kv, err = s.Permute(kv, 2, 0, 3, 1, 4); err != nil { // [2 B nh L dkv]
		return nil, err
	}
	k, err := s.Select(kv, 0, 0)
	if err != nil {
		return nil, err
	}
	vv, err := s.Select(kv, 0, 1)
	if err != nil {
		return nil, err
	}
	ctx, err := e.attendScaled(s, q, k, vv, pad, 1, B, 1, int64(e.t5.heads*e.t5.dkv))
	if err != nil {
		return nil, err
	}
	if y, err = e.t5Residual(s, y, ctx, b.crossO); err != nil {
		return nil, err
	}
	return e.t5FF(s, b, y)
}
