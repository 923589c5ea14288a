package backbone

import (
	"strings"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/hf"
)

// Param is one weight tensor of a model with the Hugging Face name(s) it is
// saved under. A tensor irflow fuses (query, key and value of a layer) has
// one name per part, concatenated along dim 0 in that order, each part of
// equal size.
type Param struct {
	Names []string
	T     *torch.Tensor
	// NoDecay marks biases and LayerNorm weights, which training
	// conventionally excludes from weight decay.
	NoDecay bool
}

// canonicalNames gives the names of a loaded tensor's parts without the
// task-model prefix ("bert." of BertForMaskedLM), with the gamma/beta of
// old TF-converted checkpoints spelt weight/bias: the names transformers
// and Lightning IR save a bare backbone under.
func canonicalNames(parts []*hf.Tensor, prefix string) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		n := strings.TrimPrefix(p.Name, prefix)
		if strings.Contains(n, "LayerNorm") {
			n = strings.NewReplacer(".gamma", ".weight", ".beta", ".bias").Replace(n)
		}
		out[i] = n
	}
	return out
}

// IsNoDecay reports whether a tensor name is a bias or a LayerNorm weight
// (BERT's LayerNorm, RoBERTa's layer_norm, ModernBERT's *norm).
func IsNoDecay(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, "bias") || strings.Contains(n, "norm")
}

// Params lists the encoder's weight tensors in load order (embeddings, then
// layer by layer), named without any task-model prefix.
func (e *Encoder) Params() []Param {
	out := make([]Param, len(e.all))
	for i, t := range e.all {
		out[i] = Param{Names: e.names[i], T: t, NoDecay: IsNoDecay(e.names[i][0])}
	}
	return out
}

// WordEmbeddings is the input embedding matrix [vocab, E]; an MLM head
// with tied weights decodes with this very tensor.
func (e *Encoder) WordEmbeddings() *torch.Tensor { return e.wordEmb }

// DropoutProbs returns the config's dropout probabilities as transformers
// applies them: hidden (embeddings, attention output, FFN output) and
// attention (attention probabilities). BERT/ELECTRA/RoBERTa name them
// hidden_dropout_prob and attention_probs_dropout_prob, DistilBERT dropout
// and attention_dropout; absent fields take transformers' default 0.1
// (ModernBERT's: 0).
func DropoutProbs(c *hf.Config) (hidden, attention float64) {
	switch c.Backbone() {
	case "distilbert":
		return c.Float("dropout", 0.1), c.Float("attention_dropout", 0.1)
	case "modernbert":
		// ModernBERT has three (all 0 in the released models): the hidden
		// probability serves its embedding and MLP dropout, which irflow
		// does not tell apart; attention_dropout its probabilities and
		// attention output.
		return c.Float("mlp_dropout", 0), c.Float("attention_dropout", 0)
	case "t5":
		// T5 has one, dropout_rate, for every dropout site.
		r := c.Float("dropout_rate", 0.1)
		return r, r
	}
	return c.Float("hidden_dropout_prob", 0.1), c.Float("attention_probs_dropout_prob", 0.1)
}

// SetTraining switches dropout on, with the given probabilities, or off.
// Off (the state after Load) runs no dropout op at all, so inference is
// unchanged. Dropout draws from libtorch's global generator.
func (e *Encoder) SetTraining(on bool, hidden, attention float64) {
	if !on {
		hidden, attention = 0, 0
	}
	e.dropHidden, e.dropAttn = hidden, attention
}

// dropout applies dropout with probability p, or returns x when p is 0.
func (e *Encoder) dropout(s *torch.Scope, x *torch.Tensor, p float64) (*torch.Tensor, error) {
	if p == 0 {
		return x, nil
	}
	return s.Dropout(x, p, true)
}
