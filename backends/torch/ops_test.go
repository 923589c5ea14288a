//go:build torch

package torch

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
)

// input is one argument of an op case: values, shape, dtype ("f32", "i64"
// or "bool") and whether its gradient is checked.
type input struct {
	Data  []float64 `json:"data"`
	Shape []int64   `json:"shape"`
	DType string    `json:"dtype"`
	Grad  bool      `json:"grad"`
}

// opCase runs one op in Go and the same expression (over inputs a, b, c) in
// PyTorch; outputs and the gradients of sum(y·r) must agree.
type opCase struct {
	Name string  `json:"name"`
	In   []input `json:"inputs"`
	Py   string  `json:"expr"`
	run  func(s *Scope, x []*Tensor) (*Tensor, error)
}

type opResult struct {
	Y     []float64   `json:"y"`
	Shape []int64     `json:"shape"`
	Grads [][]float64 `json:"grads"`
}

// vals makes n irregular values in about [-2, 2].
func vals(n int, seed float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 2 * math.Sin(seed*float64(i+1)+0.5*seed)
	}
	return v
}

func f(n int, seed float64, shape ...int64) input {
	return input{Data: vals(n, seed), Shape: shape, DType: "f32", Grad: true}
}

func ints(data []float64, shape ...int64) input {
	return input{Data: data, Shape: shape, DType: "i64"}
}

func bools(data []float64, shape ...int64) input {
	return input{Data: data, Shape: shape, DType: "bool"}
}

func one(op func(s *Scope, x *Tensor) (*Tensor, error)) func(*Scope, []*Tensor) (*Tensor, error) {
	return func(s *Scope, x []*Tensor) (*Tensor, error) { return op(s, x[0]) }
}

func two(op func(s *Scope, a, b *Tensor) (*Tensor, error)) func(*Scope, []*Tensor) (*Tensor, error) {
	return func(s *Scope, x []*Tensor) (*Tensor, error) { return op(s, x[0], x[1]) }
}

