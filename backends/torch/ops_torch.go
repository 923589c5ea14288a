//go:build torch

package torch

import (
	"fmt"
	"math"

	lib "github.com/sugarme/gotch/libtch"
)

// args resolves the C handles of an op's tensor arguments.
func (s *Scope) args(op string, ts ...*Tensor) ([]ctensor, error) {
	if s.closed {
		return nil, fmt.Errorf("torch: %s: scope used after its callback returned", op)
	}
	cs := make([]ctensor, len(ts))
	for i, t := range ts {
		c, err := t.handle()
		if err != nil {
			return nil, fmt.Errorf("torch: %s: argument %d: %w", op, i+1, err)
		}
		cs[i] = c
	}
	return cs, nil
}

// optional is like args for a tensor argument that may be nil.
func optional(t *Tensor) (ctensor, error) {
	if t == nil {
		return nil, nil
	}
	return t.handle()
}

// call runs one generated libtch function that writes its results to the
// scope's out-buffer, and wraps the first result.
func (s *Scope) call(op string, f func(out *ctensor)) (*Tensor, error) {
	s.out.clear()
	f(s.out.p)
	if err := lastError(); err != nil {
		return nil, fmt.Errorf("torch: %s: %w", op, err)
	}
	c := s.out.at(0)
	if c == nil {
		return nil, fmt.Errorf("torch: %s returned no tensor", op)
	}
	return s.newTensor(c), nil
}

// unary runs a one-tensor op.
func (s *Scope) unary(op string, x *Tensor, f func(out *ctensor, x ctensor)) (*Tensor, error) {
	cs, err := s.args(op, x)
	if err != nil {
		return nil, err
	}
	return s.call(op, func(out *ctensor) { f(out, cs[0]) })
}

// binary runs a two-tensor op.
func (s *Scope) binary(op string, a, b *Tensor, f func(out *ctensor, a, b ctensor)) (*Tensor, error) {
	cs, err := s.args(op, a, b)
	if err != nil {
		return nil, err
	}
	return s.call(op, func(out *ctensor) { f(out, cs[0], cs[1]) })
}

// withScalar runs a one-tensor op with a scalar operand, freeing the scalar.
func (s *Scope) withScalar(op string, x *Tensor, v float64, f func(out *ctensor, x ctensor, v lib.Cscalar)) (*Tensor, error) {
	cs, err := s.args(op, x)
	if err != nil {
		return nil, err
	}
	sc := lib.AtsFloat(v)
	defer lib.AtsFree(sc)
	return s.call(op, func(out *ctensor) { f(out, cs[0], sc) })
}

