package neural

import (
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/pipeline/stage"
)

// refuseUnindexable adds to k's Check the plan-time refusal of models that
// Lightning IR 0.0.6 cannot index or search (COIL, UniCOIL, MVR:
// heads.Options.Indexable), so a recipe using one fails at `irflow plan`
// naming the model parameter, not after its documents are encoded.
func refuseUnindexable(k *stage.Kind) *stage.Kind {
	check := k.Check
	k.Check = func(p map[string]any) error {
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
