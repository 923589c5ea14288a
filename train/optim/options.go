// Package optim is irflow's AdamW: PyTorch 2.11's torch.optim.AdamW update
// (decoupled weight decay, bias-corrected moments, eps added after the
// square root), written with backends/torch's in-place ops so that its
// state — the moments and step counts — is saved and loaded with a
// checkpoint, which libtorch's own optimiser does not allow through gotch.
//
//	o, err := optim.New(s, []optim.Group{
//		{Params: decay, Names: decayNames, WeightDecay: 0.01},
//		{Params: noDecay, Names: noDecayNames}, // biases, LayerNorm weights: 0
//	}, optim.Options{LR: 2e-5})
//	// each step: s.Backward(loss); o.ClipGradNorm(s, 1); o.Step(s, lr); o.ZeroGrad(s)
package optim

import (
	"errors"
	"fmt"
	"math"

	"github.com/irflow/irflow/backends/torch"
)

// Options are AdamW's hyper-parameters. Zero Beta1, Beta2, Eps and
// WeightDecay take PyTorch's defaults 0.9, 0.999, 1e-8 and 0.01. LR is the
// base rate, for the record: Step takes each step's rate (the schedule's).
type Options struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
}

// Group is a parameter group: leaf tensors with requires_grad, one unique
// name each (the key of its moments in the saved state) and the group's
// weight decay. A negative WeightDecay takes Options.WeightDecay; the
// no-decay group (biases, LayerNorm weights) has 0.
type Group struct {
	Params      []*torch.Tensor
	Names       []string
	WeightDecay float64
}

func (o Options) withDefaults() (Options, error) {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Beta1, 0.9)
	def(&o.Beta2, 0.999)
	def(&o.Eps, 1e-8)
	def(&o.WeightDecay, 0.01)
	for _, c := range []struct {
		name string
		v    float64
		ok   bool
	}{
		{"lr", o.LR, o.LR >= 0},
		{"beta1", o.Beta1, o.Beta1 >= 0 && o.Beta1 < 1},
		{"beta2", o.Beta2, o.Beta2 >= 0 && o.Beta2 < 1},
		{"eps", o.Eps, o.Eps > 0},
		{"weight_decay", o.WeightDecay, o.WeightDecay >= 0},
	} {
		if !c.ok || math.IsNaN(c.v) || math.IsInf(c.v, 0) {
			return o, fmt.Errorf("adamw: invalid %s %v", c.name, c.v)
		}
	}
	return o, nil
}

// checkGroups validates names and sizes and resolves negative decays.
func checkGroups(groups []Group, o Options) ([]Group, error) {
	if len(groups) == 0 {
		return nil, errors.New("adamw: no parameter groups")
	}
	seen := map[string]bool{}
	out := make([]Group, len(groups))
	for gi, g := range groups {
		if len(g.Params) != len(g.Names) {
			return nil, fmt.Errorf("adamw: group %d has %d parameters but %d names", gi, len(g.Params), len(g.Names))
		}
		if g.WeightDecay < 0 {
			g.WeightDecay = o.WeightDecay
		}
		if math.IsNaN(g.WeightDecay) || math.IsInf(g.WeightDecay, 0) {
			return nil, fmt.Errorf("adamw: group %d: invalid weight decay %v", gi, g.WeightDecay)
		}
		for i, n := range g.Names {
			if n == "" || seen[n] {
				return nil, fmt.Errorf("adamw: group %d: parameter name %q is empty or not unique", gi, n)
			}
			seen[n] = true
			if g.Params[i] == nil {
				return nil, fmt.Errorf("adamw: parameter %s is nil", n)
			}
		}
		out[gi] = g
	}
	return out, nil
}
