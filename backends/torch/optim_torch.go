//go:build torch

package torch

import (
	"errors"
	"fmt"
	"sync"

	lib "github.com/sugarme/gotch/libtch"
)

// AdamW is libtorch's torch::optim::AdamW over a fixed set of parameters.
// Step and ZeroGrad take the current Scope so they run on a worker thread.
type AdamW struct {
	mu sync.Mutex
	c  lib.Coptimizer
}

// NewAdamW creates an AdamW optimiser for params (leaf tensors with
// requires_grad). The optimiser references the parameters; free it with
// Close before freeing them.
func (s *Scope) NewAdamW(params []*Tensor, o AdamWOptions) (*AdamW, error) {
	if len(params) == 0 {
		return nil, errors.New("torch: adamw: no parameters")
	}
	if o.LR <= 0 {
		return nil, fmt.Errorf("torch: adamw: learning rate %v must be positive", o.LR)
	}
	if o.Beta1 == 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 == 0 {
		o.Beta2 = 0.999
	}
	cs, err := s.args("adamw", params...)
	if err != nil {
		return nil, err
	}
	c := lib.AtoAdamW(o.LR, o.Beta1, o.Beta2, o.WeightDecay)
	if err := lastError(); err != nil {
		return nil, fmt.Errorf("torch: adamw: %w", err)
	}
	for _, p := range cs {
		lib.AtoAddParameter(c, p, 0)
		if err := lastError(); err != nil {
			lib.AtoFree(c)
			return nil, fmt.Errorf("torch: adamw: add parameter: %w", err)
		}
	}
	return &AdamW{c: c}, nil
}

func (o *AdamW) do(s *Scope, op string, f func(c lib.Coptimizer)) error {
	if s == nil || s.closed {
		return fmt.Errorf("torch: adamw %s: needs the current scope", op)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.c == nil {
		return fmt.Errorf("torch: adamw %s: optimiser closed", op)
	}
	f(o.c)
	if err := lastError(); err != nil {
		return fmt.Errorf("torch: adamw %s: %w", op, err)
	}
	return nil
}

// Step updates the parameters from their gradients.
func (o *AdamW) Step(s *Scope) error { return o.do(s, "step", lib.AtoStep) }

// ZeroGrad clears the parameters' gradients.
func (o *AdamW) ZeroGrad(s *Scope) error { return o.do(s, "zero_grad", lib.AtoZeroGrad) }

// SetLR changes the learning rate (for schedules).
func (o *AdamW) SetLR(s *Scope, lr float64) error {
	return o.do(s, "set_lr", func(c lib.Coptimizer) { lib.AtoSetLearningRate(c, lr) })
}

// Close frees the optimiser and its state; safe from any goroutine.
func (o *AdamW) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.c != nil {
		lib.AtoFree(o.c)
		o.c = nil
	}
}
