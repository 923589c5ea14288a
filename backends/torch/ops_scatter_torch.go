//go:build torch

package torch

import lib "github.com/sugarme/gotch/libtch"

// Scatter ops: UniCOIL writes each token's weight into its input id's slot
// of a vocabulary-sized vector (torch.scatter in Lightning IR), and fit
// needs that write differentiable.

// Scatter is torch.scatter(x, dim, index, src): a copy of x with
// src[i][j] written to slot index[i][j] along dim (2-D shown; index int64,
// same rank as src). Where an index repeats, the CPU kernel writes in
// order, so the last occurrence stands; CUDA leaves the order unspecified,
// as in PyTorch. The gradient is PyTorch's: x gets the output's gradient
// with the written slots zeroed, and every src element — an overwritten
// one too — gets its slot's gradient (grad.gather(dim, index)). For a
// gradient index must have src's shape: PyTorch's backward refuses a
// narrower one, and so does this.
func (s *Scope) Scatter(x *Tensor, dim int64, index, src *Tensor) (*Tensor, error) {
	cs, err := s.args("scatter", x, index, src)
	if err != nil {
		return nil, err
	}
	return s.call("scatter", func(out *ctensor) { lib.AtgScatter(out, cs[0], dim, cs[1], cs[2]) })
}
