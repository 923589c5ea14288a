package optim

import (
	"math"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/internal/parallel"
)

// updateInMemory is update's AdamW step as one pass over the memory of a
// CPU parameter, its gradient and moments (all contiguous float32), instead
// of the dozen libtorch passes of PyTorch's single-tensor path: the update
// is memory-bound, so reading and writing each array once is what saves
// time. Each element goes through PyTorch's float32 operations in PyTorch's
// order, so the result is the same; false leaves the step to libtorch's ops
// (other devices or layouts). st.step is already advanced.
func (a *AdamW) updateInMemory(s *torch.Scope, p, grad *torch.Tensor, st *moments, lr, wd float64, o Options) bool {
	if !inMemory {
		return false
	}
	pm, ok1 := s.Float32Memory(p)
	gm, ok2 := s.Float32Memory(grad)
	mm, ok3 := s.Float32Memory(st.expAvg)
	vm, ok4 := s.Float32Memory(st.expAvgSq)
	if !ok1 || !ok2 || !ok3 || !ok4 || len(gm) != len(pm) || len(mm) != len(pm) || len(vm) != len(pm) {
		return false
	}
	t := float64(st.step)
	c := adamwCoefficients{
		decay:    float32(1 - lr*wd),
		weight:   float32(1 - o.Beta1),
		beta2:    float32(o.Beta2),
		oneMinB2: float32(1 - o.Beta2),
		bc2Sqrt:  float32(math.Sqrt(1 - math.Pow(o.Beta2, t))),
		eps:      float32(o.Eps),
		stepSize: float32(-lr / (1 - math.Pow(o.Beta1, t))),
		decays:   wd != 0,
	}
	parallel.Blocks(len(pm), s.Runtime().Threads(), func(_, lo, hi int) {
		c.apply(pm[lo:hi], gm[lo:hi], mm[lo:hi], vm[lo:hi])
	})
	return true
}

// inMemory enables updateInMemory; tests turn it off to compare with the
// libtorch path.
var inMemory = true

// adamwCoefficients are one step's scalars, rounded to float32 as libtorch
// rounds a Python scalar applied to a float32 tensor.
type adamwCoefficients struct {
	decay, weight, beta2, oneMinB2, bc2Sqrt, eps, stepSize float32
	decays                                                 bool
}

// apply updates p, m and v in place from g, element by element:
//
//	p ← p·decay                                 (p.mul_(1 − lr·wd))
//	m ← lerp(m, g, 1−β1)                        (m.lerp_(g, 1 − β1))
//	v ← v·β2 + ((1−β2)·g)·g                     (v.mul_(β2).addcmul_(g, g, value=1 − β2))
//	p ← p + (stepSize·m) / (√v / √bc2 + eps)    (p.addcdiv_(m, denom, value=−lr/bc1))
//
// Every intermediate is converted to float32 explicitly, so no fused
// multiply-add merges two of PyTorch's roundings into one.
func (c adamwCoefficients) apply(p, g, m, v []float32) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i := range p {
		pi, gi, mi := p[i], g[i], m[i]
		if c.decays {
			pi = float32(pi * c.decay)
		}
		// torch.lerp's vectorised CPU kernel: one fused multiply-add,
		// fma(w, end − start, start) for w < 0.5, else
		// fma(w − 1, end − start, end).
		if c.weight < 0.5 {
			mi = fma32(c.weight, gi-mi, mi)
		} else {
			mi = fma32(c.weight-1, gi-mi, gi)
		}
		vi := float32(v[i]*c.beta2) + float32(float32(c.oneMinB2*gi)*gi)
		denom := float32(float32(math.Sqrt(float64(vi)))/c.bc2Sqrt) + c.eps
		pi = pi + float32(float32(c.stepSize*mi)/denom)
		p[i], m[i], v[i] = pi, mi, vi
	}
}

// fma32 is a·b + c rounded once to float32 (the product of two float32s is
// exact in float64, so only the sum rounds, then once more to float32).
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}
