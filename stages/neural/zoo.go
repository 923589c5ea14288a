package neural

import (
	"fmt"
	"os"

	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
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
	dir := inputPath(p["model"])
	if st, err := os.Stat(dir); dir == "" || err != nil || !st.IsDir() {
		return nil
	}
	c, err := hf.LoadConfig(dir)
	if err != nil {
		return nil
	}
	preset, _ := p["head"].(string)
	h, err := heads.Resolve(dir, c, preset)
	if err != nil {
		return nil
	}
	if err := h.Indexable(); err != nil {
		return &stage.ParamError{Param: "model", Err: fmt.Errorf("model %s: %w", dir, err)}
	}
	return nil
}