func flag(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func needDims(op string, dims []int64) error {
	if len(dims) == 0 {
		return fmt.Errorf("torch: %s: no dimensions given", op)
	}
	return nil
}

// ---- element-wise ----------------------------------------------------------

// Add returns a + b (broadcasting).
func (s *Scope) Add(a, b *Tensor) (*Tensor, error) { return s.binary("add", a, b, lib.AtgAdd) }

// Sub returns a - b (broadcasting).
func (s *Scope) Sub(a, b *Tensor) (*Tensor, error) { return s.binary("sub", a, b, lib.AtgSub) }

// Mul returns a * b element-wise (broadcasting).
func (s *Scope) Mul(a, b *Tensor) (*Tensor, error) { return s.binary("mul", a, b, lib.AtgMul) }

// Div returns a / b element-wise (broadcasting).
func (s *Scope) Div(a, b *Tensor) (*Tensor, error) { return s.binary("div", a, b, lib.AtgDiv) }

// Minimum returns the element-wise minimum of a and b.
func (s *Scope) Minimum(a, b *Tensor) (*Tensor, error) {
	return s.binary("minimum", a, b, lib.AtgMinimum)
}

// AddScalar returns x + v.
func (s *Scope) AddScalar(x *Tensor, v float64) (*Tensor, error) {
	return s.withScalar("add_scalar", x, v, lib.AtgAddScalar)
}

// MulScalar returns x * v.
func (s *Scope) MulScalar(x *Tensor, v float64) (*Tensor, error) {
	return s.withScalar("mul_scalar", x, v, lib.AtgMulScalar)
}

// PowScalar returns x ** p.
func (s *Scope) PowScalar(x *Tensor, p float64) (*Tensor, error) {
	return s.withScalar("pow", x, p, lib.AtgPowTensorScalar)
}

// ClampMax returns min(x, v) element-wise.
func (s *Scope) ClampMax(x *Tensor, v float64) (*Tensor, error) {
	return s.withScalar("clamp_max", x, v, lib.AtgClampMax)
}

// EqScalar returns a bool tensor: x == v.
func (s *Scope) EqScalar(x *Tensor, v float64) (*Tensor, error) {
	return s.withScalar("eq", x, v, lib.AtgEq)
}

// Neg returns -x.
func (s *Scope) Neg(x *Tensor) (*Tensor, error) { return s.unary("neg", x, lib.AtgNeg) }

// Exp returns e**x.
func (s *Scope) Exp(x *Tensor) (*Tensor, error) { return s.unary("exp", x, lib.AtgExp) }

// Log returns the natural logarithm of x.
func (s *Scope) Log(x *Tensor) (*Tensor, error) { return s.unary("log", x, lib.AtgLog) }

// Log1p returns log(1 + x), accurate for small x (SPLADE's log1p(relu)).
func (s *Scope) Log1p(x *Tensor) (*Tensor, error) { return s.unary("log1p", x, lib.AtgLog1p) }

// Sqrt returns the square root of x.
func (s *Scope) Sqrt(x *Tensor) (*Tensor, error) { return s.unary("sqrt", x, lib.AtgSqrt) }

// Tanh returns tanh(x) (BERT's pooler activation).
func (s *Scope) Tanh(x *Tensor) (*Tensor, error) { return s.unary("tanh", x, lib.AtgTanh) }

// ReLU returns max(x, 0).
func (s *Scope) ReLU(x *Tensor) (*Tensor, error) { return s.unary("relu", x, lib.AtgRelu) }

// Sigmoid returns 1 / (1 + e**-x).
func (s *Scope) Sigmoid(x *Tensor) (*Tensor, error) { return s.unary("sigmoid", x, lib.AtgSigmoid) }

// GELU is the exact (erf) form BERT uses, not the tanh approximation.
func (s *Scope) GELU(x *Tensor) (*Tensor, error) {
	return s.unary("gelu", x, func(out *ctensor, x ctensor) { lib.AtgGelu(out, x, "none") })
}

// MaskedFill returns x with value where mask (bool, broadcastable) is true,
// e.g. -inf over padding before a max or a softmax.
func (s *Scope) MaskedFill(x, mask *Tensor, value float64) (*Tensor, error) {
	cs, err := s.args("masked_fill", x, mask)
	if err != nil {
		return nil, err
	}
	sc := lib.AtsFloat(value)
	defer lib.AtsFree(sc)
	return s.call("masked_fill", func(out *ctensor) { lib.AtgMaskedFill(out, cs[0], cs[1], sc) })
}

// ---- layers ----------------------------------------------------------------

// MatMul is torch.matmul (batched, broadcasting).
func (s *Scope) MatMul(a, b *Tensor) (*Tensor, error) { return s.binary("matmul", a, b, lib.AtgMatmul) }

// Linear returns x·wᵀ + b with w shaped [out, in] as in PyTorch; b may be nil.
func (s *Scope) Linear(x, w, b *Tensor) (*Tensor, error) {
	cs, err := s.args("linear", x, w)
	if err != nil {
		return nil, err
	}
	cb, err := optional(b)
	if err != nil {
		return nil, fmt.Errorf("torch: linear: bias: %w", err)
	}
	return s.call("linear", func(out *ctensor) { lib.AtgLinear(out, cs[0], cs[1], cb) })
}

// Embedding looks up rows of weight [vocab, dim] for integer ids.
func (s *Scope) Embedding(weight, ids *Tensor) (*Tensor, error) {
	return s.binary("embedding", weight, ids, func(out *ctensor, w, ids ctensor) {
		lib.AtgEmbedding(out, w, ids, -1, 0, 0)
	})
}

// LayerNorm normalises over the trailing dimensions of normalizedShape with
// the given eps (BERT: 1e-12; gotch's nn default 1e-5 is wrong for it).
// w and b may be nil.
func (s *Scope) LayerNorm(x *Tensor, normalizedShape []int64, w, b *Tensor, eps float64) (*Tensor, error) {
	if err := needDims("layer_norm", normalizedShape); err != nil {
		return nil, err
	}
	cs, err := s.args("layer_norm", x)
	if err != nil {
		return nil, err
	}
	cw, err := optional(w)
	if err != nil {
		return nil, fmt.Errorf("torch: layer_norm: weight: %w", err)
	}
	cb, err := optional(b)
	if err != nil {
		return nil, fmt.Errorf("torch: layer_norm: bias: %w", err)
	}
	return s.call("layer_norm", func(out *ctensor) {
		lib.AtgLayerNorm(out, cs[0], normalizedShape, len(normalizedShape), cw, cb, eps, 1)
	})
}

// Dropout zeroes elements with probability p and scales the rest by
// 1/(1-p) when train is true; otherwise it returns x unchanged (a new handle).
func (s *Scope) Dropout(x *Tensor, p float64, train bool) (*Tensor, error) {
	if p < 0 || p > 1 {
		return nil, fmt.Errorf("torch: dropout: p = %v outside [0, 1]", p)
	}
	return s.unary("dropout", x, func(out *ctensor, x ctensor) { lib.AtgDropout(out, x, p, flag(train)) })
}

// Softmax over dim.
func (s *Scope) Softmax(x *Tensor, dim int64) (*Tensor, error) {
	return s.unary("softmax", x, func(out *ctensor, x ctensor) { lib.AtgSoftmax(out, x, dim, -1) })
}

// LogSoftmax over dim.
func (s *Scope) LogSoftmax(x *Tensor, dim int64) (*Tensor, error) {
	return s.unary("log_softmax", x, func(out *ctensor, x ctensor) { lib.AtgLogSoftmax(out, x, dim, -1) })
}

// ---- reductions ------------------------------------------------------------

// Sum over dims.
func (s *Scope) Sum(x *Tensor, dims []int64, keepdim bool) (*Tensor, error) {
	if err := needDims("sum", dims); err != nil {
		return nil, err
	}
	return s.unary("sum", x, func(out *ctensor, x ctensor) {
		lib.AtgSumDimIntlist(out, x, dims, len(dims), flag(keepdim), -1)
	})
}

// Mean over dims.
func (s *Scope) Mean(x *Tensor, dims []int64, keepdim bool) (*Tensor, error) {
	if err := needDims("mean", dims); err != nil {
		return nil, err
	}
	return s.unary("mean", x, func(out *ctensor, x ctensor) {
		lib.AtgMeanDim(out, x, dims, len(dims), flag(keepdim), -1)
	})
}

// SumAll sums every element into a 0-dimensional tensor.
func (s *Scope) SumAll(x *Tensor) (*Tensor, error) {
	return s.unary("sum", x, func(out *ctensor, x ctensor) { lib.AtgSum(out, x, -1) })
}

// MeanAll averages every element into a 0-dimensional tensor.
func (s *Scope) MeanAll(x *Tensor) (*Tensor, error) {
	return s.unary("mean", x, func(out *ctensor, x ctensor) { lib.AtgMean(out, x, -1) })
}

// Max returns the maximum values over dim (the indices are dropped).
func (s *Scope) Max(x *Tensor, dim int64, keepdim bool) (*Tensor, error) {
	t, err := s.unary("max", x, func(out *ctensor, x ctensor) { lib.AtgMaxDim(out, x, dim, flag(keepdim)) })
	if err == nil {
		if idx := s.out.at(1); idx != nil {
			cFree(idx)
		}
	}
	return t, err
}

// LogSumExp over dims (numerically stable log Σ exp).
func (s *Scope) LogSumExp(x *Tensor, dims []int64, keepdim bool) (*Tensor, error) {
	if err := needDims("logsumexp", dims); err != nil {
		return nil, err
	}
	return s.unary("logsumexp", x, func(out *ctensor, x ctensor) {
		lib.AtgLogsumexp(out, x, dims, len(dims), flag(keepdim))
	})
}

// ---- shape -----------------------------------------------------------------

// Reshape returns x with a new shape (one dimension may be -1), copying only
// when it must.
func (s *Scope) Reshape(x *Tensor, shape ...int64) (*Tensor, error) {
	if err := needDims("reshape", shape); err != nil {
		return nil, err
	}
	return s.unary("reshape", x, func(out *ctensor, x ctensor) { lib.AtgReshape(out, x, shape, len(shape)) })
}

// View is Reshape that never copies (an error on non-contiguous input).
func (s *Scope) View(x *Tensor, shape ...int64) (*Tensor, error) {
	if err := needDims("view", shape); err != nil {
		return nil, err
	}
	return s.unary("view", x, func(out *ctensor, x ctensor) { lib.AtgView(out, x, shape, len(shape)) })
}

// Transpose swaps two dimensions.
func (s *Scope) Transpose(x *Tensor, dim0, dim1 int64) (*Tensor, error) {
	return s.unary("transpose", x, func(out *ctensor, x ctensor) { lib.AtgTranspose(out, x, dim0, dim1) })
}

// Permute reorders all dimensions.
func (s *Scope) Permute(x *Tensor, dims ...int64) (*Tensor, error) {
	if err := needDims("permute", dims); err != nil {
		return nil, err
	}
	return s.unary("permute", x, func(out *ctensor, x ctensor) { lib.AtgPermute(out, x, dims, len(dims)) })
}

// Contiguous returns x laid out densely in row-major order.
func (s *Scope) Contiguous(x *Tensor) (*Tensor, error) {
	return s.unary("contiguous", x, lib.AtgContiguous)
}

// Unsqueeze inserts a dimension of size 1 at dim.
func (s *Scope) Unsqueeze(x *Tensor, dim int64) (*Tensor, error) {
	return s.unary("unsqueeze", x, func(out *ctensor, x ctensor) { lib.AtgUnsqueeze(out, x, dim) })
}

// Squeeze removes dimension dim if its size is 1.
func (s *Scope) Squeeze(x *Tensor, dim int64) (*Tensor, error) {
	return s.unary("squeeze", x, func(out *ctensor, x ctensor) { lib.AtgSqueezeDim(out, x, dim) })
}

// Narrow returns length entries of dim starting at start (a view).
func (s *Scope) Narrow(x *Tensor, dim, start, length int64) (*Tensor, error) {
	return s.unary("narrow", x, func(out *ctensor, x ctensor) { lib.AtgNarrow(out, x, dim, start, length) })
}

// Select returns entry index of dim, dropping that dimension (e.g. [CLS]:
// Select(h, 1, 0)).
func (s *Scope) Select(x *Tensor, dim, index int64) (*Tensor, error) {
	return s.unary("select", x, func(out *ctensor, x ctensor) { lib.AtgSelect(out, x, dim, index) })
}

func (s *Scope) list(op string, ts []*Tensor, f func(out *ctensor, cs []ctensor)) (*Tensor, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("torch: %s: no tensors", op)
	}
	cs, err := s.args(op, ts...)
	if err != nil {
		return nil, err
	}
	return s.call(op, func(out *ctensor) { f(out, cs) })
}

