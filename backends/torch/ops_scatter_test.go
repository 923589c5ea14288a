//go:build torch

package torch

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// scatterCase is worked by hand under the loss Σ y·r, r = 1, 2, 3, … over y
// in row-major order: y is x with src written to its index slots (the last
// of a repeated slot standing), ∂/∂x is r with the written slots zeroed, and
// ∂/∂src[i] is r at src[i]'s slot, also where a later write overwrote it
// (PyTorch's grad.gather(dim, index), checked against 2.11.0 by the
// subtest "pytorch").
type scatterCase struct {
	name           string
	x              []float64
	xShape         []int64
	dim            int64
	index          []int64
	src            []float64
	idxShape       []int64
	srcShape       []int64
	y, gradX, grad []float64
}

var scatterCases = []scatterCase{
	{
		// Row 0 writes slot 1 twice: 3 stands, and both writers get r[0][1] = 2.
		name: "dim 1, repeated slots", x: make([]float64, 10), xShape: []int64{2, 5}, dim: 1,
		index: []int64{1, 3, 1, 0, 0, 4}, idxShape: []int64{2, 3},
		src: []float64{1, 2, 3, 4, 5, 6}, srcShape: []int64{2, 3},
		y:     []float64{0, 3, 0, 2, 0, 5, 0, 0, 0, 6},
		gradX: []float64{1, 0, 3, 0, 5, 0, 7, 8, 9, 0},
		grad:  []float64{2, 4, 2, 6, 6, 10},
	},
	{
		// Column 0 writes row 2 twice (9 stands); x keeps its unwritten values.
		name: "dim 0 over a nonzero x", x: []float64{0.5, -1, 2, 1.5, -3, 0.25}, xShape: []int64{3, 2}, dim: 0,
		index: []int64{2, 0, 2, 2}, idxShape: []int64{2, 2},
		src: []float64{7, 8, 9, 10}, srcShape: []int64{2, 2},
		y:     []float64{0.5, 8, 2, 1.5, 9, 10},
		gradX: []float64{1, 0, 3, 4, 0, 0},
		grad:  []float64{5, 2, 5, 6},
	},
	{
		// One slot written three times: the last value stands, all three
		// writers get its gradient.
		name: "one slot three times", x: make([]float64, 3), xShape: []int64{1, 3}, dim: 1,
		index: []int64{2, 2, 2}, idxShape: []int64{1, 3},
		src: []float64{-1, 4, 0.5}, srcShape: []int64{1, 3},
		y:     []float64{0, 0, 0.5},
		gradX: []float64{1, 2, 0},
		grad:  []float64{3, 3, 3},
	},
}

func (c scatterCase) inputs() []input {
	idx := make([]float64, len(c.index))
	for i, v := range c.index {
		idx[i] = float64(v)
	}
	return []input{
		{Data: c.x, Shape: c.xShape, DType: "f32", Grad: true},
		ints(idx, c.idxShape...),
		{Data: c.src, Shape: c.srcShape, DType: "f32", Grad: true},
	}
}

func (c scatterCase) run(s *Scope, x []*Tensor) (*Tensor, error) {
	return s.Scatter(x[0], c.dim, x[1], x[2])
}

// TestScatter checks Scatter and its gradient against the hand-worked
// cases, then the same inputs against PyTorch (with runOpCase's weights).
func TestScatter(t *testing.T) {
	rt := openRuntime(t, Options{})
	for _, c := range scatterCases {
		t.Run(c.name, func(t *testing.T) {
			var y, gx, gs []float32
			err := rt.Do(context.Background(), func(s *Scope) error {
				x, err := s.FromFloat32(f32(c.x), c.xShape...)
				if err != nil {
					return err
				}
				src, err := s.FromFloat32(f32(c.src), c.srcShape...)
				if err != nil {
					return err
				}
				for _, p := range []*Tensor{x, src} {
					if err := s.SetRequiresGrad(p, true); err != nil {
						return err
					}
				}
				idx, err := s.FromInt64(c.index, c.idxShape...)
				if err != nil {
					return err
				}
				out, err := s.Scatter(x, c.dim, idx, src)
				if err != nil {
					return err
				}
				r := make([]float32, out.Numel())
				for k := range r {
					r[k] = float32(k + 1)
				}
				rt, err := s.FromFloat32(r, out.Shape()...)
				if err != nil {
					return err
				}
				prod, err := s.Mul(out, rt)
				if err != nil {
					return err
				}
				loss, err := s.SumAll(prod)
				if err != nil {
					return err
				}
				if err := s.Backward(loss); err != nil {
					return err
				}
				if y, err = s.Float32s(out); err != nil {
					return err
				}
				for _, p := range []struct {
					t   *Tensor
					dst *[]float32
				}{{x, &gx}, {src, &gs}} {
					g, err := s.Grad(p.t)
					if err != nil {
						return err
					}
					if *p.dst, err = s.Float32s(g); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []struct {
				what string
				got  []float32
				want []float64
			}{{"y", y, c.y}, {"∂/∂x", gx, c.gradX}, {"∂/∂src", gs, c.grad}} {
				if fmt.Sprint(f32(v.want)) != fmt.Sprint(v.got) {
					t.Errorf("%s = %v, want %v", v.what, v.got, v.want)
				}
			}
		})
	}
	t.Run("pytorch", func(t *testing.T) {
		cases := make([]opCase, len(scatterCases))
		for i, c := range scatterCases {
			cases[i] = opCase{Name: c.name, In: c.inputs(), Py: fmt.Sprintf("torch.scatter(a, %d, b, c)", c.dim), run: c.run}
		}
		want := pyTorchResults(t, cases)
		for i, c := range cases {
			got := runOpCaseIn(t, rt, c)
			closeAll(t, c.Name+": y", got.Y, want[i].Y)
			closeAll(t, c.Name+": ∂/∂x", got.Grads[0], want[i].Grads[0])
			closeAll(t, c.Name+": ∂/∂src", got.Grads[2], want[i].Grads[2])
		}
	})
	// An index beyond the dimension is an error value, not a crash.
	err := rt.Do(context.Background(), func(s *Scope) error {
		x, err := s.Zeros(Float32, 1, 3)
		if err != nil {
			return err
		}
		idx, err := s.FromInt64([]int64{3}, 1, 1)
		if err != nil {
			return err
		}
		src, err := s.Ones(Float32, 1, 1)
		if err != nil {
			return err
		}
		_, err = s.Scatter(x, 1, idx, src)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "scatter") {
		t.Errorf("index 3 into a row of 3: err = %v, want a scatter error", err)
	}
	if n := rt.LiveTensors(); n != 0 {
		t.Errorf("%d tensors leaked", n)
	}
}
