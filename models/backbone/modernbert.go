package backbone

import (
	"fmt"
	"math"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/hf"
)

// ModernBERT (transformers' ModernBertModel) differs from BERT in every
// block: no position embeddings but rotary ones on queries and keys
// (theta global_rope_theta in global layers, local_rope_theta in the
// others), pre-norm layers (no norm before the first layer's attention),
// a fused Wqkv, a GeGLU feed-forward (Wi gives input and gate, act(input)
// · gate, Wo), biases and norm biases only where the config asks, every
// global_attn_every_n_layers-th layer attending globally and the others
// within local_attention/2 tokens either side, and a final LayerNorm.
// It runs padded, as transformers' eager attention does (no unpadding).

// modern holds ModernBERT's attention layout; nil for the BERT family.
type modern struct {
	globalEvery        int     // layer i is global when i % globalEvery == 0
	window             int     // local layers see keys with |i − j| ≤ window/2
	thetaGlobal, local float64 // rotary bases
}

func init() {
	archNames["modernbert"] = names{word: "embeddings.tok_embeddings"}
	taskPrefix["modernbert"] = "model."
}

// checkModernBERT refuses ModernBERT variants irflow does not compute.
func checkModernBERT(c *hf.Config) error {
	if c.Has("rope_scaling") {
		return fmt.Errorf("%s: unsupported rope_scaling %v (irflow runs ModernBERT's default rotary embeddings)", c.Path, c.Raw["rope_scaling"])
	}
	if n := c.Int("global_attn_every_n_layers", 3); n < 1 {
		return fmt.Errorf("%s: global_attn_every_n_layers %d must be at least 1", c.Path, n)
	}
	if w := c.Int("local_attention", 128); w < 0 {
		return fmt.Errorf("%s: local_attention %d must not be negative", c.Path, w)
	}
	if dh := c.HiddenSize / c.NumAttentionHeads; dh%2 != 0 {
		return fmt.Errorf("%s: head size %d is odd: rotary embeddings need an even one", c.Path, dh)
	}
	return nil
}

// modernWeights lists ModernBERT's tensors in the encoder's slots: the
// token embeddings in wordEmb, embeddings.norm in embLN*, per layer
// attn_norm (absent in layer 0) in ln1*, Wqkv in qkv*, attn.Wo in out*,
// mlp_norm in ln2*, mlp.Wi in inter*, mlp.Wo in ffnOut*, and final_norm in
// finalLN*. Biases exist only as norm_bias, attention_bias and mlp_bias say.
func (e *Encoder) modernWeights(c *hf.Config, get func(string, ...int) *hf.Tensor, add func(**torch.Tensor, ...*hf.Tensor)) {
	H, I, V := c.HiddenSize, c.IntermediateSize, c.VocabSize
	normBias, attnBias, mlpBias := c.Bool("norm_bias", false), c.Bool("attention_bias", false), c.Bool("mlp_bias", false)
	norm := func(w, b **torch.Tensor, name string) {
		add(w, get(name+".weight", H))
		if normBias {
			add(b, get(name+".bias", H))
		}
	}
	linear := func(w, b **torch.Tensor, name string, bias bool, out, in int) {
		add(w, get(name+".weight", out, in))
		if bias {
			add(b, get(name+".bias", out))
		}
	}
	add(&e.wordEmb, get("embeddings.tok_embeddings.weight", V, H))
	norm(&e.embLNW, &e.embLNB, "embeddings.norm")
	e.layers = make([]layer, c.NumHiddenLayers)
	for i := range e.layers {
		l := &e.layers[i]
		p := fmt.Sprintf("layers.%d.", i)
		if i > 0 {
			norm(&l.ln1W, &l.ln1B, p+"attn_norm")
		}
		linear(&l.qkvW, &l.qkvB, p+"attn.Wqkv", attnBias, 3*H, H)
		linear(&l.outW, &l.outB, p+"attn.Wo", attnBias, H, H)
		norm(&l.ln2W, &l.ln2B, p+"mlp_norm")
		linear(&l.interW, &l.interB, p+"mlp.Wi", mlpBias, 2*I, H)
		linear(&l.ffnOutW, &l.ffnOutB, p+"mlp.Wo", mlpBias, H, I)
	}
	norm(&e.finalLNW, &e.finalLNB, "final_norm")
	e.modern = &modern{
		globalEvery: c.Int("global_attn_every_n_layers", 3),
		window:      c.Int("local_attention", 128),
		thetaGlobal: c.Float("global_rope_theta", 160000),
	}
	e.modern.local = e.modern.thetaGlobal
	if c.Has("local_rope_theta") {
		e.modern.local = c.Float("local_rope_theta", 10000)
	}
}

// rotary returns the cos and sin tables [L dh] of positions 0…L-1 as
// transformers' default rope computes them in fp32: inv_freq =
// 1/θ^(2i/dh), angle = inv_freq·position, the dh/2 angles twice.
func rotary(L, dh int, theta float64) (cos, sin []float32) {
	half := dh / 2
	inv := make([]float32, half)
	for i := range inv {
		inv[i] = 1 / float32(math.Pow(theta, float64(float32(2*i)/float32(dh))))
	}
	cos, sin = make([]float32, L*dh), make([]float32, L*dh)
	for p := 0; p < L; p++ {
		for i, f := range inv {
			a := f * float32(p)
			c, s := float32(math.Cos(float64(a))), float32(math.Sin(float64(a)))
			cos[p*dh+i], cos[p*dh+half+i] = c, c
			sin[p*dh+i], sin[p*dh+half+i] = s, s
		}
	}
	return cos, sin
}