// Cat concatenates tensors along dim.
func (s *Scope) Cat(ts []*Tensor, dim int64) (*Tensor, error) {
	return s.list("cat", ts, func(out *ctensor, cs []ctensor) { lib.AtgCat(out, cs, len(cs), dim) })
}

// Stack joins tensors along a new dimension dim.
func (s *Scope) Stack(ts []*Tensor, dim int64) (*Tensor, error) {
	return s.list("stack", ts, func(out *ctensor, cs []ctensor) { lib.AtgStack(out, cs, len(cs), dim) })
}

// Gather picks x's values along dim at index (int64, same rank as x).
func (s *Scope) Gather(x *Tensor, dim int64, index *Tensor) (*Tensor, error) {
	return s.binary("gather", x, index, func(out *ctensor, x, idx ctensor) { lib.AtgGather(out, x, dim, idx, 0) })
}

// IndexSelect picks whole slices of dim at the int64 indices of a 1-D index.
func (s *Scope) IndexSelect(x *Tensor, dim int64, index *Tensor) (*Tensor, error) {
	return s.binary("index_select", x, index, func(out *ctensor, x, idx ctensor) { lib.AtgIndexSelect(out, x, dim, idx) })
}

// ToDType converts elements (e.g. to Float32 for similarity scores).
func (s *Scope) ToDType(x *Tensor, dt DType) (*Tensor, error) {
	return s.unary("to_dtype", x, func(out *ctensor, x ctensor) { lib.AtgToDtype(out, x, int32(dt), 0, 0) })
}

