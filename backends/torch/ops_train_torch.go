//go:build torch

package torch

import (
	"errors"
	"fmt"

	lib "github.com/sugarme/gotch/libtch"
)

// In-place ops for optimisers (train/optim) and for loading training state
// into parameters. They write into x's own memory, as PyTorch's trailing-
// underscore methods do; on a leaf that requires grad, run them inside
// Scope.NoGrad, as torch.optim does.

// inplace runs an in-place op and drops the alias handle libtorch returns.
func (s *Scope) inplace(op string, ts []*Tensor, f func(out *ctensor, cs []ctensor)) error {
	cs, err := s.args(op, ts...)
	if err != nil {
		return err
	}
	alias, err := s.call(op, func(out *ctensor) { f(out, cs) })
	if err != nil {
		return err
	}
	alias.Free()
	return nil
}

// inplaceScalar is inplace for an op with one scalar operand.
func (s *Scope) inplaceScalar(op string, x *Tensor, v float64, f func(out *ctensor, x ctensor, v lib.Cscalar)) error {
	sc := lib.AtsFloat(v)
	defer lib.AtsFree(sc)
	return s.inplace(op, []*Tensor{x}, func(out *ctensor, cs []ctensor) { f(out, cs[0], sc) })
}

// MulScalarInPlace is x.mul_(v).
func (s *Scope) MulScalarInPlace(x *Tensor, v float64) error {
	return s.inplaceScalar("mul_", x, v, lib.AtgMulScalar_)
}

// DivScalarInPlace is x.div_(v) (a true division, not a multiplication by
// 1/v, so results match PyTorch's bit for bit).
func (s *Scope) DivScalarInPlace(x *Tensor, v float64) error {
	return s.inplaceScalar("div_", x, v, lib.AtgDivScalar_)
}

// AddScalarInPlace is x.add_(v).
func (s *Scope) AddScalarInPlace(x *Tensor, v float64) error {
	return s.inplaceScalar("add_", x, v, lib.AtgAddScalar_)
}

// AddInPlace is x.add_(y) (broadcasting y).
func (s *Scope) AddInPlace(x, y *Tensor) error {
	return s.inplace("add_", []*Tensor{x, y}, func(out *ctensor, cs []ctensor) { lib.AtgAdd_(out, cs[0], cs[1]) })
}

// LerpInPlace is x.lerp_(end, w): x + w·(end − x), Adam's first-moment
// update in PyTorch ≥ 2.0.
func (s *Scope) LerpInPlace(x, end *Tensor, w float64) error {
	sc := lib.AtsFloat(w)
	defer lib.AtsFree(sc)
	return s.inplace("lerp_", []*Tensor{x, end}, func(out *ctensor, cs []ctensor) { lib.AtgLerp_(out, cs[0], cs[1], sc) })
}

// CopyInPlace is dst.copy_(src): src's values (broadcast, converted) into
// dst's memory, e.g. a checkpoint's weights into a parameter.
func (s *Scope) CopyInPlace(dst, src *Tensor) error {
	cs, err := s.args("copy_", dst, src)
	if err != nil {
		return err
	}
	s.out.clear()
	lib.AtCopy_(cs[0], cs[1])
	if err := lastError(); err != nil {
		return fmt.Errorf("torch: copy_: %w", err)
	}
	return nil
}

// Release hands tensors owned by s or by a scope enclosing it to the
// caller, who frees them with Tensor.Free: state that outlives the Do call
// it was created in (optimiser moments) but is created deep inside nested
// scopes.
func (s *Scope) Release(ts ...*Tensor) error {
	for _, t := range ts {
		if t == nil {
			return errors.New("torch: Release of a nil tensor")
		}
		t.mu.Lock()
		owner := t.scope
		switch {
		case t.c == nil:
			t.mu.Unlock()
			return fmt.Errorf("torch: Release: %w", errFreed)
		case owner == nil:
			t.mu.Unlock()
			continue
		}
		ok := false
		for p := s; p != nil; p = p.parent {
			if p == owner {
				ok = true
				break
			}
		}
		if !ok {
			t.mu.Unlock()
			return errors.New("torch: Release of a tensor neither this scope nor an enclosing one owns")
		}
		t.scope = nil
		t.mu.Unlock()
	}
	return nil
}

// Runtime is the runtime this scope's callback runs on.
func (s *Scope) Runtime() *Runtime { return s.rt }
