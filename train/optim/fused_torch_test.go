//go:build torch

package optim

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"github.com/irflow/irflow/backends/torch"
)

// TestInMemoryStepEqualsLibtorchOps runs the same AdamW steps on the same
// random parameters and gradients once through libtorch's ops (PyTorch's
// single-tensor path, op by op) and once through the one-pass update, with
// and without weight decay. The moments must be bitwise equal. The
// parameters may differ by a rounding of the update: libtorch takes the
// square root with MKL's vectorised sqrt (within 1 ulp; it differs from the
// correctly rounded root for about 17% of inputs), Go's math.Sqrt is exact.
func TestInMemoryStepEqualsLibtorchOps(t *testing.T) {
	rt, err := torch.Open(torch.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	const n = 3*(1<<15) + 123 // several parallel blocks and a ragged tail
	rng := rand.New(rand.NewSource(7))
	param := make([]float32, n)
	grads := make([][]float32, 4)
	for i := range param {
		param[i] = float32(rng.NormFloat64() * 0.05)
	}
	for s := range grads {
		grads[s] = make([]float32, n)
		for i := range grads[s] {
			grads[s][i] = float32(rng.NormFloat64() * math.Pow(10, float64(-rng.Intn(6))))
		}
	}
	run := func(memory bool, wd float64) (p, m, v []float32) {
		inMemory = memory
		defer func() { inMemory = true }()
		err := rt.Do(context.Background(), func(s *torch.Scope) error {
			pt, err := s.FromFloat32(param, n)
			if err != nil {
				return err
			}
			if err := s.SetRequiresGrad(pt, true); err != nil {
				return err
			}
			a, err := New(s, []Group{{Names: []string{"w"}, Params: []*torch.Tensor{pt}, WeightDecay: wd}}, Options{LR: 2e-3, Eps: 1e-8})
			if err != nil {
				return err
			}
			defer a.Close()
			for step, g := range grads {
				gt, err := s.FromFloat32(g, n)
				if err != nil {
					return err
				}
				// loss = Σ p·g gives p.grad = g.
				loss, err := s.Mul(pt, gt)
				if err == nil {
					loss, err = s.SumAll(loss)
				}
				if err == nil {
					err = s.Backward(loss)
				}
				if err == nil {
					err = a.Step(s, 2e-3*float64(step+1)/4)
				}
				if err == nil {
					err = a.ZeroGrad(s)
				}
				if err != nil {
					return err
				}
			}
			st := a.state[0][0]
			if p, err = s.Float32s(pt); err == nil {
				if m, err = s.Float32s(st.expAvg); err == nil {
					v, err = s.Float32s(st.expAvgSq)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return p, m, v
	}
	for _, wd := range []float64{0, 0.01} {
		wp, wm, wv := run(false, wd)
		gp, gm, gv := run(true, wd)
		for name, pair := range map[string][2][]float32{"param": {wp, gp}, "exp_avg": {wm, gm}, "exp_avg_sq": {wv, gv}} {
			// Once the parameters differ, each step may round them apart
			// by an ulp; Σ lr over the steps bounds the updates, which a
			// 1-ulp root changes by < 2⁻²² of themselves.
			tol := func(x float32) float64 {
				if name != "param" {
					return 0
				}
				return float64(len(grads))*ulp(x) + 5e-3*0x1p-22
			}
			off := 0
			for i := range pair[0] {
				a, b := pair[0][i], pair[1][i]
				if d := math.Abs(float64(a) - float64(b)); d > tol(a) {
					t.Fatalf("wd %v: %s[%d] = %v in memory, %v through libtorch (tolerance %.3g)", wd, name, i, b, a, tol(a))
				}
				if a != b {
					off++
				}
			}
			t.Logf("wd %v: %s: %d of %d values differ", wd, name, off, n)
		}
	}
}

// ulp is the spacing of float32 values at x.
func ulp(x float32) float64 {
	x = float32(math.Abs(float64(x)))
	return float64(math.Nextafter32(x, float32(math.Inf(1))) - x)
}