// Clone returns a copy with its own memory (autograd still tracks it).
func (s *Scope) Clone(x *Tensor) (*Tensor, error) {
	cs, err := s.args("clone", x)
	if err != nil {
		return nil, err
	}
	dt := cScalarType(cs[0])
	return s.call("clone", func(out *ctensor) { lib.AtgToDtype(out, cs[0], int32(dt), 0, 1) })
}

// To moves x to a device.
func (s *Scope) To(x *Tensor, d Device) (*Tensor, error) {
	if err := checkDevice(d); err != nil {
		return nil, err
	}
	return s.unary("to", x, func(out *ctensor, x ctensor) { lib.AtgTo(out, x, d.code()) })
}

// Detach returns x cut from the autograd graph (shares memory).
func (s *Scope) Detach(x *Tensor) (*Tensor, error) { return s.unary("detach", x, lib.AtgDetach) }

// ---- losses ----------------------------------------------------------------

// CrossEntropy is torch.nn.functional.cross_entropy over class logits
// [batch, classes] and int64 targets [batch] (no ignore index in effect).
func (s *Scope) CrossEntropy(logits, targets *Tensor, r Reduction) (*Tensor, error) {
	return s.binary("cross_entropy", logits, targets, func(out *ctensor, l, t ctensor) {
		lib.AtgCrossEntropyLoss(out, l, t, nil, int64(r), -100, 0)
	})
}

