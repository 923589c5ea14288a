//go:build torch

package torch

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
)

// mlp is a 2-layer perceptron with tanh and a softmax cross-entropy loss:
// logits = tanh(x·W1ᵀ + b1)·W2ᵀ + b2.
type mlp struct {
	X       [][]float64 `json:"x"`
	W1      [][]float64 `json:"w1"`
	B1      []float64   `json:"b1"`
	W2      [][]float64 `json:"w2"`
	B2      []float64   `json:"b2"`
	Targets []int64     `json:"targets"`
}

type mlpGrads struct {
	Loss float64     `json:"loss"`
	W1   [][]float64 `json:"w1"`
	B1   []float64   `json:"b1"`
	W2   [][]float64 `json:"w2"`
	B2   []float64   `json:"b2"`
}

// fixture fills the model with deterministic, irregular values.
func fixture() mlp {
	fill := func(r, c int, a, b float64) [][]float64 {
		m := make([][]float64, r)
		for i := range m {
			m[i] = make([]float64, c)
			for j := range m[i] {
				m[i][j] = 0.8 * math.Sin(a*float64(i+1)+b*float64(j+1))
			}
		}
		return m
	}
	return mlp{
		X:       fill(3, 4, 0.7, 0.3),
		W1:      fill(5, 4, 1.3, -0.4),
		B1:      []float64{0.1, -0.2, 0.05, 0, 0.3},
		W2:      fill(3, 5, -0.9, 0.6),
		B2:      []float64{0.02, -0.1, 0.07},
		Targets: []int64{0, 2, 1},
	}
}

// byHand computes the loss and gradients with plain float64 arithmetic:
// dlogits = (softmax - onehot)/N, dW2 = dlogitsᵀ·h, dh = dlogits·W2,
// dpre = dh·(1 - h²), dW1 = dpreᵀ·x.
func byHand(m mlp) mlpGrads {
	n, hid, cls, in := len(m.X), len(m.B1), len(m.B2), len(m.X[0])
	h := make([][]float64, n)
	dl := make([][]float64, n)
	var loss float64
	for i := 0; i < n; i++ {
		h[i] = make([]float64, hid)
		for k := 0; k < hid; k++ {
			s := m.B1[k]
			for j := 0; j < in; j++ {
				s += m.X[i][j] * m.W1[k][j]
			}
			h[i][k] = math.Tanh(s)
		}
		logits := make([]float64, cls)
		maxv := math.Inf(-1)
		for c := 0; c < cls; c++ {
			s := m.B2[c]
			for k := 0; k < hid; k++ {
				s += h[i][k] * m.W2[c][k]
			}
			logits[c] = s
			maxv = math.Max(maxv, s)
		}
		var z float64
		for _, l := range logits {
			z += math.Exp(l - maxv)
		}
		dl[i] = make([]float64, cls)
		for c := range logits {
			p := math.Exp(logits[c]-maxv) / z
			if int64(c) == m.Targets[i] {
				loss += -math.Log(p)
				p--
			}
			dl[i][c] = p / float64(n)
		}
	}
	g := mlpGrads{Loss: loss / float64(n), B2: make([]float64, cls), B1: make([]float64, hid)}
	g.W2 = make([][]float64, cls)
	for c := range g.W2 {
		g.W2[c] = make([]float64, hid)
	}
	g.W1 = make([][]float64, hid)
	for k := range g.W1 {
		g.W1[k] = make([]float64, in)
	}
	for i := 0; i < n; i++ {
		for c := 0; c < cls; c++ {
			g.B2[c] += dl[i][c]
			for k := 0; k < hid; k++ {
				g.W2[c][k] += dl[i][c] * h[i][k]
			}
		}
		for k := 0; k < hid; k++ {
			var dh float64
			for c := 0; c < cls; c++ {
				dh += dl[i][c] * m.W2[c][k]
			}
			dpre := dh * (1 - h[i][k]*h[i][k])
			g.B1[k] += dpre
			for j := 0; j < in; j++ {
				g.W1[k][j] += dpre * m.X[i][j]
			}
		}
	}
	return g
}

const mlpOracle = `
import json, sys, torch
m = json.loads(sys.argv[1])
t = lambda v, **kw: torch.tensor(v, dtype=torch.float32, **kw)
w1, b1 = t(m["w1"], requires_grad=True), t(m["b1"], requires_grad=True)
w2, b2 = t(m["w2"], requires_grad=True), t(m["b2"], requires_grad=True)
h = torch.tanh(torch.nn.functional.linear(t(m["x"]), w1, b1))
loss = torch.nn.functional.cross_entropy(torch.nn.functional.linear(h, w2, b2), torch.tensor(m["targets"]))
loss.backward()
print(json.dumps({"loss": loss.item(), "w1": w1.grad.tolist(), "b1": b1.grad.tolist(),
                  "w2": w2.grad.tolist(), "b2": b2.grad.tolist()}))
`