func opCases() []opCase {
	return []opCase{
		{Name: "add broadcast", In: []input{f(6, 0.3, 2, 3), f(3, 0.7, 3)}, Py: "a + b", run: two((*Scope).Add)},
		{Name: "sub", In: []input{f(6, 0.3, 2, 3), f(6, 1.1, 2, 3)}, Py: "a - b", run: two((*Scope).Sub)},
		{Name: "mul", In: []input{f(6, 0.3, 2, 3), f(6, 1.1, 2, 3)}, Py: "a * b", run: two((*Scope).Mul)},
		{Name: "div", In: []input{f(6, 0.3, 2, 3), {Data: []float64{1.5, -2, 3, 0.7, -0.9, 4}, Shape: []int64{2, 3}, DType: "f32", Grad: true}}, Py: "a / b", run: two((*Scope).Div)},
		{Name: "minimum", In: []input{f(6, 0.3, 2, 3), f(6, 1.1, 2, 3)}, Py: "torch.minimum(a, b)", run: two((*Scope).Minimum)},
		{Name: "add scalar", In: []input{f(4, 0.9, 4)}, Py: "a + 2.5", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.AddScalar(x, 2.5) })},
		{Name: "mul scalar", In: []input{f(4, 0.9, 4)}, Py: "a * -1.5", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.MulScalar(x, -1.5) })},
		{Name: "pow", In: []input{f(4, 0.9, 4)}, Py: "a ** 3", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.PowScalar(x, 3) })},
		{Name: "clamp max", In: []input{f(6, 0.4, 6)}, Py: "torch.clamp_max(a, 0.5)", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.ClampMax(x, 0.5) })},
		{Name: "eq scalar", In: []input{ints([]float64{1, 0, 3, 0}, 4)}, Py: "a == 0", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.EqScalar(x, 0) })},
		{Name: "neg", In: []input{f(4, 0.2, 4)}, Py: "-a", run: one((*Scope).Neg)},
		{Name: "exp", In: []input{f(4, 0.2, 4)}, Py: "torch.exp(a)", run: one((*Scope).Exp)},
		{Name: "log", In: []input{{Data: []float64{0.5, 1.5, 3, 7}, Shape: []int64{4}, DType: "f32", Grad: true}}, Py: "torch.log(a)", run: one((*Scope).Log)},
		{Name: "sqrt", In: []input{{Data: []float64{0.5, 1.5, 3, 7}, Shape: []int64{4}, DType: "f32", Grad: true}}, Py: "torch.sqrt(a)", run: one((*Scope).Sqrt)},
		{Name: "tanh", In: []input{f(5, 0.6, 5)}, Py: "torch.tanh(a)", run: one((*Scope).Tanh)},
		{Name: "relu", In: []input{f(5, 0.6, 5)}, Py: "torch.relu(a)", run: one((*Scope).ReLU)},
		{Name: "sigmoid", In: []input{f(5, 0.6, 5)}, Py: "torch.sigmoid(a)", run: one((*Scope).Sigmoid)},
		{Name: "log1p relu (SPLADE)", In: []input{f(6, 0.8, 2, 3)}, Py: "torch.log1p(torch.relu(a))", run: one(func(s *Scope, x *Tensor) (*Tensor, error) {
			r, err := s.ReLU(x)
			if err != nil {
				return nil, err
			}
			return s.Log1p(r)
		})},
		{Name: "gelu erf", In: []input{f(8, 0.45, 2, 4)}, Py: "F.gelu(a)", run: one((*Scope).GELU)},
		{Name: "masked fill", In: []input{f(6, 0.5, 2, 3), bools([]float64{0, 1, 0, 1, 0, 0}, 2, 3)}, Py: "a.masked_fill(b, -10000.0)", run: func(s *Scope, x []*Tensor) (*Tensor, error) {
			return s.MaskedFill(x[0], x[1], -1e4)
		}},
		{Name: "matmul batched", In: []input{f(12, 0.3, 2, 2, 3), f(12, 0.9, 3, 4)}, Py: "torch.matmul(a, b)", run: two((*Scope).MatMul)},
		{Name: "linear", In: []input{f(6, 0.3, 2, 3), f(12, 0.9, 4, 3), f(4, 1.7, 4)}, Py: "F.linear(a, b, c)", run: func(s *Scope, x []*Tensor) (*Tensor, error) {
			return s.Linear(x[0], x[1], x[2])
		}},
		{Name: "linear no bias", In: []input{f(6, 0.3, 2, 3), f(12, 0.9, 4, 3)}, Py: "F.linear(a, b)", run: func(s *Scope, x []*Tensor) (*Tensor, error) {
			return s.Linear(x[0], x[1], nil)
		}},
		{Name: "embedding", In: []input{f(18, 0.35, 6, 3), ints([]float64{5, 0, 2, 5}, 2, 2)}, Py: "F.embedding(b, a)", run: two((*Scope).Embedding)},
		{Name: "layer norm eps 1e-12", In: []input{f(10, 0.77, 2, 5), f(5, 1.3, 5), f(5, 0.2, 5)}, Py: "F.layer_norm(a, (5,), b, c, eps=1e-12)", run: func(s *Scope, x []*Tensor) (*Tensor, error) {
			return s.LayerNorm(x[0], []int64{5}, x[1], x[2], 1e-12)
		}},
		{Name: "dropout eval", In: []input{f(6, 0.3, 6)}, Py: "F.dropout(a, 0.5, training=False)", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.Dropout(x, 0.5, false) })},
		{Name: "softmax", In: []input{f(8, 0.6, 2, 4)}, Py: "torch.softmax(a, -1)", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.Softmax(x, -1) })},
		{Name: "log softmax dim 0", In: []input{f(8, 0.6, 2, 4)}, Py: "torch.log_softmax(a, 0)", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.LogSoftmax(x, 0) })},
		{Name: "sum keepdim", In: []input{f(12, 0.25, 2, 3, 2)}, Py: "a.sum(dim=[0, 2], keepdim=True)", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.Sum(x, []int64{0, 2}, true) })},
		{Name: "mean", In: []input{f(12, 0.25, 2, 3, 2)}, Py: "a.mean(dim=[1])", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.Mean(x, []int64{1}, false) })},
		{Name: "sum all", In: []input{f(6, 0.25, 2, 3)}, Py: "a.sum()", run: one((*Scope).SumAll)},
		{Name: "mean all", In: []input{f(6, 0.25, 2, 3)}, Py: "a.mean()", run: one((*Scope).MeanAll)},
		{Name: "max dim", In: []input{f(12, 0.55, 3, 4)}, Py: "a.max(dim=1).values", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.Max(x, 1, false) })},
		{Name: "max keepdim", In: []input{f(12, 0.55, 3, 4)}, Py: "a.max(dim=0, keepdim=True).values", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.Max(x, 0, true) })},
		{Name: "logsumexp", In: []input{f(12, 0.55, 3, 4)}, Py: "torch.logsumexp(a, dim=[1])", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.LogSumExp(x, []int64{1}, false) })},
		{Name: "permute reshape", In: []input{f(12, 0.15, 2, 3, 2)}, Py: "a.permute(2, 0, 1).reshape(-1, 4)", run: one(func(s *Scope, x *Tensor) (*Tensor, error) {
			p, err := s.Permute(x, 2, 0, 1)
			if err != nil {
				return nil, err
			}
			return s.Reshape(p, -1, 4)
		})},
		{Name: "transpose contiguous view", In: []input{f(6, 0.15, 2, 3)}, Py: "a.transpose(0, 1).contiguous().view(6)", run: one(func(s *Scope, x *Tensor) (*Tensor, error) {
			tr, err := s.Transpose(x, 0, 1)
			if err != nil {
				return nil, err
			}
			c, err := s.Contiguous(tr)
			if err != nil {
				return nil, err
			}
			return s.View(c, 6)
		})},
		{Name: "unsqueeze squeeze", In: []input{f(6, 0.15, 2, 3)}, Py: "a.unsqueeze(1).squeeze(1)", run: one(func(s *Scope, x *Tensor) (*Tensor, error) {
			u, err := s.Unsqueeze(x, 1)
			if err != nil {
				return nil, err
			}
			return s.Squeeze(u, 1)
		})},
		{Name: "narrow", In: []input{f(12, 0.15, 3, 4)}, Py: "a.narrow(1, 1, 2)", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.Narrow(x, 1, 1, 2) })},
		{Name: "select CLS", In: []input{f(12, 0.15, 2, 3, 2)}, Py: "a[:, 0]", run: one(func(s *Scope, x *Tensor) (*Tensor, error) { return s.Select(x, 1, 0) })},
		{Name: "cat", In: []input{f(6, 0.3, 2, 3), f(3, 0.9, 1, 3)}, Py: "torch.cat([a, b], 0)", run: func(s *Scope, x []*Tensor) (*Tensor, error) { return s.Cat(x, 0) }},
		{Name: "stack", In: []input{f(6, 0.3, 2, 3), f(6, 0.9, 2, 3)}, Py: "torch.stack([a, b], 1)", run: func(s *Scope, x []*Tensor) (*Tensor, error) { return s.Stack(x, 1) }},
		{Name: "gather", In: []input{f(6, 0.3, 2, 3), ints([]float64{2, 0, 1, 1}, 2, 2)}, Py: "torch.gather(a, 1, b)", run: func(s *Scope, x []*Tensor) (*Tensor, error) {
			return s.Gather(x[0], 1, x[1])
		}},
		{Name: "index select", In: []input{f(6, 0.3, 3, 2), ints([]float64{2, 0, 2}, 3)}, Py: "torch.index_select(a, 0, b)", run: func(s *Scope, x []*Tensor) (*Tensor, error) {
			return s.IndexSelect(x[0], 0, x[1])
		}},
		{Name: "to float64", In: []input{f(4, 0.3, 4)}, Py: "a.to(torch.float64) * 3", run: one(func(s *Scope, x *Tensor) (*Tensor, error) {
			d, err := s.ToDType(x, Float64)
			if err != nil {
				return nil, err
			}
			return s.MulScalar(d, 3)
		})},
		{Name: "clone", In: []input{f(4, 0.3, 4)}, Py: "a.clone() * a", run: one(func(s *Scope, x *Tensor) (*Tensor, error) {
			c, err := s.Clone(x)
			if err != nil {
				return nil, err
			}
			return s.Mul(c, x)
		})},
		{Name: "cross entropy", In: []input{f(12, 0.65, 3, 4), ints([]float64{3, 0, 1}, 3)}, Py: "F.cross_entropy(a, b)", run: func(s *Scope, x []*Tensor) (*Tensor, error) {
			return s.CrossEntropy(x[0], x[1], ReduceMean)
		}},
		{Name: "cross entropy sum", In: []input{f(12, 0.65, 3, 4), ints([]float64{3, 0, 1}, 3)}, Py: "F.cross_entropy(a, b, reduction='sum')", run: func(s *Scope, x []*Tensor) (*Tensor, error) {
			return s.CrossEntropy(x[0], x[1], ReduceSum)
		}},
		{Name: "margin ranking", In: []input{f(4, 0.3, 4), f(4, 0.8, 4), {Data: []float64{1, -1, 1, 1}, Shape: []int64{4}, DType: "f32"}}, Py: "F.margin_ranking_loss(a, b, c, margin=0.5)", run: func(s *Scope, x []*Tensor) (*Tensor, error) {
			return s.MarginRanking(x[0], x[1], x[2], 0.5, ReduceMean)
		}},
		{Name: "bce with logits", In: []input{f(4, 0.3, 4), {Data: []float64{1, 0, 0.5, 1}, Shape: []int64{4}, DType: "f32"}}, Py: "F.binary_cross_entropy_with_logits(a, b, reduction='none')", run: func(s *Scope, x []*Tensor) (*Tensor, error) {
			return s.BCEWithLogits(x[0], x[1], ReduceNone)
		}},
	}
}

