//go:build torch

package torch

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Tensor is a handle to a libtorch tensor. Its metadata methods are safe
// anywhere; ops on it go through a Scope.
type Tensor struct {
	mu    sync.Mutex // guards c and scope against Free racing a scope's end
	c     ctensor
	rt    *Runtime
	scope *Scope // owner; nil when the caller owns it
}

// Scope is the context of one Do callback (or of Nested/NoGrad inside it): it
// creates tensors, runs ops and frees what it created. A Scope must not be
// used after its callback returns or from another goroutine.
type Scope struct {
	rt     *Runtime
	parent *Scope
	out    outBuf
	ctx    context.Context
	owned  []*Tensor
	closed bool
}

var errFreed = errors.New("tensor already freed")

// Context is the context passed to Do.
func (s *Scope) Context() context.Context { return s.ctx }

// Device is where this scope's creation ops place tensors.
func (s *Scope) Device() Device { return s.rt.device }

// Nested runs fn in a nested scope: tensors created there are freed when fn
// returns, unless kept (Keep moves them to s).
func (s *Scope) Nested(fn func(s *Scope) error) error {
	if s.closed {
		return errors.New("torch: scope used after its callback returned")
	}
	child := &Scope{rt: s.rt, parent: s, out: s.out, ctx: s.ctx}
	defer child.close()
	return fn(child)
}

// NoGrad runs fn in a nested scope with autograd recording off, as
// torch.no_grad() does; the previous mode is restored afterwards.
func (s *Scope) NoGrad(fn func(s *Scope) error) error {
	prev := cGradSetEnabled(false)
	defer cGradSetEnabled(prev)
	return s.Nested(fn)
}

// GradEnabled reports whether autograd records ops on this worker now.
func (s *Scope) GradEnabled() bool {
	prev := cGradSetEnabled(true)
	cGradSetEnabled(prev)
	return prev
}

// Keep moves tensors owned by s to the enclosing scope; in the outermost
// scope they outlive Do and the caller owns them (free with Tensor.Free).
func (s *Scope) Keep(ts ...*Tensor) error {
	for _, t := range ts {
		if t == nil {
			return errors.New("torch: Keep of a nil tensor")
		}
		t.mu.Lock()
		switch {
		case t.c == nil:
			t.mu.Unlock()
			return fmt.Errorf("torch: Keep: %w", errFreed)
		case t.scope != s:
			t.mu.Unlock()
			return errors.New("torch: Keep of a tensor this scope does not own")
		}
		t.scope = s.parent
		t.mu.Unlock()
		if s.parent != nil {
			s.parent.owned = append(s.parent.owned, t)
		}
	}
	return nil
}

// Own hands caller-owned tensors to s, which frees them when it ends.
func (s *Scope) Own(ts ...*Tensor) error {
	for _, t := range ts {
		if t == nil {
			return errors.New("torch: Own of a nil tensor")
		}
		t.mu.Lock()
		switch {
		case t.c == nil:
			t.mu.Unlock()
			return fmt.Errorf("torch: Own: %w", errFreed)
		case t.scope != nil:
			t.mu.Unlock()
			return errors.New("torch: Own of a tensor a scope already owns")
		}
		t.scope = s
		t.mu.Unlock()
		s.owned = append(s.owned, t)
	}
	return nil
}

// Free frees tensors now instead of at the end of their scope.
func (s *Scope) Free(ts ...*Tensor) {
	for _, t := range ts {
		t.Free()
	}
}

// close frees every tensor the scope still owns.
func (s *Scope) close() {
	if s.closed {
		return
	}
	s.closed = true
	for _, t := range s.owned {
		t.mu.Lock()
		if t.scope == s {
			t.freeLocked()
		}
		t.mu.Unlock()
	}
	s.owned = nil
}

// newTensor wraps an op's result as a tensor owned by s.
func (s *Scope) newTensor(c ctensor) *Tensor {
	t := &Tensor{c: c, rt: s.rt, scope: s}
	s.rt.live.Add(1)
	s.owned = append(s.owned, t)
	return t
}

// Free releases the tensor's memory now. It is safe from any goroutine and
// a no-op on a freed or nil tensor.
func (t *Tensor) Free() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.freeLocked()
	t.mu.Unlock()
}

func (t *Tensor) freeLocked() {
	if t.c == nil {
		return
	}
	cFree(t.c)
	t.c = nil
	t.scope = nil
	t.rt.live.Add(-1)
}

// handle returns the C pointer, or an error if t is nil or freed.
func (t *Tensor) handle() (ctensor, error) {
	if t == nil {
		return nil, errors.New("nil tensor")
	}
	t.mu.Lock()
	c := t.c
	t.mu.Unlock()
	if c == nil {
		return nil, errFreed
	}
	return c, nil
}

// Freed reports whether the tensor's memory was released.
func (t *Tensor) Freed() bool {
	_, err := t.handle()
	return err != nil
}

// Shape is the tensor's size per dimension (nil once freed).
func (t *Tensor) Shape() []int64 {
	c, err := t.handle()
	if err != nil {
		return nil
	}
	return cShape(c)
}

// Dim is the number of dimensions.
func (t *Tensor) Dim() int { return len(t.Shape()) }

// Numel is the number of elements.
func (t *Tensor) Numel() int64 {
	c, err := t.handle()
	if err != nil {
		return 0
	}
	n := int64(1)
	for _, d := range cShape(c) {
		n *= d
	}
	return n
}

// DType is the element type.
func (t *Tensor) DType() DType {
	c, err := t.handle()
	if err != nil {
		return -1
	}
	return cScalarType(c)
}

// Device is where the tensor's memory lives.
func (t *Tensor) Device() Device {
	c, err := t.handle()
	if err != nil {
		return CPU
	}
	return cDevice(c)
}

// RequiresGrad reports whether autograd tracks this tensor.
func (t *Tensor) RequiresGrad() bool {
	c, err := t.handle()
	if err != nil {
		return false
	}
	return cRequiresGrad(c)
}

func (t *Tensor) String() string {
	if t.Freed() {
		return "Tensor(freed)"
	}
	return fmt.Sprintf("Tensor(%s %v %s)", t.DType(), t.Shape(), t.Device())
}
