//go:build torch

package kernels

import (
	"context"
	"fmt"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/heads"
)

// composition is SPLADE's pooling as models/heads runs it, with the
// batch × length × vocabulary logits materialised: the decoder (Linear),
// then for max heads.Pool (−Inf on padding, max) and the sparsification,
// for sum the sparsification and heads.Pool (padding zeroed, sum).
func composition(s *torch.Scope, hidden, weight, bias, mask *torch.Tensor, o PoolOptions) (*torch.Tensor, error) {
	x, err := s.Linear(hidden, weight, bias)
	if err != nil {
		return nil, err
	}
	sp := func(x *torch.Tensor) (*torch.Tensor, error) {
		if o.Sparsification == SparsifyNone {
			return x, nil
		}
		x, err := s.ReLU(x)
		for i := SparsifyReLULog; err == nil && i <= o.Sparsification; i++ {
			x, err = s.Log1p(x)
		}
		return x, err
	}
	if o.Sum {
		if x, err = sp(x); err != nil {
			return nil, err
		}
		return heads.Pool(s, x, mask, "sum")
	}
	if x, err = heads.Pool(s, x, mask, "max"); err != nil {
		return nil, err
	}
	return sp(x)
}

// poolTensors puts a poolCase's data into libtorch on the scope's device.
func poolTensors(t testing.TB, s *torch.Scope, c poolCase) (hidden, weight, bias, mask *torch.Tensor) {
	h, w, b, m := c.data()
	var err error
	if hidden, err = s.FromFloat32(h, int64(c.B), int64(c.L), int64(c.D)); err != nil {
		t.Fatal(err)
	}
	if weight, err = s.FromFloat32(w, int64(c.V), int64(c.D)); err != nil {
		t.Fatal(err)
	}
	if b != nil {
		if bias, err = s.FromFloat32(b, int64(c.V)); err != nil {
			t.Fatal(err)
		}
	}
	if mask, err = s.FromInt64(m, int64(c.B), int64(c.L)); err != nil {
		t.Fatal(err)
	}
	return
}

// compare checks got against want (both [B 1 V] or [B V] row-major) at the
// kernels' tolerance and reports the largest relative difference.
func compare(t *testing.T, got, want []float32) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	worst, bad := 0.0, 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if !closeTo(g, w) {
			if bad++; bad < 5 {
				t.Errorf("value %d = %v, want %v", i, g, w)
			}
			continue
		}
		if !math.IsInf(w, 0) {
			worst = max(worst, math.Abs(g-w)/math.Max(1, math.Abs(w)))
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d values differ", bad, len(want))
	}
	return worst
}

// TestPoolCPU compares the Go reference of splade.cu's algorithm and the
// chunked libtorch pooling with the materialised composition on the CPU.
func TestPoolCPU(t *testing.T) {
	rt, err := torch.Open(torch.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	for _, c := range poolCases() {
		t.Run(c.name, func(t *testing.T) {
			err := rt.Do(context.Background(), func(s *torch.Scope) error {
				hidden, weight, bias, mask := poolTensors(t, s, c)
				ref, err := composition(s, hidden, weight, bias, mask, c.opts)
				if err != nil {
					return err
				}
				if sh := ref.Shape(); len(sh) != 3 || sh[0] != int64(c.B) || sh[1] != 1 || sh[2] != int64(c.V) {
					t.Fatalf("composition shape %v", sh)
				}
				want, err := s.Float32s(ref)
				if err != nil {
					return err
				}
				h, w, b, m := c.data()
				got, err := PoolReference(h, c.B, c.L, c.D, w, c.V, b, m, c.opts)
				if err != nil {
					return err
				}
				t.Logf("reference: max relative difference %.2g", compare(t, got, want))
				for _, chunk := range []int{1, 50, c.V, 4 * c.V} {
					x, err := PoolChunked(s, hidden, weight, bias, mask, c.opts, chunk)
					if err != nil {
						return err
					}
					if sh := x.Shape(); len(sh) != 3 || sh[1] != 1 || sh[2] != int64(c.V) {
						t.Fatalf("chunk %d: shape %v", chunk, sh)
					}
					got, err := s.Float32s(x)
					if err != nil {
						return err
					}
					t.Logf("chunk %d: max relative difference %.2g", chunk, compare(t, got, want))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPoolErrors checks shape errors and the no-CUDA error on the CPU.
func TestPoolErrors(t *testing.T) {
	rt, err := torch.Open(torch.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	c := poolCases()[0]
	err = rt.Do(context.Background(), func(s *torch.Scope) error {
		hidden, weight, bias, mask := poolTensors(t, s, c)
		if _, err := PoolChunked(s, hidden, bias, nil, mask, c.opts, 8); err == nil {
			t.Error("a 1-D decoder weight was accepted")
		}
		if _, err := PoolChunked(s, hidden, weight, weight, mask, c.opts, 8); err == nil {
			t.Error("a 2-D bias was accepted")
		}
		if _, err := PoolChunked(s, hidden, weight, bias, hidden, c.opts, 8); err == nil {
			t.Error("a 3-D mask was accepted")
		}
		if _, err := Pool(s, hidden, weight, bias, mask, c.opts); err == nil {
			t.Error("Pool ran on the CPU")
		}
		if _, err := NewTopK(s, 2, 10); err == nil {
			t.Error("NewTopK made a state on the CPU")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPoolCPU times SPLADE pooling on the CPU at index method
// sparse's batch size for splade-tiny (4 × 366 = 1,464 tokens, hidden 128,
// vocabulary 30,522), one libtorch thread: the materialised composition vs
// vocabulary chunks.
func BenchmarkPoolCPU(b *testing.B) {
	rt, err := torch.Open(torch.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	c := poolCase{B: 4, L: 366, D: 128, V: 30522, opts: PoolOptions{Sparsification: SparsifyReLULog}}
	for _, chunk := range []int{0, 1024, 2048, 4096, 8192} {
		name := "composition"
		if chunk > 0 {
			name = fmt.Sprintf("chunk%d", chunk)
		}
		b.Run(name, func(b *testing.B) {
			err := rt.Do(context.Background(), func(s *torch.Scope) error {
				hidden, weight, bias, mask := poolTensors(b, s, c)
				b.ResetTimer()
				cpu0 := threadCPU()
				defer func() { b.ReportMetric(float64((threadCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op") }()
				for i := 0; i < b.N; i++ {
					err := s.Nested(func(s *torch.Scope) error {
						var err error
						if chunk == 0 {
							_, err = composition(s, hidden, weight, bias, mask, c.opts)
						} else {
							_, err = PoolChunked(s, hidden, weight, bias, mask, c.opts, chunk)
						}
						return err
					})
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// threadCPU is this OS thread's CPU time (user + system); libtorch with one
// thread runs its ops on the calling (locked) thread, so on a shared
// machine this measures the work, not the wait.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
