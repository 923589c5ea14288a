//go:build torch

package torch

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
)

// TestConcurrentGoroutinesKeepThreadState runs torch work from 16
// goroutines at once on 4 workers. libtorch keeps grad mode and the last
// error per OS thread: each goroutine must see grad tracked exactly where it
// enabled it, and get an error exactly for its own bad-shape op.
func TestConcurrentGoroutinesKeepThreadState(t *testing.T) {
	rt := openRuntime(t, Options{Workers: 4, Threads: 1})
	const goroutines, rounds = 16, 40
	var wg sync.WaitGroup
	failures := make(chan string, goroutines*rounds)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				noGrad := (g+r)%2 == 0
				bad := (g*rounds+r)%3 == 0
				err := rt.Do(context.Background(), func(s *Scope) error {
					w, err := s.Ones(Float32, 3, 3)
					if err != nil {
						return err
					}
					if err := s.SetRequiresGrad(w, true); err != nil {
						return err
					}
					body := func(s *Scope) error {
						x, err := s.Full(float64(g), Float32, 2, 3)
						if err != nil {
							return err
						}
						y, err := s.MatMul(x, w)
						if err != nil {
							return err
						}
						if y.RequiresGrad() == noGrad {
							failures <- fmt.Sprintf("goroutine %d round %d: requires_grad %v under no_grad=%v", g, r, y.RequiresGrad(), noGrad)
						}
						if bad {
							wrong, err := s.Ones(Float32, 4, 5)
							if err != nil {
								return err
							}
							if _, err := s.MatMul(x, wrong); err == nil {
								failures <- fmt.Sprintf("goroutine %d round %d: bad matmul gave no error", g, r)
							} else if !strings.Contains(err.Error(), "matmul") || !strings.Contains(err.Error(), "cannot be multiplied") {
								failures <- fmt.Sprintf("goroutine %d round %d: unexpected error %v", g, r, err)
							}
						}
						v, err := s.Float32s(y)
						if err != nil {
							return err
						}
						if want := float32(3 * g); v[0] != want {
							failures <- fmt.Sprintf("goroutine %d round %d: y[0] = %v, want %v", g, r, v[0], want)
						}
						return nil
					}
					if noGrad {
						return s.NoGrad(body)
					}
					return s.Nested(body)
				})
				if err != nil {
					failures <- fmt.Sprintf("goroutine %d round %d: %v", g, r, err)
				}
			}
		}(g)
	}
	wg.Wait()
	close(failures)
	n := 0
	for f := range failures {
		if n++; n <= 10 {
			t.Error(f)
		}
	}
	if n > 10 {
		t.Errorf("… %d failures in all", n)
	}
	if live := rt.LiveTensors(); live != 0 {
		t.Errorf("%d tensors leaked", live)
	}
}

