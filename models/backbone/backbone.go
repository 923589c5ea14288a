// Package backbone runs BERT-family transformer encoders (BERT, ELECTRA
// discriminator, DistilBERT, RoBERTa and XLM-RoBERTa) on libtorch through
// backends/torch, loading Hugging Face weights read by models/hf. It
// computes what transformers' BertModel / ElectraModel / DistilBertModel /
// RobertaModel / XLMRobertaModel return as last_hidden_state, in fp32, with
// the padding mask added to the attention scores before the softmax so
// that padding never changes the result of a real token.
//
// RoBERTa is BERT's network with other embeddings: position ids count
// the non-padding tokens from padding_idx + 1 (padding itself gets
// padding_idx), so max_position_embeddings is 514 for 512 tokens, and
// there is one token type, which RoBERTa's tokenizers never set.
package backbone

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/hf"
)

// Supported lists the backbone model types this package runs.
var Supported = []string{"bert", "electra", "distilbert", "roberta", "xlm-roberta", "modernbert"}

// Encoder is a loaded backbone. Its weights live in libtorch memory owned
// by the Encoder: call Free when done.
type Encoder struct {
	Config *hf.Config
	arch   string
	act    string
	// RoBERTa's positions: padID ≥ 0 makes Forward number the non-padding
	// tokens padID+1, padID+2, … (transformers'
	// create_position_ids_from_input_ids); -1 numbers every slot from 0.
	padID int64
	// modern is ModernBERT's layout (modernbert.go); nil for the BERT family.
	modern *modern
	// t5 is T5's layout and weights (t5.go); nil for other architectures.
	t5 *t5Net

	wordEmb, posEmb, typeEmb *torch.Tensor
	embLNW, embLNB           *torch.Tensor
	embProjW, embProjB       *torch.Tensor // ELECTRA with embedding_size ≠ hidden_size
	finalLNW, finalLNB       *torch.Tensor // ModernBERT's final_norm
	layers                   []layer
	all                      []*torch.Tensor
	names                    [][]string // per tensor of all: its HF name(s), see Params

	// Dropout probabilities, non-zero only in training (SetTraining).
	dropHidden, dropAttn float64
}

type layer struct {
	qkvW, qkvB       *torch.Tensor // query, key and value fused into one projection
	outW, outB       *torch.Tensor
	ln1W, ln1B       *torch.Tensor
	interW, interB   *torch.Tensor
	ffnOutW, ffnOutB *torch.Tensor
	ln2W, ln2B       *torch.Tensor
}

// names maps the parts of one architecture to its tensor names.
type names struct {
	prefix                                string // "bert.", "electra.", "distilbert." or ""
	word, pos, typ, embLN                 string
	layer                                 string // fmt pattern with the layer index
	q, k, v, out, ln1, inter, ffnOut, ln2 string
}

var archNames = map[string]names{
	"bert": {
		word: "embeddings.word_embeddings", pos: "embeddings.position_embeddings",
		typ: "embeddings.token_type_embeddings", embLN: "embeddings.LayerNorm",
		layer: "encoder.layer.%d.",
		q:     "attention.self.query", k: "attention.self.key", v: "attention.self.value",
		out: "attention.output.dense", ln1: "attention.output.LayerNorm",
		inter: "intermediate.dense", ffnOut: "output.dense", ln2: "output.LayerNorm",
	},
	"distilbert": {
		word: "embeddings.word_embeddings", pos: "embeddings.position_embeddings",
		embLN: "embeddings.LayerNorm", layer: "transformer.layer.%d.",
		q: "attention.q_lin", k: "attention.k_lin", v: "attention.v_lin",
		out: "attention.out_lin", ln1: "sa_layer_norm",
		inter: "ffn.lin1", ffnOut: "ffn.lin2", ln2: "output_layer_norm",
	},
}

func init() {
	for _, a := range []string{"electra", "roberta", "xlm-roberta"} {
		archNames[a] = archNames["bert"]
	}
}

// taskPrefix is the key prefix of the backbone inside a transformers task
// model (base_model_prefix) where it is not the model type followed by a
// dot: XLMRobertaForMaskedLM stores "roberta.embeddings…".
var taskPrefix = map[string]string{"xlm-roberta": "roberta."}