func flat(m [][]float64) []float32 {
	var out []float32
	for _, r := range m {
		for _, v := range r {
			out = append(out, float32(v))
		}
	}
	return out
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// viaTorch runs the model forward and backward through backends/torch.
func viaTorch(t *testing.T, rt *Runtime, m mlp) mlpGrads {
	t.Helper()
	var g mlpGrads
	err := rt.Do(context.Background(), func(s *Scope) error {
		x, err := s.FromFloat32(flat(m.X), int64(len(m.X)), int64(len(m.X[0])))
		if err != nil {
			return err
		}
		param := func(data []float32, shape ...int64) *Tensor {
			if err != nil {
				return nil
			}
			var p *Tensor
			if p, err = s.FromFloat32(data, shape...); err == nil {
				err = s.SetRequiresGrad(p, true)
			}
			return p
		}
		w1 := param(flat(m.W1), int64(len(m.W1)), int64(len(m.W1[0])))
		b1 := param(f32(m.B1))
		w2 := param(flat(m.W2), int64(len(m.W2)), int64(len(m.W2[0])))
		b2 := param(f32(m.B2))
		if err != nil {
			return err
		}
		targets, err := s.FromInt64(m.Targets)
		if err != nil {
			return err
		}
		pre, err := s.Linear(x, w1, b1)
		if err != nil {
			return err
		}
		h, err := s.Tanh(pre)
		if err != nil {
			return err
		}
		logits, err := s.Linear(h, w2, b2)
		if err != nil {
			return err
		}
		loss, err := s.CrossEntropy(logits, targets, ReduceMean)
		if err != nil {
			return err
		}
		if err := s.Backward(loss); err != nil {
			return err
		}
		if g.Loss, err = s.Item(loss); err != nil {
			return err
		}
		read := func(p *Tensor, rows int) [][]float64 {
			gp, gerr := s.Grad(p)
			if gerr != nil || gp == nil {
				t.Fatalf("no gradient for %v: %v", p, gerr)
			}
			v, gerr := s.Float32s(gp)
			if gerr != nil {
				t.Fatal(gerr)
			}
			out := make([][]float64, rows)
			cols := len(v) / rows
			for i := range out {
				for _, x := range v[i*cols : (i+1)*cols] {
					out[i] = append(out[i], float64(x))
				}
			}
			return out
		}
		g.W1, g.W2 = read(w1, len(m.W1)), read(w2, len(m.W2))
		g.B1, g.B2 = read(b1, 1)[0], read(b2, 1)[0]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func assertClose(t *testing.T, what string, got, want mlpGrads, tol float64) {
	t.Helper()
	check := func(name string, a, b []float64) {
		if len(a) != len(b) {
			t.Fatalf("%s %s: %d values, want %d", what, name, len(a), len(b))
		}
		for i := range a {
			if math.Abs(a[i]-b[i]) > tol {
				t.Errorf("%s %s[%d] = %.9f, want %.9f (|diff| %.2g > %.0g)", what, name, i, a[i], b[i], math.Abs(a[i]-b[i]), tol)
			}
		}
	}
	flat64 := func(m [][]float64) []float64 {
		var o []float64
		for _, r := range m {
			o = append(o, r...)
		}
		return o
	}
	check("loss", []float64{got.Loss}, []float64{want.Loss})
	check("dW1", flat64(got.W1), flat64(want.W1))
	check("db1", got.B1, want.B1)
	check("dW2", flat64(got.W2), flat64(want.W2))
	check("db2", got.B2, want.B2)
}

// TestMLPGradients checks backward through Linear, Tanh and CrossEntropy
// against gradients derived by hand in Go and against PyTorch 2.11.0.
func TestMLPGradients(t *testing.T) {
	rt := openRuntime(t, Options{})
	m := fixture()
	got := viaTorch(t, rt, m)

	assertClose(t, "vs hand-derived", got, byHand(m), 1e-6)

	in, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var py mlpGrads
	if err := json.Unmarshal(testenv.RunTorchPython(t, mlpOracle, string(in)), &py); err != nil {
		t.Fatal(err)
	}
	assertClose(t, "vs PyTorch", got, py, 1e-6)
	if rt.LiveTensors() != 0 {
		t.Errorf("%d tensors leaked", rt.LiveTensors())
	}
}

func openRuntime(t *testing.T, o Options) *Runtime {
	t.Helper()
	rt, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}