// MarginRanking is max(0, -y·(x1 - x2) + margin) with y = ±1.
func (s *Scope) MarginRanking(x1, x2, y *Tensor, margin float64, r Reduction) (*Tensor, error) {
	cs, err := s.args("margin_ranking_loss", x1, x2, y)
	if err != nil {
		return nil, err
	}
	return s.call("margin_ranking_loss", func(out *ctensor) {
		lib.AtgMarginRankingLoss(out, cs[0], cs[1], cs[2], margin, int64(r))
	})
}

// BCEWithLogits is binary cross-entropy on logits (targets in [0, 1]).
func (s *Scope) BCEWithLogits(logits, targets *Tensor, r Reduction) (*Tensor, error) {
	return s.binary("binary_cross_entropy_with_logits", logits, targets, func(out *ctensor, l, t ctensor) {
		lib.AtgBinaryCrossEntropyWithLogits(out, l, t, nil, nil, int64(r))
	})
}

// ---- autograd --------------------------------------------------------------

// SetRequiresGrad turns gradient tracking of a leaf tensor on or off.
func (s *Scope) SetRequiresGrad(t *Tensor, on bool) error {
	alias, err := s.unary("requires_grad_", t, func(out *ctensor, x ctensor) { lib.AtgRequiresGrad_(out, x, flag(on)) })
	if err != nil {
		return err
	}
	alias.Free()
	return nil
}

// Backward computes gradients of a scalar loss into the leaves' Grad.
func (s *Scope) Backward(loss *Tensor) error {
	cs, err := s.args("backward", loss)
	if err != nil {
		return err
	}
	cBackward(cs[0])
	if err := lastError(); err != nil {
		return fmt.Errorf("torch: backward: %w", err)
	}
	return nil
}

// Grad returns t's accumulated gradient (a handle sharing its memory), or
// nil when t has none yet.
func (s *Scope) Grad(t *Tensor) (*Tensor, error) {
	g, err := s.unary("grad", t, lib.AtgGrad)
	if err != nil {
		return nil, err
	}
	if !cDefined(g.c) {
		g.Free()
		return nil, nil
	}
	return g, nil
}

// ZeroGrad zeroes the gradients of ts in place (tensors without one are
// skipped).
func (s *Scope) ZeroGrad(ts ...*Tensor) error {
	return s.NoGrad(func(s *Scope) error {
		for _, t := range ts {
			g, err := s.Grad(t)
			if err != nil {
				return err
			}
			if g == nil {
				continue
			}
			z, err := s.unary("zero_", g, lib.AtgZero_)
			if err != nil {
				return err
			}
			s.Free(z, g)
		}
		return nil
	})
}

// ClipGradNorm scales the gradients of params so that their joint L2 norm
// is at most maxNorm, as torch.nn.utils.clip_grad_norm_ does (coefficient
// maxNorm / (norm + 1e-6), clamped at 1). It returns the norm before
// clipping. gotch's own ClipGradNorm deadlocks, hence this one.
func (s *Scope) ClipGradNorm(params []*Tensor, maxNorm float64) (float64, error) {
	var total float64
	err := s.NoGrad(func(s *Scope) error {
		var grads, squares []*Tensor
		for _, p := range params {
			g, err := s.Grad(p)
			if err != nil {
				return err
			}
			if g == nil {
				continue
			}
			grads = append(grads, g)
		}
		if n, ok := s.clipGradNormInMemory(grads, maxNorm); ok {
			total = n
			return nil
		}
		for _, g := range grads {
			sq, err := s.PowScalar(g, 2)
			if err != nil {
				return err
			}
			ss, err := s.SumAll(sq)
			if err != nil {
				return err
			}
			ss, err = s.ToDType(ss, Float64)
			if err != nil {
				return err
			}
			squares = append(squares, ss)
		}
		if len(grads) == 0 {
			return nil
		}
		all, err := s.Stack(squares, 0)
		if err != nil {
			return err
		}
		sum, err := s.SumAll(all)
		if err != nil {
			return err
		}
		v, err := s.Item(sum)
		if err != nil {
			return err
		}
		total = math.Sqrt(v)
		coef := maxNorm / (total + 1e-6)
		if coef >= 1 {
			return nil
		}
		sc := lib.AtsFloat(coef)
		defer lib.AtsFree(sc)
		for _, g := range grads {
			r, err := s.call("mul_", func(out *ctensor) { lib.AtgMulScalar_(out, g.c, sc) })
			if err != nil {
				return err
			}
			s.Free(r)
		}
		return nil
	})
	return total, err
}