const opsOracle = `
import json, math, sys, torch
import torch.nn.functional as F
out = []
for case in json.loads(sys.argv[1]):
    xs = []
    for i in case["inputs"]:
        dt = {"f32": torch.float32, "i64": torch.int64, "bool": torch.bool}[i["dtype"]]
        v = i["data"]
        if i["dtype"] != "f32":
            v = [int(x) for x in v]
        x = torch.tensor(v, dtype=dt).reshape(i["shape"])
        if i["grad"]:
            x.requires_grad_(True)
        xs.append(x)
    env = {"torch": torch, "F": F}
    env.update(zip("abc", xs))
    y = eval(case["expr"], env)
    if y.is_floating_point() and y.requires_grad:
        r = torch.tensor([math.cos(0.37 * k + 0.1) for k in range(y.numel())], dtype=torch.float32)
        (y * r.reshape(y.shape).to(y.dtype)).sum().backward()
    out.append({"y": y.detach().double().flatten().tolist(), "shape": list(y.shape),
                "grads": [x.grad.double().flatten().tolist() if x.grad is not None else None for x in xs]})
print(json.dumps(out))
`

// runOpCase computes y and the input gradients of sum(y·r) in Go.
func runOpCase(s *Scope, c opCase) (opResult, error) {
	var res opResult
	xs := make([]*Tensor, len(c.In))
	for i, in := range c.In {
		var err error
		switch in.DType {
		case "f32":
			xs[i], err = s.FromFloat32(f32(in.Data), in.Shape...)
		case "i64", "bool":
			ids := make([]int64, len(in.Data))
			for k, v := range in.Data {
				ids[k] = int64(v)
			}
			xs[i], err = s.FromInt64(ids, in.Shape...)
			if err == nil && in.DType == "bool" {
				xs[i], err = s.ToDType(xs[i], Bool)
			}
		}
		if err == nil && in.Grad {
			err = s.SetRequiresGrad(xs[i], true)
		}
		if err != nil {
			return res, err
		}
	}
	y, err := c.run(s, xs)
	if err != nil {
		return res, err
	}
	res.Shape = y.Shape()
	ys, err := s.ToDType(y, Float64)
	if err != nil {
		return res, err
	}
	raw, err := s.Bytes(ys)
	if err != nil {
		return res, err
	}
	res.Y = make([]float64, len(raw)/8)
	for i := range res.Y {
		res.Y[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[i*8:]))
	}
	res.Grads = make([][]float64, len(xs))
	if !y.RequiresGrad() {
		return res, nil
	}
	r := make([]float32, y.Numel())
	for k := range r {
		r[k] = float32(math.Cos(0.37*float64(k) + 0.1))
	}
	var rt *Tensor
	if len(res.Shape) == 0 {
		rt, err = s.Full(float64(r[0]), Float32)
	} else {
		rt, err = s.FromFloat32(r, res.Shape...)
	}
	if err != nil {
		return res, err
	}
	if rt, err = s.ToDType(rt, y.DType()); err != nil {
		return res, err
	}
	prod, err := s.Mul(y, rt)
	if err != nil {
		return res, err
	}
	loss, err := s.SumAll(prod)
	if err != nil {
		return res, err
	}
	if err := s.Backward(loss); err != nil {
		return res, err
	}
	for i, x := range xs {
		if !c.In[i].Grad {
			continue
		}
		g, err := s.Grad(x)
		if err != nil || g == nil {
			return res, err
		}
		gv, err := s.Float32s(g)
		if err != nil {
			return res, err
		}
		for _, e := range gv {
			res.Grads[i] = append(res.Grads[i], float64(e))
		}
	}
	return res, nil
}