// IsRoBERTa reports whether the config's backbone is RoBERTa's network
// (roberta, xlm-roberta): padding-offset positions, no token types.
func IsRoBERTa(c *hf.Config) bool {
	switch c.Backbone() {
	case "roberta", "xlm-roberta":
		return true
	}
	return false
}

// MaxLength is the longest input (special tokens included) the position
// embeddings cover: max_position_embeddings, less padding_idx + 1 for
// RoBERTa (514 rows hold 512 tokens).
func MaxLength(c *hf.Config) int {
	if IsRoBERTa(c) {
		return c.MaxPositionEmbeddings - c.PadTokenID - 1
	}
	return c.MaxPositionEmbeddings
}

// CheckSupported returns a clear error for an architecture this package
// does not run.
func CheckSupported(c *hf.Config) error {
	arch := c.Backbone()
	if _, ok := archNames[arch]; !ok {
		return fmt.Errorf("%s: unsupported model_type %q (irflow runs %s)", c.Path, arch, strings.Join(Supported, ", "))
	}
	if arch == "t5" {
		return checkT5(c)
	}
	switch c.HiddenAct {
	case "gelu", "relu":
	default:
		return fmt.Errorf("%s: unsupported hidden_act %q (irflow runs gelu and relu)", c.Path, c.HiddenAct)
	}
	if c.PositionEmbeddingType != "absolute" {
		return fmt.Errorf("%s: unsupported position_embedding_type %q (irflow runs absolute)", c.Path, c.PositionEmbeddingType)
	}
	if arch == "modernbert" {
		return checkModernBERT(c)
	}
	if IsRoBERTa(c) && (c.PadTokenID < 0 || MaxLength(c) < 1) {
		return fmt.Errorf("%s: pad_token_id %d leaves no position of max_position_embeddings %d (%s numbers positions from pad_token_id + 1)",
			c.Path, c.PadTokenID, c.MaxPositionEmbeddings, c.Backbone())
	}
	return nil
}

// Prefix returns the key prefix under which a checkpoint stores the
// backbone: "" when the encoder is at the top (BertModel), "bert." etc.
// when it is inside a task model (BertForMaskedLM).
func Prefix(c *hf.Config, w *hf.Weights) string {
	arch := c.Backbone()
	probe := archNames[arch].word + ".weight"
	if w.Has(probe) {
		return ""
	}
	p, ok := taskPrefix[arch]
	if !ok {
		p = arch + "."
	}
	if w.Has(p + probe) {
		return p
	}
	return ""
}

