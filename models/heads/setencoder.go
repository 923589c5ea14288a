package heads

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/backbone"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/tokenizer"
)

// SetEncoder is Lightning IR v0.0.6's listwise cross-encoder
// (models/cross_encoders/set_encoder.py; Schlatt et al., ECIR 2025): a
// mono head (pooled first token → linear, rank or mono scoring) on a BERT
// or ELECTRA whose self-attention also lets every passage of a query's
// candidate list see the other passages' first (or [INT]) token, so one
// forward pass scores the whole list and the scores do not depend on its
// order. It is read from a config.json (model_type "set-encoder"); it has
// no preset. fit trains it one query's list per pass (models/training).
const SetEncoder = "set-encoder"

// interactionToken is the extra token of add_extra_token, placed after
// [CLS] by the Set-Encoder tokenizer's pair template.
const interactionToken = "[INT]"

// setEncoderNoiseSeed seeds the draws for the stand-ins of missing
// candidates (SetEncoderNoise).
const setEncoderNoiseSeed = 0x5e7e4c0de

func init() { lirModelType[SetEncoder] = SetEncoder }

// fromSetEncoder reads a Set-Encoder config.json: the mono fields plus
// depth, add_extra_token and sample_missing_docs (Lightning IR's defaults
// 100, false, true). Lightning IR refuses backbones other than bert and
// electra; so does irflow.
func fromSetEncoder(c *hf.Config) (Options, error) {
	o, _ := Preset(Mono, c.HiddenSize)
	o.Architecture = SetEncoder
	o.QueryLength = c.Int("query_length", o.QueryLength)
	o.DocLength = c.Int("doc_length", o.DocLength)
	readMono(c, &o)
	o.Depth = c.Int("depth", 100)
	o.AddExtraToken = c.Bool("add_extra_token", false)
	o.SampleMissingDocs = c.Bool("sample_missing_docs", true)
	if b := c.Backbone(); b != "bert" && b != "electra" {
		return o, fmt.Errorf("%s: a set-encoder runs on bert or electra backbones (as in Lightning IR 0.0.6), not backbone_model_type %q", c.Path, b)
	}
	return o, wrap(c, o.Validate())
}

// validateSetEncoder checks depth and the mono fields a Set-Encoder shares.
func (o *Options) validateSetEncoder() error {
	if o.Depth < 1 {
		return fmt.Errorf("head %s: depth %d must be positive (the number of candidates scored together)", o.Architecture, o.Depth)
	}
	mono := *o
	mono.Architecture = Mono
	return mono.Validate()
}

// setEncoderConfig adds the Set-Encoder's fields to a saved config.json.
func (o *Options) setEncoderConfig(m map[string]any) {
	m["depth"] = o.Depth
	m["add_extra_token"] = o.AddExtraToken
	m["sample_missing_docs"] = o.SampleMissingDocs
}

// errListwise refuses pairwise scoring (and so training, which scores
// pairs) of a Set-Encoder.
var errListwise = errors.New("a set-encoder scores a query's candidates together (listwise, ListwiseScore under InterPassage), not pair by pair")

// InterPassage returns the backbone's attention extension for a list of n
// candidates of one query, as Lightning IR's SetEncoderModel builds it:
// every passage attends to the other passages' token 0 ([CLS]), or token
// 1 ([INT]) with add_extra_token. With sample_missing_docs and n < depth,
// depth − n stand-ins are appended in every layer, drawn from a normal
// distribution with the per-dimension mean and (unbiased) standard
// deviation of the n real tokens, as torch.normal does in Lightning IR;
// irflow's draws are fixed (SetEncoderNoise), so a query's scores are
// reproducible, where Lightning IR draws anew on every call. A list longer
// than depth is an error: Lightning IR's mask has depth columns and fails
// on it too.
func (h *Head) InterPassage(n int) (*backbone.InterPassage, error) {
	o := h.Opts
	if o.Architecture != SetEncoder {
		return nil, fmt.Errorf("head %s has no inter-passage attention", o.Architecture)
	}
	if n > o.Depth {
		return nil, fmt.Errorf("%d candidates for one query, but the set-encoder scores at most depth = %d together (config.json): re-rank at most %d", n, o.Depth, o.Depth)
	}
	ip := &backbone.InterPassage{}
	if o.AddExtraToken {
		ip.Token = 1
	}
	if o.SampleMissingDocs && n < o.Depth {
		ip.Extra = o.Depth - n
		ip.Sample = func(s *torch.Scope, layer int, tokens *torch.Tensor) (*torch.Tensor, error) {
			return sampleMissing(s, tokens, SetEncoderNoise(layer, ip.Extra, int(tokens.Shape()[1])))
		}
	}
	return ip, nil
}

