//go:build torch

package torch

import (
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
)

// Ops the training losses (train/loss) need beyond ops_torch.go. They call the
// same libtorch functions PyTorch does, so edge cases (a zero vector's norm,
// a cosine of zero vectors) get PyTorch's values and gradients.

// FromFloat64 copies data into a float64 tensor of the given shape (1-D
// when no shape is given).
func (s *Scope) FromFloat64(data []float64, shape ...int64) (*Tensor, error) {
	return s.fromData("from_float64", unsafe.Pointer(unsafe.SliceData(data)), len(data), Float64, shape)
}

// Float64s copies x's elements (converted to float64) into a new slice in
// row-major order.
func (s *Scope) Float64s(x *Tensor) ([]float64, error) {
	out := make([]float64, x.Numel())
	return out, s.copyOut("float64s", x, Float64, unsafe.Pointer(unsafe.SliceData(out)))
}

// Abs returns |x| (its gradient at 0 is 0, as PyTorch's sign).
func (s *Scope) Abs(x *Tensor) (*Tensor, error) { return s.unary("abs", x, lib.AtgAbs) }

// Log2 returns the base-2 logarithm of x (DCG discounts).
func (s *Scope) Log2(x *Tensor) (*Tensor, error) { return s.unary("log2", x, lib.AtgLog2) }

// Reciprocal returns 1 / x.
func (s *Scope) Reciprocal(x *Tensor) (*Tensor, error) {
	return s.unary("reciprocal", x, lib.AtgReciprocal)
}

// DivScalar returns x / v (true division, as x / v in PyTorch; not x * (1/v)).
func (s *Scope) DivScalar(x *Tensor, v float64) (*Tensor, error) {
	return s.withScalar("div_scalar", x, v, lib.AtgDivScalar)
}

// Norm is torch.norm(x, p, dims, keepdim), the p-norm over dims (p = 2 is
// what Tensor.norm(dim=…) computes; p = 1 the L1 norm). Its gradient at a
// zero vector is 0, where sqrt(sum(x²)) would give NaN.
func (s *Scope) Norm(x *Tensor, p float64, dims []int64, keepdim bool) (*Tensor, error) {
	if err := needDims("norm", dims); err != nil {
		return nil, err
	}
	cs, err := s.args("norm", x)
	if err != nil {
		return nil, err
	}
	sc := lib.AtsFloat(p)
	defer lib.AtsFree(sc)
	return s.call("norm", func(out *ctensor) {
		lib.AtgNormScalaroptDim(out, cs[0], sc, dims, len(dims), flag(keepdim))
	})
}

// CosineSimilarity is torch.nn.functional.cosine_similarity(x1, x2, dim, eps):
// each norm is clamped to at least eps outside autograd, as PyTorch does.
func (s *Scope) CosineSimilarity(x1, x2 *Tensor, dim int64, eps float64) (*Tensor, error) {
	return s.binary("cosine_similarity", x1, x2, func(out *ctensor, a, b ctensor) {
		lib.AtgCosineSimilarity(out, a, b, dim, eps)
	})
}
