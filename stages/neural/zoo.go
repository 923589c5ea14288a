package neural

import (
	"errors"
	"fmt"
	"os"

	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/pipeline/stage"
)

// refuseUnindexable adds to k's Check the plan-time refusal of models that
// Lightning IR 0.0.6 cannot index or search (COIL, UniCOIL, MVR:
// heads.Options.Indexable) and of heads it cannot run on a T5 model
// (checkT5Model), so a recipe using one fails at `irflow plan` naming the
// model parameter, not after its documents are encoded.
func refuseUnindexable(k *stage.Kind) *stage.Kind {
	check := k.Check
	k.Check = func(p map[string]any) error {
		if err := checkT5Model(p); err != nil {
			return err
		}
		if err := checkIndexableModel(p); err != nil {
			return err
		}
		if check != nil {
			return check(p)
		}
		return nil
	}
	return k
}

// checkIndexableModel reads the model directory's head (config.json, with
// the block's head preset) where it can at plan time; a model it cannot
// read here is checked when the stage runs (checkHead).
func checkIndexableModel(p map[string]any) error {
	preset, _ := p["head"].(string)
	kv, _ := p["head_options"].(map[string]string)
	if err := heads.CheckPlanned(stage.InputPath(p["model"]), preset, kv, (*heads.Options).Indexable); err != nil {
		return &stage.ParamError{Param: "model", Err: err}
	}
	return nil
}

// errSpladeOnT5 is why SPLADE does not run on T5: Lightning IR 0.0.6
// builds its vocabulary projection from the backbone's masked-language-model
// head (MODEL_TYPE_TO_LM_HEAD has bert and distilbert; SpladeModel on T5
// raises KeyError 't5'), and T5 has none: its lm_head reads the decoder.
var errSpladeOnT5 = errors.New("a splade head does not run on a T5 backbone: SPLADE scores through a masked-language-model head, which T5 lacks (Lightning IR 0.0.6 fails with KeyError 't5' building it); T5 runs dpr, col (XTR), coil, unicoil and mono (monoT5, RankT5)")

// checkT5Model refuses at plan time a head irflow does not run on a T5
// model directory: SPLADE, and heads.ForBackbone's refusals (marker
// tokens, expansion, the Set-Encoder), which PlanHead leaves to the run.
// Anything it cannot read here (not a local directory yet, no config) is
// checked when the stage runs.
func checkT5Model(p map[string]any) error {
	dir := stage.InputPath(p["model"])
	if st, err := os.Stat(dir); dir == "" || err != nil || !st.IsDir() {
		return nil
	}
	c, err := hf.LoadConfig(dir)
	if err != nil || c.Backbone() != "t5" {
		return nil
	}
	preset, _ := p["head"].(string)
	h, err := heads.Resolve(dir, c, preset)
	if kv, _ := p["head_options"].(map[string]string); err == nil && len(kv) > 0 {
		if h.Override(kv) != nil {
			return nil // head_options' own check names the option
		}
		err = heads.ForBackbone(h, c)
	}
	if err == nil && h.Architecture == heads.Splade {
		err = errSpladeOnT5
	}
	if err != nil {
		return &stage.ParamError{Param: "model", Err: fmt.Errorf("model %s: %w", dir, err)}
	}
	return nil
}