// SetEncoderNoise is the rows × width standard normal draws (row-major)
// for the stand-ins of layer: the same for every query, from a PCG seeded
// by the layer, so they are independent of the candidates' order.
func SetEncoderNoise(layer, rows, width int) []float32 {
	r := rand.New(rand.NewPCG(setEncoderNoiseSeed, uint64(layer)))
	z := make([]float32, rows*width)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	return z
}

// sampleMissing returns mean + std·z as [rows H] for the real tokens
// [n H]: torch.normal(mean, std) with std = 0 for a single candidate,
// detached, since torch.normal's derivative is zero for mean and std (in
// training no gradient flows through the stand-ins).
func sampleMissing(s *torch.Scope, tokens *torch.Tensor, z []float32) (*torch.Tensor, error) {
	shape := tokens.Shape()
	n, H := shape[0], shape[1]
	mean, err := s.Mean(tokens, []int64{0}, true) // [1 H]
	if err != nil {
		return nil, err
	}
	var std *torch.Tensor
	if n == 1 {
		std, err = s.MulScalar(mean, 0)
	} else {
		var d *torch.Tensor
		if d, err = s.Sub(tokens, mean); err != nil {
			return nil, err
		}
		if d, err = s.Mul(d, d); err != nil {
			return nil, err
		}
		if d, err = s.Sum(d, []int64{0}, true); err != nil {
			return nil, err
		}
		if d, err = s.MulScalar(d, 1/float64(n-1)); err != nil {
			return nil, err
		}
		std, err = s.Sqrt(d)
	}
	if err != nil {
		return nil, err
	}
	zt, err := s.FromFloat32(z, int64(len(z))/H, H)
	if err != nil {
		return nil, err
	}
	if zt, err = s.ToDType(zt, tokens.DType()); err != nil {
		return nil, err
	}
	if zt, err = s.Mul(zt, std); err != nil {
		return nil, err
	}
	if zt, err = s.Add(zt, mean); err != nil {
		return nil, err
	}
	return s.Detach(zt)
}

// ListwiseScore scores one candidate list [B L H] (the backbone's output
// under InterPassage) as the mono head scores pairs: [B].
func (h *Head) ListwiseScore(s *torch.Scope, hidden, mask *torch.Tensor) (*torch.Tensor, error) {
	if h.Opts.Architecture != SetEncoder {
		return nil, fmt.Errorf("head %s is not listwise", h.Opts.Architecture)
	}
	return h.pairScore(s, hidden, mask)
}

// CheckInteractionToken refuses, with add_extra_token, a tokenizer whose
// pair template does not put [INT] right after [CLS] in e (a pair it
// encoded): the extra token would then not be where the inter-passage
// attention reads it.
func (o *Options) CheckInteractionToken(tok *tokenizer.Tokenizer, e tokenizer.Encoding) error {
	t := o.InteractionToken()
	if t == "" {
		return nil
	}
	if id, ok := tok.TokenID(t); !ok || len(e.IDs) < 2 || e.IDs[1] != id {
		return fmt.Errorf("add_extra_token is set in config.json, but tokenizer.json's pair template does not put %s after [CLS] (Lightning IR's set-encoder tokenizer saves \"[CLS] [INT] $A [SEP] $B:1 [SEP]:1\")", t)
	}
	return nil
}

// InteractionToken is the token that must follow [CLS] in a Set-Encoder's
// pairs when add_extra_token is set; "" otherwise.
func (o *Options) InteractionToken() string {
	if o.Architecture == SetEncoder && o.AddExtraToken {
		return interactionToken
	}
	return ""
}
