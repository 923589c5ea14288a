package neural

import (
	"fmt"
	"strings"

	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/pipeline/stage"
)

// checkANNIndexUpstream checks at plan time that m divides the dimension
// of the dense index's vectors. The dimension is the head's: its linear
// projection's embedding_dim, else the backbone's hidden size, read from
// the dense block's model directory (config.json and the head it
// describes, with the block's head and head_options applied). The loader
// has made an "hf:" model local by then; a model it cannot read here is
// checked when the build starts, as before.
func checkANNIndexUpstream(p map[string]any, upstream func(string) (stage.Upstream, bool)) error {
	m, ok := p["m"].(float64)
	if !ok || m <= 0 {
		return nil
	}
	up, ok := upstream("dense")
	if !ok {
		return nil
	}
	dim, model, ok := denseDim(up.Params)
	if ok && dim%int(m) != 0 {
		return &stage.ParamError{Param: "m", Err: fmt.Errorf("m = %d does not divide %d, the dimension of the vectors of %s (model %s)", int(m), dim, up.Address, model)}
	}
	return nil
}

// denseDim is the dimension a dense index block's model gives, when its
// model directory can be read at plan time.
func denseDim(p map[string]any) (dim int, model string, ok bool) {
	dir := stage.InputPath(p["model"])
	preset, _ := p["head"].(string)
	kv, _ := p["head_options"].(map[string]string)
	h, c, ok := heads.PlanHead(dir, preset, kv)
	if !ok {
		return 0, "", false
	}
	switch {
	case strings.HasPrefix(h.Projection, "linear") && h.EmbeddingDim > 0:
		return h.EmbeddingDim, dir, true
	case h.Projection == "" && c.HiddenSize > 0:
		return c.HiddenSize, dir, true
	}
	return 0, "", false
}