func TestScopeOwnership(t *testing.T) {
	rt := openRuntime(t, Options{})
	ctx := context.Background()
	var kept, inner *Tensor
	err := rt.Do(ctx, func(s *Scope) error {
		for i := 0; i < 50; i++ {
			if _, err := s.Zeros(Float32, 8, 8); err != nil {
				return err
			}
		}
		if got := rt.LiveTensors(); got != 50 {
			t.Errorf("inside Do: %d live tensors, want 50", got)
		}
		err := s.Nested(func(s *Scope) error {
			a, err := s.Ones(Float32, 2)
			if err != nil {
				return err
			}
			if inner, err = s.Ones(Float32, 2); err != nil {
				return err
			}
			if _, err = s.Ones(Float32, 2); err != nil {
				return err
			}
			if got := rt.LiveTensors(); got != 53 {
				t.Errorf("inside Nested: %d live, want 53", got)
			}
			s.Free(a)
			if !a.Freed() {
				t.Error("Free did not free")
			}
			return s.Keep(inner) // moves to the outer scope
		})
		if err != nil {
			return err
		}
		if got := rt.LiveTensors(); got != 51 {
			t.Errorf("after Nested: %d live, want 51 (50 + the kept one)", got)
		}
		if inner.Freed() {
			t.Error("kept tensor was freed with the nested scope")
		}
		if kept, err = s.Full(7, Float32, 3); err != nil {
			return err
		}
		return s.Keep(kept) // outlives Do
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := rt.LiveTensors(); got != 1 {
		t.Errorf("after Do: %d live, want 1 (the kept tensor)", got)
	}
	if !inner.Freed() {
		t.Error("tensor kept only into the outer scope survived Do")
	}
	// A caller-owned tensor is usable in a later Do and can be handed back.
	err = rt.Do(ctx, func(s *Scope) error {
		v, err := s.Float32s(kept)
		if err != nil {
			return err
		}
		if v[2] != 7 {
			t.Errorf("kept tensor holds %v", v)
		}
		if _, err := s.Float32s(inner); err == nil || !strings.Contains(err.Error(), "freed") {
			t.Errorf("using a freed tensor: err = %v, want 'freed'", err)
		}
		if err := s.Keep(kept); err == nil {
			t.Error("Keep of a tensor the scope does not own succeeded")
		}
		return s.Own(kept)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !kept.Freed() || rt.LiveTensors() != 0 {
		t.Errorf("after Own: freed=%v live=%d", kept.Freed(), rt.LiveTensors())
	}
}

func TestCallbackErrorAndPanicFreeTensors(t *testing.T) {
	rt := openRuntime(t, Options{})
	boom := errors.New("boom")
	err := rt.Do(context.Background(), func(s *Scope) error {
		if _, err := s.Ones(Float32, 4); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	func() {
		defer func() {
			p, ok := recover().(*WorkerPanic)
			if !ok || p.Value != "kaput" {
				t.Errorf("recovered %v, want *WorkerPanic{kaput}", p)
			}
		}()
		_ = rt.Do(context.Background(), func(s *Scope) error {
			if _, err := s.Ones(Float32, 4); err != nil {
				return err
			}
			panic("kaput")
		})
	}()
	if n := rt.LiveTensors(); n != 0 {
		t.Errorf("%d tensors leaked", n)
	}
	// The worker survives a panic, with grad mode reset.
	err = rt.Do(context.Background(), func(s *Scope) error {
		if !s.GradEnabled() {
			t.Error("grad mode not reset for the next callback")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestErrorsAreValues(t *testing.T) {
	rt := openRuntime(t, Options{})
	var escaped *Scope
	err := rt.Do(context.Background(), func(s *Scope) error {
		escaped = s
		a, _ := s.Ones(Float32, 2, 3)
		b, _ := s.Ones(Float32, 2, 3)
		targets3, _ := s.FromInt64([]int64{0, 1, 2})
		for _, tc := range []struct {
			name string
			err  error
			want string
		}{
			{"matmul shapes", second(s.MatMul(a, b)), "cannot be multiplied"},
			{"nil argument", second(s.Add(a, nil)), "argument 2: nil tensor"},
			{"view of 6 as 4", second(s.View(a, 4)), "invalid for input of size 6"},
			{"data/shape mismatch", second(s.FromFloat32([]float32{1, 2, 3}, 2, 2)), "do not fill shape"},
			{"bad dropout p", second(s.Dropout(a, 1.5, true)), "outside [0, 1]"},
			{"cross entropy batch mismatch", second(s.CrossEntropy(a, targets3, ReduceMean)), "cross_entropy"},
			{"item of many", second(s.Item(a)), "6 elements"},
			{"backward of non-scalar", s.Backward(a), "backward"},
			{"cuda in a CPU build", second(s.To(a, CUDA(0))), "CUDA"},
		} {
			if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
				t.Errorf("%s: err = %v, want it to mention %q", tc.name, tc.err, tc.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := escaped.Ones(Float32, 1); err == nil {
		t.Error("a scope used after its callback returned gave no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rt.Do(ctx, func(*Scope) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
	rt.Close()
	if err := rt.Do(context.Background(), func(*Scope) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close: err = %v, want ErrClosed", err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestSeedReproducible checks ManualSeed against itself and against
// PyTorch: both use libtorch's CPU generator, so the draws are identical.
func TestSeedReproducible(t *testing.T) {
	rt := openRuntime(t, Options{Seed: 42, SetSeed: true})
	draw := func() (randn, rand []float32) {
		err := rt.Do(context.Background(), func(s *Scope) error {
			a, err := s.Randn(Float32, 5)
			if err != nil {
				return err
			}
			b, err := s.Rand(Float32, 3)
			if err != nil {
				return err
			}
			if randn, err = s.Float32s(a); err != nil {
				return err
			}
			rand, err = s.Float32s(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	first, firstU := draw()
	rt.ManualSeed(42)
	again, againU := draw()
	rt.ManualSeed(43)
	other, _ := draw()
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("same seed, different draws: %v vs %v", first, again)
		}
	}
	if first[0] == other[0] && first[1] == other[1] {
		t.Errorf("seeds 42 and 43 drew the same %v", first)
	}
	var py struct{ Randn, Rand []float32 }
	out := testenv.RunTorchPython(t, `
import json, torch
torch.manual_seed(42)
a = torch.randn(5); b = torch.rand(3)
print(json.dumps({"randn": a.tolist(), "rand": b.tolist()}))`)
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatal(err)
	}
	for i := range py.Randn {
		if py.Randn[i] != first[i] {
			t.Fatalf("randn after seed 42: go %v, PyTorch %v", first, py.Randn)
		}
	}
	for i := range py.Rand {
		if py.Rand[i] != firstU[i] || againU[i] != firstU[i] {
			t.Fatalf("rand after seed 42: go %v, PyTorch %v", firstU, py.Rand)
		}
	}
}

func TestThreadCount(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		rt := openRuntime(t, Options{Threads: n, Workers: 2})
		if got := rt.Threads(); got != n {
			t.Errorf("Threads: %d, want %d", got, n)
		}
		rt.Close()
	}
	if _, err := Open(Options{Threads: -1}); err == nil {
		t.Error("negative thread count accepted")
	}
}

// TestAdamWAndClipMatchPyTorch takes two AdamW steps with gradient clipping
// and compares parameters, and the reported norm, with torch.optim.AdamW and
// torch.nn.utils.clip_grad_norm_.
func TestAdamWAndClipMatchPyTorch(t *testing.T) {
	w0 := f32(vals(6, 0.4))
	x := f32(vals(6, 1.3))
	const script = `
import json, sys, torch
w0, x = json.loads(sys.argv[1]), json.loads(sys.argv[2])
w = torch.tensor(w0, requires_grad=True)
xs = torch.tensor(x)
opt = torch.optim.AdamW([w], lr=0.1, betas=(0.9, 0.99), weight_decay=0.01)
norms = []
for step in range(2):
    opt.zero_grad()
    loss = ((w * xs) ** 2).sum() * (step + 1)
    loss.backward()
    norms.append(torch.nn.utils.clip_grad_norm_([w], 1.0).item())
    opt.step()
print(json.dumps({"w": w.tolist(), "norms": norms}))`
	wj, _ := json.Marshal(w0)
	xj, _ := json.Marshal(x)
	var want struct {
		W     []float64
		Norms []float64
	}
	if err := json.Unmarshal(testenv.RunTorchPython(t, script, string(wj), string(xj)), &want); err != nil {
		t.Fatal(err)
	}

	rt := openRuntime(t, Options{})
	var got []float64
	var norms []float64
	err := rt.Do(context.Background(), func(s *Scope) error {
		w, err := s.FromFloat32(w0)
		if err != nil {
			return err
		}
		if err := s.SetRequiresGrad(w, true); err != nil {
			return err
		}
		xs, err := s.FromFloat32(x)
		if err != nil {
			return err
		}
		opt, err := s.NewAdamW([]*Tensor{w}, AdamWOptions{LR: 0.1, Beta1: 0.9, Beta2: 0.99, WeightDecay: 0.01})
		if err != nil {
			return err
		}
		defer opt.Close()
		for step := 0; step < 2; step++ {
			err := s.Nested(func(s *Scope) error {
				if err := opt.ZeroGrad(s); err != nil {
					return err
				}
				wx, err := s.Mul(w, xs)
				if err != nil {
					return err
				}
				sq, err := s.PowScalar(wx, 2)
				if err != nil {
					return err
				}
				sum, err := s.SumAll(sq)
				if err != nil {
					return err
				}
				loss, err := s.MulScalar(sum, float64(step+1))
				if err != nil {
					return err
				}
				if err := s.Backward(loss); err != nil {
					return err
				}
				n, err := s.ClipGradNorm([]*Tensor{w}, 1.0)
				if err != nil {
					return err
				}
				norms = append(norms, n)
				return opt.Step(s)
			})
			if err != nil {
				return err
			}
		}
		v, err := s.Float32s(w)
		for _, e := range v {
			got = append(got, float64(e))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	closeAll(t, "clip norm", norms, want.Norms)
	closeAll(t, "AdamW parameters", got, want.W)
}

func TestFromBytes(t *testing.T) {
	rt := openRuntime(t, Options{})
	vals := []float32{1.5, -2.25, 3.0e-3, 65504}
	err := rt.Do(context.Background(), func(s *Scope) error {
		le := make([]byte, 4*len(vals))
		// bfloat16 is the upper half of a float32: these values are exact in it
		// except 3e-3, which bf16 rounds (truncation here: round-to-nearest
		// would give the same for this value).
		bf := make([]byte, 2*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(le[4*i:], math.Float32bits(v))
			binary.LittleEndian.PutUint16(bf[2*i:], uint16(math.Float32bits(v)>>16))
		}
		f, err := s.FromBytes(le, Float32, 2, 2)
		if err != nil {
			return err
		}
		got, err := s.Float32s(f)
		if err != nil {
			return err
		}
		for i := range vals {
			if got[i] != vals[i] {
				t.Errorf("float32 bytes: %v, want %v", got, vals)
			}
		}
		b, err := s.FromBytes(bf, BFloat16, 4)
		if err != nil {
			return err
		}
		if b.DType() != BFloat16 {
			t.Errorf("dtype %v, want bfloat16", b.DType())
		}
		got, err = s.Float32s(b)
		if err != nil {
			return err
		}
		for i, v := range vals {
			want := math.Float32frombits(math.Float32bits(v) &^ 0xffff)
			if got[i] != want {
				t.Errorf("bf16[%d] = %v, want %v", i, got[i], want)
			}
		}
		back, err := s.Bytes(b)
		if err != nil {
			return err
		}
		if string(back) != string(bf) {
			t.Errorf("Bytes did not round-trip: %x vs %x", back, bf)
		}
		if _, err := s.FromBytes(bf[:3], BFloat16); err == nil {
			t.Error("odd byte count accepted for bfloat16")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