// modernInputs are a batch's attention biases and rotary tables, shared by
// the layers.
type modernInputs struct {
	global, local          *torch.Tensor // [B 1 1 L], [B 1 L L]
	cosG, sinG, cosL, sinL *torch.Tensor // [L dh]
}

func (in *modernInputs) all() []*torch.Tensor {
	return []*torch.Tensor{in.global, in.local, in.cosG, in.sinG, in.cosL, in.sinL}
}

// modernPrepare builds the local-window bias (the padding bias where
// |i − j| ≤ window/2, the lowest value elsewhere: transformers'
// masked_fill, so padding and window never add up to −inf) and the
// rotary tables in the activations' type.
func (e *Encoder) modernPrepare(s *torch.Scope, global *torch.Tensor, L int64, dt torch.DType) (*modernInputs, error) {
	in := &modernInputs{global: global}
	low := maskBias(dt)
	n := int(L)
	win := make([]float32, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if d := i - j; d > e.modern.window/2 || -d > e.modern.window/2 {
				win[i*n+j] = float32(low)
			}
		}
	}
	conv := func(v []float32, shape ...int64) (*torch.Tensor, error) {
		t, err := s.FromFloat32(v, shape...)
		if err != nil || dt == torch.Float32 {
			return t, err
		}
		return s.ToDType(t, dt)
	}
	w, err := conv(win, 1, 1, L, L)
	if err != nil {
		return nil, err
	}
	if in.local, err = s.Minimum(global, w); err != nil {
		return nil, err
	}
	dh := e.Config.HiddenSize / e.Config.NumAttentionHeads
	for _, r := range []struct {
		cos, sin **torch.Tensor
		theta    float64
	}{{&in.cosG, &in.sinG, e.modern.thetaGlobal}, {&in.cosL, &in.sinL, e.modern.local}} {
		c, sn := rotary(n, dh, r.theta)
		if *r.cos, err = conv(c, L, int64(dh)); err != nil {
			return nil, err
		}
		if *r.sin, err = conv(sn, L, int64(dh)); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// rope applies rotary embeddings to t [B nh L dh]: t·cos + rotate_half(t)·sin.
func rope(s *torch.Scope, t, cos, sin *torch.Tensor) (*torch.Tensor, error) {
	dh := t.Shape()[3]
	x1, err := s.Narrow(t, 3, 0, dh/2)
	if err != nil {
		return nil, err
	}
	x2, err := s.Narrow(t, 3, dh/2, dh/2)
	if err != nil {
		return nil, err
	}
	if x2, err = s.Neg(x2); err != nil {
		return nil, err
	}
	rot, err := s.Cat([]*torch.Tensor{x2, x1}, 3)
	if err != nil {
		return nil, err
	}
	if rot, err = s.Mul(rot, sin); err != nil {
		return nil, err
	}
	tc, err := s.Mul(t, cos)
	if err != nil {
		return nil, err
	}
	return s.Add(tc, rot)
}

func (e *Encoder) modernLayer(s *torch.Scope, i int, x *torch.Tensor, in *modernInputs, B, L int64) (*torch.Tensor, error) {
	l := &e.layers[i]
	H := int64(e.Config.HiddenSize)
	eps := e.Config.LayerNormEps
	bias, cos, sin := in.global, in.cosG, in.sinG
	if i%e.modern.globalEvery != 0 {
		bias, cos, sin = in.local, in.cosL, in.sinL
	}
	h := x
	var err error
	if l.ln1W != nil {
		if h, err = s.LayerNorm(x, []int64{H}, l.ln1W, l.ln1B, eps); err != nil {
			return nil, err
		}
	}
	q, k, v, err := e.projectQKV(s, h, l.qkvW, l.qkvB, B, L)
	if err != nil {
		return nil, err
	}
	if q, err = rope(s, q, cos, sin); err != nil {
		return nil, err
	}
	if k, err = rope(s, k, cos, sin); err != nil {
		return nil, err
	}
	ctx, err := e.attend(s, q, k, v, bias, B, L)
	if err != nil {
		return nil, err
	}
	attn, err := s.Linear(ctx, l.outW, l.outB)
	if err != nil {
		return nil, err
	}
	if attn, err = e.dropout(s, attn, e.dropAttn); err != nil { // out_drop uses attention_dropout
		return nil, err
	}
	if x, err = s.Add(x, attn); err != nil {
		return nil, err
	}
	m, err := s.LayerNorm(x, []int64{H}, l.ln2W, l.ln2B, eps)
	if err != nil {
		return nil, err
	}
	wi, err := s.Linear(m, l.interW, l.interB) // [B L 2I]
	if err != nil {
		return nil, err
	}
	I := wi.Shape()[2] / 2
	input, err := s.Narrow(wi, 2, 0, I)
	if err != nil {
		return nil, err
	}
	gate, err := s.Narrow(wi, 2, I, I)
	if err != nil {
		return nil, err
	}
	if input, err = e.activation(s, input); err != nil {
		return nil, err
	}
	if input, err = s.Mul(input, gate); err != nil {
		return nil, err
	}
	if input, err = e.dropout(s, input, e.dropHidden); err != nil {
		return nil, err
	}
	out, err := s.Linear(input, l.ffnOutW, l.ffnOutB)
	if err != nil {
		return nil, err
	}
	return s.Add(x, out)
}
