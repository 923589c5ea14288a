package heads

import (
	"fmt"
	"math"
	"slices"

	"github.com/irflow/irflow/models/hf"
)

// Lightning IR runs heads on T5 in two ways. Its mono cross-encoder runs
// T5Model (encoder and decoder) and scores the decoder's state for the
// start token with a ScaleLinear, which multiplies the state by
// d_model^-0.5 before the linear layer (the scaling T5's tied lm_head
// applies). Bi-encoders run T5EncoderModel (XTR: BACKBONE_MAPPING), and a
// saved one says so with is_encoder_decoder false in config.json.

// monoT5Rows and rankT5Rows are the rows of T5's shared embeddings that
// Lightning IR's _map_mono_t5_weights and _map_rank_t5_weights copy into
// the scorer of castorini's monoT5 ("▁false", "▁true": log-softmax index
// 1 is true) and RankT5 (<extra_id_10>) checkpoints, which are plain
// T5ForConditionalGeneration directories.
var (
	monoT5Rows = []int{6136, 1176}
	rankT5Rows = []int{32089}
)

// ForBackbone checks that head o runs on the backbone c describes, and for
// a bi-encoder on T5 selects T5's encoder alone (sets is_encoder_decoder
// false, as Lightning IR saves XTR), so a plain T5 checkpoint can carry a
// bi-encoder head. Errors name the config file and field.
func ForBackbone(o Options, c *hf.Config) error {
	if c.Backbone() != "t5" {
		return nil
	}
	if o.Architecture == Mono {
		if !c.Bool("is_encoder_decoder", true) {
			return fmt.Errorf("%s: is_encoder_decoder is false, but a mono head on T5 scores the decoder's start-token state (Lightning IR's MonoModel on T5Model)", c.Path)
		}
		if o.Pooling != "first" {
			return fmt.Errorf("%s: pooling_strategy %q is not supported for mono on T5: it scores the decoder's single start-token state (only first)", c.Path, o.Pooling)
		}
		return nil
	}
	if o.IsCrossEncoder() {
		return fmt.Errorf("%s: head %s is not supported on a T5 backbone (irflow runs mono and bi-encoders on T5)", c.Path, o.Architecture)
	}
	if o.Architecture == MVR {
		return fmt.Errorf("%s: head mvr is not supported on a T5 backbone (Lightning IR 0.0.6 puts the [VIE] tokens after [CLS], which T5's tokenizer lacks)", c.Path)
	}
	if o.AddMarkerTokens {
		return fmt.Errorf("%s: add_marker_tokens is not supported on a T5 backbone (Lightning IR 0.0.6 places [QUE]/[DOC] only in BERT's and ModernBERT's templates)", c.Path)
	}
	if o.QueryExpansion || o.DocExpansion {
		return fmt.Errorf("%s: query_expansion / doc_expansion pad with [MASK], which T5's tokenizer lacks", c.Path)
	}
	c.Set("is_encoder_decoder", false)
	return nil
}

// t5Mono prepares a mono head on T5: where the checkpoint has no scorer
// (linear.weight) it adds monoT5's or RankT5's rows of shared.weight to w
// under that name, so Save writes them; it returns ScaleLinear's input
// scale d_model^-0.5, or 0 for other heads and backbones.
func t5Mono(o Options, c *hf.Config, w *hf.Weights) (float64, error) {
	if c.Backbone() != "t5" || o.Architecture != Mono {
		return 0, nil
	}
	if err := ForBackbone(o, c); err != nil {
		return 0, err
	}
	H := c.HiddenSize
	scale := math.Pow(float64(H), -0.5)
	if w.Has(monoLinear+"weight") || w.Has("classifier.weight") {
		return scale, nil
	}
	rows, what := monoT5Rows, "monoT5's (6136 and 1176)"
	if o.ScoringStrategy == "rank" {
		rows, what = rankT5Rows, "RankT5's (32089)"
	}
	shared, err := w.Get("shared.weight", c.VocabSize, H)
	if err != nil {
		return 0, err
	}
	if slices.Max(rows) >= c.VocabSize {
		return 0, fmt.Errorf("%s: the checkpoint has no %sweight, and %s scorer rows of shared.weight lie beyond its %d rows", c.Path, monoLinear, what, c.VocabSize)
	}
	v := make([]float32, 0, len(rows)*H)
	for _, r := range rows {
		v = append(v, shared.F32[r*H:(r+1)*H]...)
	}
	w.Add(&hf.Tensor{Name: monoLinear + "weight", Shape: []int{len(rows), H}, DType: "F32", F32: v}, "(rows of shared.weight)")
	return scale, nil
}