// Load copies the backbone weights into libtorch tensors, checking every
// shape against the config. Errors name the tensor and the file.
func Load(ctx context.Context, rt *torch.Runtime, c *hf.Config, w *hf.Weights) (*Encoder, error) {
	if err := CheckSupported(c); err != nil {
		return nil, err
	}
	arch := c.Backbone()
	n := archNames[arch]
	n.prefix = Prefix(c, w)
	e := &Encoder{Config: c, arch: arch, act: c.HiddenAct, padID: -1}
	if IsRoBERTa(c) {
		e.padID = int64(c.PadTokenID)
	}
	// Collect the Go tensors first, so a missing or mis-shaped tensor is
	// reported before anything is copied into libtorch.
	type want struct {
		dst   **torch.Tensor
		parts []*hf.Tensor // concatenated along dim 0 (fused q/k/v)
	}
	var wants []want
	var firstErr error
	get := func(name string, shape ...int) *hf.Tensor {
		if firstErr != nil {
			return nil
		}
		t, err := lookup(w, n.prefix+name, shape...)
		if err != nil {
			firstErr = err
		}
		return t
	}
	add := func(dst **torch.Tensor, parts ...*hf.Tensor) { wants = append(wants, want{dst, parts}) }

	if arch == "modernbert" {
		e.modernWeights(c, get, add)
	} else if arch == "t5" {
		e.t5Weights(c, get, add)
	} else {
		e.bertWeights(c, n, get, add)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	err := rt.Do(ctx, func(s *torch.Scope) error {
		for _, wt := range wants {
			t, err := ToTorch(s, wt.parts...)
			if err != nil {
				return err
			}
			if err := s.Keep(t); err != nil {
				return err
			}
			*wt.dst = t
			e.all = append(e.all, t)
			e.names = append(e.names, canonicalNames(wt.parts, n.prefix))
		}
		return nil
	})
	if err != nil {
		e.Free()
		return nil, err
	}
	return e, nil
}

// bertWeights lists the tensors of the BERT family (BERT, ELECTRA,
// DistilBERT, RoBERTa) under the architecture's names n.
func (e *Encoder) bertWeights(c *hf.Config, n names, get func(string, ...int) *hf.Tensor, add func(**torch.Tensor, ...*hf.Tensor)) {
	arch := e.arch
	H, E, I := c.HiddenSize, c.EmbeddingSize, c.IntermediateSize
	if arch != "electra" {
		E = H
	}
	add(&e.wordEmb, get(n.word+".weight", c.VocabSize, E))
	add(&e.posEmb, get(n.pos+".weight", c.MaxPositionEmbeddings, E))
	if n.typ != "" && c.TypeVocabSize > 0 {
		add(&e.typeEmb, get(n.typ+".weight", c.TypeVocabSize, E))
	}
	add(&e.embLNW, get(n.embLN+".weight", E))
	add(&e.embLNB, get(n.embLN+".bias", E))
	if arch == "electra" && E != H {
		add(&e.embProjW, get("embeddings_project.weight", H, E))
		add(&e.embProjB, get("embeddings_project.bias", H))
	}
	e.layers = make([]layer, c.NumHiddenLayers)
	for i := range e.layers {
		l := &e.layers[i]
		p := fmt.Sprintf(n.layer, i)
		add(&l.qkvW, get(p+n.q+".weight", H, H), get(p+n.k+".weight", H, H), get(p+n.v+".weight", H, H))
		add(&l.qkvB, get(p+n.q+".bias", H), get(p+n.k+".bias", H), get(p+n.v+".bias", H))
		add(&l.outW, get(p+n.out+".weight", H, H))
		add(&l.outB, get(p+n.out+".bias", H))
		add(&l.ln1W, get(p+n.ln1+".weight", H))
		add(&l.ln1B, get(p+n.ln1+".bias", H))
		add(&l.interW, get(p+n.inter+".weight", I, H))
		add(&l.interB, get(p+n.inter+".bias", I))
		add(&l.ffnOutW, get(p+n.ffnOut+".weight", H, I))
		add(&l.ffnOutB, get(p+n.ffnOut+".bias", H))
		add(&l.ln2W, get(p+n.ln2+".weight", H))
		add(&l.ln2B, get(p+n.ln2+".bias", H))
	}
}

// lookup finds a tensor, accepting the gamma/beta names of old TF-converted
// checkpoints for LayerNorm weight/bias.
func lookup(w *hf.Weights, name string, shape ...int) (*hf.Tensor, error) {
	if stored, ok := StoredName(w, name); ok {
		name = stored
	}
	return w.Get(name, shape...)
}

// StoredName is the name under which w holds the tensor name: name itself,
// or for a LayerNorm weight/bias the gamma/beta spelling of old
// TF-converted checkpoints (which recent transformers still write for
// BERT-Tiny-style models). ok is false when neither is there.
func StoredName(w *hf.Weights, name string) (string, bool) {
	if w.Has(name) {
		return name, true
	}
	old := strings.NewReplacer(".weight", ".gamma", ".bias", ".beta").Replace(name)
	if strings.Contains(name, "LayerNorm") && w.Has(old) {
		return old, true
	}
	return name, false
}

// ToTorch copies one or more Go tensors, concatenated along dim 0, into a
// libtorch float32 tensor of the enclosing scope.
func ToTorch(s *torch.Scope, parts ...*hf.Tensor) (*torch.Tensor, error) {
	if len(parts) == 1 {
		return s.FromFloat32(parts[0].F32, int64s(parts[0].Shape)...)
	}
	var data []float32
	shape := append([]int{}, parts[0].Shape...)
	shape[0] = 0
	for _, p := range parts {
		data = append(data, p.F32...)
		shape[0] += p.Shape[0]
	}
	return s.FromFloat32(data, int64s(shape)...)
}

func int64s(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

// Free releases the weights.
func (e *Encoder) Free() {
	for _, t := range e.all {
		t.Free()
	}
	e.all = nil
}

// HiddenSize is the width of the output vectors.
func (e *Encoder) HiddenSize() int { return e.Config.HiddenSize }

// Forward computes the last hidden state [batch, seq, hidden] for input ids
// and attention mask of shape [batch, seq] (int64); typeIDs may be nil
// (all zero). Intermediates are freed layer by layer.
func (e *Encoder) Forward(s *torch.Scope, ids, typeIDs, mask *torch.Tensor) (*torch.Tensor, error) {
	if e.t5 != nil {
		return e.t5Forward(s, ids, mask)
	}
	return e.forward(s, ids, typeIDs, mask)
}

// InterPassage is the Set-Encoder's extension of self-attention (Lightning
// IR's SetEncoderModel): the batch is one query's candidate list, and
// besides its own tokens every token of passage i attends to the token at
// position Token of every other passage j ≠ i (their hidden states
// entering the layer, through the layer's own key and value projections)
// and to Extra more rows that Sample appends after them. Positions and
// token types stay per passage, so nothing depends on the list's order.
type InterPassage struct {
	// Token is each passage's representative position: 0 ([CLS]) or 1
	// (the [INT] token of add_extra_token).
	Token int64
	// Extra rows from Sample(s, layer, tokens [B H]) → [Extra H] (the
	// Set-Encoder's stand-ins for candidates missing below its depth).
	Extra  int
	Sample func(s *torch.Scope, layer int, tokens *torch.Tensor) (*torch.Tensor, error)
}

// Chunk is a part of a candidate list padded to its own longest input:
// ids, type ids (may be nil) and attention mask [b L].
type Chunk struct{ IDs, TypeIDs, Mask *torch.Tensor }

// ForwardInterPassage computes the last hidden state of one candidate list
// under the Set-Encoder's inter-passage attention ip (BERT and ELECTRA
// layers), the list being the concatenation of chunks. Passages meet only
// through their representative tokens, so every layer first gathers those
// from all chunks and then runs chunk by chunk: chunks of similar lengths
// pad less than one batch of the whole list, with the same result. It
// returns each chunk's hidden state [b L H].
func (e *Encoder) ForwardInterPassage(s *torch.Scope, chunks []Chunk, ip *InterPassage) ([]*torch.Tensor, error) {
	if e.modern != nil || e.t5 != nil || e.arch == "distilbert" || e.padID >= 0 {
		return nil, fmt.Errorf("backbone: inter-passage attention runs on bert and electra layers, not %s", e.arch)
	}
	var B int64
	for _, c := range chunks {
		B += c.IDs.Shape()[0]
	}
	xs := make([]*torch.Tensor, len(chunks))
	biases := make([]*torch.Tensor, len(chunks))
	defer func() { s.Free(biases...) }()
	var off int64
	for c, ch := range chunks {
		shape := ch.IDs.Shape()
		b, L := shape[0], shape[1]
		if n := MaxLength(e.Config); L > int64(n) {
			return nil, fmt.Errorf("backbone: sequence length %d exceeds the %d positions of max_position_embeddings %d", L, n, e.Config.MaxPositionEmbeddings)
		}
		err := s.Nested(func(s *torch.Scope) error {
			x, err := e.embed(s, ch.IDs, ch.TypeIDs, L)
			if err != nil {
				return err
			}
			bias, err := paddingBias(s, ch.Mask, x.DType(), b, L)
			if err != nil {
				return err
			}
			if bias, err = interPassageBias(s, bias, off, b, B, ip.Extra, maskBias(x.DType())); err != nil {
				return err
			}
			xs[c], biases[c] = x, bias
			return s.Keep(x, bias)
		})
		if err != nil {
			return nil, err
		}
		off += b
	}
	for i := range e.layers {
		prev := append([]*torch.Tensor{}, xs...)
		err := s.Nested(func(s *torch.Scope) error {
			ko, vo, err := e.interPassageKV(s, &e.layers[i], i, xs, ip, B)
			if err != nil {
				return err
			}
			for c := range xs {
				err := s.Nested(func(s *torch.Scope) error {
					shape := xs[c].Shape()
					y, err := e.layerForward(s, &e.layers[i], xs[c], biases[c], shape[0], shape[1], ko, vo)
					if err != nil {
						return err
					}
					xs[c] = y
					return s.Keep(y)
				})
				if err != nil {
					return err
				}
			}
			return s.Keep(xs...)
		})
		if err != nil {
			return nil, fmt.Errorf("backbone: layer %d: %w", i, err)
		}
		s.Free(prev...)
	}
	return xs, nil
}

func (e *Encoder) forward(s *torch.Scope, ids, typeIDs, mask *torch.Tensor) (*torch.Tensor, error) {
	shape := ids.Shape()
	if len(shape) != 2 {
		return nil, fmt.Errorf("backbone: input ids have shape %v, want [batch seq]", shape)
	}
	B, L := shape[0], shape[1]
	if n := MaxLength(e.Config); L > int64(n) {
		return nil, fmt.Errorf("backbone: sequence length %d exceeds the %d positions of max_position_embeddings %d", L, n, e.Config.MaxPositionEmbeddings)
	}
	var x, bias *torch.Tensor
	var mi *modernInputs // ModernBERT's biases and rotary tables
	err := s.Nested(func(s *torch.Scope) error {
		var err error
		if x, err = e.embed(s, ids, typeIDs, L); err != nil {
			return err
		}
		if bias, err = paddingBias(s, mask, x.DType(), B, L); err != nil {
			return err
		}
		if e.modern != nil {
			if mi, err = e.modernPrepare(s, bias, L, x.DType()); err != nil {
				return err
			}
			return s.Keep(append(mi.all(), x)...)
		}
		return s.Keep(x, bias)
	})
	if err != nil {
		return nil, err
	}
	for i := range e.layers {
		prev := x
		err := s.Nested(func(s *torch.Scope) error {
			var y *torch.Tensor
			var err error
			if mi != nil {
				y, err = e.modernLayer(s, i, x, mi, B, L)
			} else {
				y, err = e.layerForward(s, &e.layers[i], x, bias, B, L, nil, nil)
			}
			if err != nil {
				return err
			}
			x = y
			return s.Keep(y)
		})
		if err != nil {
			return nil, fmt.Errorf("backbone: layer %d: %w", i, err)
		}
		s.Free(prev)
	}
	if mi != nil {
		s.Free(mi.all()...)
		out, err := s.LayerNorm(x, []int64{int64(e.Config.HiddenSize)}, e.finalLNW, e.finalLNB, e.Config.LayerNormEps)
		if err != nil {
			return nil, err
		}
		s.Free(x)
		return out, nil
	}
	s.Free(bias)
	return x, nil
}

func (e *Encoder) embed(s *torch.Scope, ids, typeIDs *torch.Tensor, L int64) (*torch.Tensor, error) {
	x, err := s.Embedding(e.wordEmb, ids)
	if err != nil {
		return nil, err
	}
	if e.modern != nil { // token embeddings → norm → dropout: positions are rotary
		H := int64(e.Config.HiddenSize)
		if x, err = s.LayerNorm(x, []int64{H}, e.embLNW, e.embLNB, e.Config.LayerNormEps); err != nil {
			return nil, err
		}
		return e.dropout(s, x, e.dropHidden)
	}
	pos, err := e.positions(s, ids, L)
	if err != nil {
		return nil, err
	}
	if x, err = s.Add(x, pos); err != nil {
		return nil, err
	}
	if e.padID >= 0 {
		typeIDs = nil // RoBERTa's tokenizers give no token types: transformers uses type 0
	}
	if e.typeEmb != nil {
		var typ *torch.Tensor
		if typeIDs == nil {
			typ, err = s.Select(e.typeEmb, 0, 0)
		} else {
			typ, err = s.Embedding(e.typeEmb, typeIDs)
		}
		if err != nil {
			return nil, err
		}
		if x, err = s.Add(x, typ); err != nil {
			return nil, err
		}
	}
	E := e.wordEmb.Shape()[1]
	if x, err = s.LayerNorm(x, []int64{E}, e.embLNW, e.embLNB, e.Config.LayerNormEps); err != nil {
		return nil, err
	}
	if x, err = e.dropout(s, x, e.dropHidden); err != nil {
		return nil, err
	}
	if e.embProjW != nil {
		return s.Linear(x, e.embProjW, e.embProjB)
	}
	return x, nil
}

// positions returns the position embeddings to add: rows 0…L-1 (shape
// [L E], broadcast over the batch), or for RoBERTa one row per token
// ([B L E]): padding gets padID, the other tokens padID+1, padID+2, … in
// order, counted from the input ids as transformers does (so [MASK]
// expansion tokens get positions, padding never does).
func (e *Encoder) positions(s *torch.Scope, ids *torch.Tensor, L int64) (*torch.Tensor, error) {
	if e.padID < 0 {
		return s.Narrow(e.posEmb, 0, 0, L)
	}
	v, err := s.Int64s(ids)
	if err != nil {
		return nil, err
	}
	padded := false
	pos := make([]int64, len(v))
	for row := 0; row < len(v); row += int(L) {
		n := e.padID
		for j, id := range v[row : row+int(L)] {
			if id == e.padID {
				pos[row+j] = e.padID
				padded = true
				continue
			}
			n++
			pos[row+j] = n
		}
	}
	if !padded { // every row is padID+1…padID+L
		return s.Narrow(e.posEmb, 0, e.padID+1, L)
	}
	pt, err := s.FromInt64(pos, ids.Shape()...)
	if err != nil {
		return nil, err
	}
	return s.Embedding(e.posEmb, pt)
}

// projectQKV runs the fused query/key/value projection of x [B L H] and
// splits it into q, k, v [B nh L dh].
func (e *Encoder) projectQKV(s *torch.Scope, x, w, b *torch.Tensor, B, L int64) (q, k, v *torch.Tensor, err error) {
	nh := int64(e.Config.NumAttentionHeads)
	dh := int64(e.Config.HiddenSize) / nh
	qkv, err := s.Linear(x, w, b) // [B L 3H]
	if err != nil {
		return nil, nil, nil, err
	}
	if qkv, err = s.View(qkv, B, L, 3, nh, dh); err != nil {
		return nil, nil, nil, err
	}
	if qkv, err = s.Permute(qkv, 2, 0, 3, 1, 4); err != nil { // [3 B nh L dh]
		return nil, nil, nil, err
	}
	var out [3]*torch.Tensor
	for j := range out {
		if out[j], err = s.Select(qkv, 0, int64(j)); err != nil {
			return nil, nil, nil, err
		}
	}
	return out[0], out[1], out[2], nil
}

// attend returns softmax(q·kᵀ/√dh + bias)·v as [B L H] for q, k, v
// [B nh L dh], with attention dropout on the probabilities.
func (e *Encoder) attend(s *torch.Scope, q, k, v, bias *torch.Tensor, B, L int64) (*torch.Tensor, error) {
	H := int64(e.Config.HiddenSize)
	dh := H / int64(e.Config.NumAttentionHeads)
	return e.attendScaled(s, q, k, v, bias, 1/math.Sqrt(float64(dh)), B, L, H)
}

// attendScaled returns softmax(scale·q·kᵀ + bias)·v as [B Lq width] for q
// [B nh Lq dh] and k, v [B nh Lk dh] (width = nh·dh), with attention
// dropout on the probabilities. BERT scales by 1/√dh; T5 does not (1).
func (e *Encoder) attendScaled(s *torch.Scope, q, k, v, bias *torch.Tensor, scale float64, B, Lq, width int64) (*torch.Tensor, error) {
	kt, err := s.Transpose(k, 2, 3)
	if err != nil {
		return nil, err
	}
	if scale != 1 {
		// Scale q rather than the scores: Lk/dh times fewer multiplications.
		if q, err = s.MulScalar(q, scale); err != nil {
			return nil, err
		}
	}
	scores, err := s.MatMul(q, kt) // [B nh Lq Lk]
	if err != nil {
		return nil, err
	}
	if scores, err = s.Add(scores, bias); err != nil {
		return nil, err
	}
	probs, err := s.Softmax(scores, -1)
	if err != nil {
		return nil, err
	}
	s.Free(scores)
	if probs, err = e.dropout(s, probs, e.dropAttn); err != nil {
		return nil, err
	}
	ctx, err := s.MatMul(probs, v) // [B nh Lq dh]
	if err != nil {
		return nil, err
	}
	s.Free(probs)
	if ctx, err = s.Permute(ctx, 0, 2, 1, 3); err != nil {
		return nil, err
	}
	return s.Reshape(ctx, B, Lq, width)
}

// interPassageBias appends to the padding bias [b 1 1 L] of passages
// off…off+b-1 of a list of B the bias of the list's representative tokens
// and the extra rows, [b 1 1 B+extra]: lowest where a passage would see its
// own token (Lightning IR's 1 − eye), else 0.
func interPassageBias(s *torch.Scope, bias *torch.Tensor, off, b, B int64, extra int, low float64) (*torch.Tensor, error) {
	D := B + int64(extra)
	v := make([]float32, b*D)
	for r := int64(0); r < b; r++ {
		v[r*D+off+r] = float32(low)
	}
	other, err := s.FromFloat32(v, b, 1, 1, D)
	if err != nil {
		return nil, err
	}
	if other, err = s.ToDType(other, bias.DType()); err != nil {
		return nil, err
	}
	return s.Cat([]*torch.Tensor{bias, other}, 3)
}

// interPassageKV returns the keys and values [1 nh D dh] of layer l (index
// i) for the representative tokens of the B passages in xs (chunks [b L H])
// and ip's extra rows after them.
func (e *Encoder) interPassageKV(s *torch.Scope, l *layer, i int, xs []*torch.Tensor, ip *InterPassage, B int64) (*torch.Tensor, *torch.Tensor, error) {
	toks := make([]*torch.Tensor, len(xs), len(xs)+1)
	for c, x := range xs {
		var err error
		if toks[c], err = s.Select(x, 1, ip.Token); err != nil { // [b H]
			return nil, nil, err
		}
	}
	tok, err := s.Cat(toks, 0)
	if err != nil {
		return nil, nil, err
	}
	if ip.Extra > 0 {
		extra, err := ip.Sample(s, i, tok)
		if err != nil {
			return nil, nil, err
		}
		if tok, err = s.Cat([]*torch.Tensor{tok, extra}, 0); err != nil {
			return nil, nil, err
		}
	}
	D := B + int64(ip.Extra)
	if tok, err = s.Reshape(tok, 1, D, int64(e.Config.HiddenSize)); err != nil {
		return nil, nil, err
	}
	_, ko, vo, err := e.projectQKV(s, tok, l.qkvW, l.qkvB, 1, D)
	return ko, vo, err
}

// layerForward runs BERT layer l on x; ko and vo [1 nh D dh], when set,
// are the Set-Encoder's inter-passage keys and values, appended to every
// passage's own.
func (e *Encoder) layerForward(s *torch.Scope, l *layer, x, bias *torch.Tensor, B, L int64, ko, vo *torch.Tensor) (*torch.Tensor, error) {
	H := int64(e.Config.HiddenSize)
	eps := e.Config.LayerNormEps
	q, k, v, err := e.projectQKV(s, x, l.qkvW, l.qkvB, B, L)
	if err != nil {
		return nil, err
	}
	if ko != nil {
		every, err := s.FromInt64(make([]int64, B), B) // row 0 for each passage
		if err != nil {
			return nil, err
		}
		kv := [2]*torch.Tensor{k, v}
		for j, o := range []*torch.Tensor{ko, vo} {
			if o, err = s.IndexSelect(o, 0, every); err != nil {
				return nil, err
			}
			if kv[j], err = s.Cat([]*torch.Tensor{kv[j], o}, 2); err != nil {
				return nil, err
			}
		}
		k, v = kv[0], kv[1]
	}
	ctx, err := e.attend(s, q, k, v, bias, B, L)
	if err != nil {
		return nil, err
	}
	attn, err := s.Linear(ctx, l.outW, l.outB)
	if err != nil {
		return nil, err
	}
	if e.arch != "distilbert" { // DistilBERT has no dropout after out_lin
		if attn, err = e.dropout(s, attn, e.dropHidden); err != nil {
			return nil, err
		}
	}
	if attn, err = s.Add(attn, x); err != nil {
		return nil, err
	}
	h1, err := s.LayerNorm(attn, []int64{H}, l.ln1W, l.ln1B, eps)
	if err != nil {
		return nil, err
	}
	inter, err := s.Linear(h1, l.interW, l.interB)
	if err != nil {
		return nil, err
	}
	if inter, err = e.activation(s, inter); err != nil {
		return nil, err
	}
	out, err := s.Linear(inter, l.ffnOutW, l.ffnOutB)
	if err != nil {
		return nil, err
	}
	if out, err = e.dropout(s, out, e.dropHidden); err != nil {
		return nil, err
	}
	if out, err = s.Add(out, h1); err != nil {
		return nil, err
	}
	return s.LayerNorm(out, []int64{H}, l.ln2W, l.ln2B, eps)
}

// activation applies the config's hidden_act (CheckSupported allows gelu
// and relu) in the feed-forward block.
func (e *Encoder) activation(s *torch.Scope, x *torch.Tensor) (*torch.Tensor, error) {
	if e.act == "relu" {
		return s.ReLU(x)
	}
	return s.GELU(x)
}
