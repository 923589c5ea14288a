package heads

import (
	"errors"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/backbone"
)

// Lightning IR has no dropout or other train-only behaviour in its heads,
// so a head computes the same in training and inference; training needs
// only its weights by name and the MLM decoder's weight tying.

// TieDecoder makes the MLM decoder use wordEmb itself (the backbone's
// input embeddings) instead of its own copy, as transformers ties them
// when tie_word_embeddings is true: in training, the gradients of both uses
// then add up in one tensor. The head no longer frees the decoder weight.
func (h *Head) TieDecoder(wordEmb *torch.Tensor) error {
	if h.mlmDecW == nil {
		return errors.New("heads: only an MLM head has a decoder to tie")
	}
	if got, want := wordEmb.Shape(), h.mlmDecW.Shape(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		return errors.New("heads: the word embeddings' shape differs from the MLM decoder's")
	}
	if h.mlmDecW == wordEmb {
		return nil
	}
	own := h.mlmDecW
	for i, t := range h.all {
		if t == own {
			h.all = append(h.all[:i], h.all[i+1:]...)
			break
		}
	}
	own.Free()
	h.mlmDecW = wordEmb
	h.tied = true
	return nil
}

// Params lists the head's weights under the names Lightning IR saves them
// with (projection.*, linear.*, bert_pool.0.*, COIL's token_projection.* and
// cls_projection.*). A decoder tied to the word
// embeddings is not listed: it is the backbone's tensor.
func (h *Head) Params() []backbone.Param {
	var out []backbone.Param
	add := func(name string, t *torch.Tensor) {
		if t != nil {
			out = append(out, backbone.Param{Names: []string{name}, T: t, NoDecay: backbone.IsNoDecay(name)})
		}
	}
	add(projectionPrefix+"weight", h.projW)
	add(projectionPrefix+"bias", h.projB)
	if h.mlmDenseW != nil {
		dense, ln, dec, bias := "predictions.transform.dense.", "predictions.transform.LayerNorm.", "predictions.decoder.weight", "predictions.bias"
		if h.distilMLM {
			dense, ln, dec, bias = "vocab_transform.", "vocab_layer_norm.", "vocab_projector.weight", "vocab_projector.bias"
		}
		if h.robertaMLM {
			dense, ln, dec, bias = "dense.", "layer_norm.", "decoder.weight", "bias"
		}
		if h.modernMLM {
			dense, ln, dec, bias = "head.dense.", "head.norm.", "decoder.weight", "decoder.bias"
		}
		add(projectionPrefix+dense+"weight", h.mlmDenseW)
		add(projectionPrefix+dense+"bias", h.mlmDenseB)
		add(projectionPrefix+ln+"weight", h.mlmLNW)
		add(projectionPrefix+ln+"bias", h.mlmLNB)
		if !h.tied {
			add(projectionPrefix+dec, h.mlmDecW)
		}
		add(projectionPrefix+bias, h.mlmDecB)
	}
	add(monoBertPool+"weight", h.poolW)
	add(monoBertPool+"bias", h.poolB)
	add(monoLinear+"weight", h.linW)
	add(monoLinear+"bias", h.linB)
	if h.coil != nil {
		add(coilTokenProjection+"weight", h.coil.tokW)
		add(coilTokenProjection+"bias", h.coil.tokB)
		add(coilCLSProjection+"weight", h.coil.clsW)
		add(coilCLSProjection+"bias", h.coil.clsB)
	}
	return out
}

// Tied reports whether the MLM decoder shares the word embeddings.
func (h *Head) Tied() bool { return h.tied }