// pyTorchResults runs cases through PyTorch 2.11.0 (opsOracle).
func pyTorchResults(t *testing.T, cases []opCase) []opResult {
	t.Helper()
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	var want []opResult
	if err := json.Unmarshal(testenv.RunTorchPython(t, opsOracle, string(in)), &want); err != nil {
		t.Fatal(err)
	}
	return want
}

// runOpCaseIn runs one case on rt, forward and backward.
func runOpCaseIn(t *testing.T, rt *Runtime, c opCase) opResult {
	t.Helper()
	var got opResult
	err := rt.Do(context.Background(), func(s *Scope) error {
		var err error
		got, err = runOpCase(s, c)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestOpsMatchPyTorch runs every op a BERT encoder, ranking heads and
// losses need, forward and backward, against PyTorch 2.11.0.
func TestOpsMatchPyTorch(t *testing.T) {
	cases := opCases()
	want := pyTorchResults(t, cases)
	rt := openRuntime(t, Options{})
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got := runOpCaseIn(t, rt, c)
			w := want[i]
			if len(got.Shape) != len(w.Shape) {
				t.Fatalf("shape %v, want %v", got.Shape, w.Shape)
			}
			for k := range w.Shape {
				if got.Shape[k] != w.Shape[k] {
					t.Fatalf("shape %v, want %v", got.Shape, w.Shape)
				}
			}
			closeAll(t, "y", got.Y, w.Y)
			for k := range c.In {
				if !c.In[k].Grad {
					continue
				}
				closeAll(t, "grad of "+string(rune('a'+k)), got.Grads[k], w.Grads[k])
			}
		})
	}
	if n := rt.LiveTensors(); n != 0 {
		t.Errorf("%d tensors leaked", n)
	}
}

// closeAll compares within 1e-6 relative to max(1, |want|): both sides run
// the same libtorch kernels in float32.
func closeAll(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d (%v vs %v)", what, len(got), len(want), got, want)
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); d > 1e-6*math.Max(1, math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.9g, want %.9g", what, i, got[i], want[i])
		}
	}
}
