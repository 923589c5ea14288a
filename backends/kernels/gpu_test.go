//go:build cuda && torch

package kernels

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/backends/torch"
)

// gpu opens a runtime on CUDA device 0, or skips without one.
func gpu(t *testing.T) *torch.Runtime {
	t.Helper()
	if n := torch.CUDADeviceCount(); n == 0 {
		t.Skip("no CUDA device")
	}
	rt, err := torch.Open(torch.Options{Device: torch.CUDA(0), Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// TestPoolGPU compares the fused kernel with the materialised composition
// (models/heads' ops) on the GPU, fp32, at 1e-4 relative.
func TestPoolGPU(t *testing.T) {
	rt := gpu(t)
	cases := append(poolCases(),
		poolCase{name: "splade-tiny sized", B: 8, L: 200, D: 128, V: 30522, opts: PoolOptions{Sparsification: SparsifyReLULog}},
		poolCase{name: "sum, odd sizes", B: 3, L: 77, D: 130, V: 1001, opts: PoolOptions{Sum: true, Sparsification: SparsifyReLULog}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := rt.Do(context.Background(), func(s *torch.Scope) error {
				hidden, weight, bias, mask := poolTensors(t, s, c)
				ref, err := composition(s, hidden, weight, bias, mask, c.opts)
				if err != nil {
					return err
				}
				want, err := s.Float32s(ref)
				if err != nil {
					return err
				}
				x, err := Pool(s, hidden, weight, bias, mask, c.opts)
				if err != nil {
					return err
				}
				if sh := x.Shape(); !slices.Equal(sh, []int64{int64(c.B), 1, int64(c.V)}) {
					t.Fatalf("shape %v", sh)
				}
				got, err := s.Float32s(x)
				if err != nil {
					return err
				}
				t.Logf("kernel vs composition: max relative difference %.2g", compare(t, got, want))
				if c.V <= 1001 {
					h, w, b, m := c.data()
					ref, err := PoolReference(h, c.B, c.L, c.D, w, c.V, b, m, c.opts)
					if err != nil {
						return err
					}
					t.Logf("kernel vs Go reference: max relative difference %.2g", compare(t, got, ref))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTopKGPU feeds the reference cases' blocks to the kernel: it runs the
// same algorithm on the same scores, so the results must be identical.
func TestTopKGPU(t *testing.T) {
	rt := gpu(t)
	for _, c := range topkCases() {
		t.Run(c.name, func(t *testing.T) {
			scores := c.scores()
			r, err := NewTopKReference(c.queries, c.k)
			if err != nil {
				t.Fatal(err)
			}
			err = rt.Do(context.Background(), func(s *torch.Scope) error {
				tk, err := NewTopK(s, c.queries, c.k)
				if err != nil {
					return err
				}
				err = c.eachBlock(scores, func(blk []float32, nb, d0 int) error {
					if err := r.Add(blk, nb, int64(d0)); err != nil {
						return err
					}
					return s.Nested(func(s *torch.Scope) error {
						x, err := s.FromFloat32(blk, int64(c.queries), int64(nb))
						if err != nil {
							return err
						}
						return tk.Add(s, x, int64(d0))
					})
				})
				if err != nil {
					return err
				}
				got, err := tk.Results(s)
				if err != nil {
					return err
				}
				want := r.Results()
				for q := range want {
					if !slices.Equal(got[q], want[q]) {
						t.Fatalf("query %d: got %d hits %v…, want %d %v…", q, len(got[q]), head(got[q]), len(want[q]), head(want[q]))
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// fullTopK is exact search as a torch composition: all scores, then topk.
func fullTopK(s *torch.Scope, q, d *torch.Tensor, k int) (vals []float32, ids []int64, err error) {
	dt, err := s.Transpose(d, 0, 1)
	if err != nil {
		return nil, nil, err
	}
	sc, err := s.MatMul(q, dt)
	if err != nil {
		return nil, nil, err
	}
	v, i, err := s.TopK(sc, int64(k), 1, true, true)
	if err != nil {
		return nil, nil, err
	}
	if vals, err = s.Float32s(v); err != nil {
		return nil, nil, err
	}
	ids, err = s.Int64s(i)
	return vals, ids, err
}

// TestSearchDotGPU compares block-wise search (matmul per block + the
// kernel) with the full score matrix + torch.topk: the same scores at
// 1e-4 relative, and the same documents except where scores tie within
// that tolerance (the two matmuls may round differently).
func TestSearchDotGPU(t *testing.T) {
	rt := gpu(t)
	for _, c := range []struct{ nq, n, dim, k, block int }{
		{64, 50000, 384, 10, 8192},
		{16, 20000, 128, 1000, 3000},
		{3, 700, 64, 100, 50},
	} {
		t.Run(fmt.Sprintf("%dx%d k%d block%d", c.nq, c.n, c.k, c.block), func(t *testing.T) {
			err := rt.Do(context.Background(), func(s *torch.Scope) error {
				q, err := s.Randn(torch.Float32, int64(c.nq), int64(c.dim))
				if err != nil {
					return err
				}
				d, err := s.Randn(torch.Float32, int64(c.n), int64(c.dim))
				if err != nil {
					return err
				}
				got, err := SearchDot(s, q, d, c.k, c.block)
				if err != nil {
					return err
				}
				vals, ids, err := fullTopK(s, q, d, c.k)
				if err != nil {
					return err
				}
				for i := 0; i < c.nq; i++ {
					if len(got[i]) != c.k {
						t.Fatalf("query %d: %d hits", i, len(got[i]))
					}
					wantDocs := map[int64]bool{}
					for j := 0; j < c.k; j++ {
						wantDocs[ids[i*c.k+j]] = true
					}
					kth := float64(vals[i*c.k+c.k-1])
					for j, h := range got[i] {
						if w := float64(vals[i*c.k+j]); !closeTo(float64(h.Score), w) {
							t.Fatalf("query %d hit %d: score %v, torch %v", i, j, h.Score, w)
						}
						if !wantDocs[h.Doc] && !closeTo(float64(h.Score), kth) {
							t.Fatalf("query %d hit %d: document %d (%v) is not in torch's top %d", i, j, h.Doc, h.Score, c.k)
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// timing is one row of the kernels' timing table.
type timing struct {
	what, shape, method string
	ms                  float64 // median over the runs
	memMB               float64 // growth of the device's used memory
}

// measure runs f runs times after one warm-up on a synchronised device and
// returns the median milliseconds and the growth of the device's used
// memory (cuMemGetInfo: libtorch's caching allocator keeps what it
// reserved, so a method measured after a hungrier one shows 0; the table
// measures the lean method first).
func measure(s *torch.Scope, runs int, f func(s *torch.Scope) error) (ms, memMB float64, err error) {
	dev := s.Device()
	if err := s.Synchronize(dev); err != nil {
		return 0, 0, err
	}
	free0, _, err := MemInfo()
	if err != nil {
		return 0, 0, err
	}
	var times []float64
	for i := 0; i <= runs; i++ {
		start := time.Now()
		if err := s.Nested(f); err != nil {
			return 0, 0, err
		}
		if err := s.Synchronize(dev); err != nil {
			return 0, 0, err
		}
		if i > 0 {
			times = append(times, float64(time.Since(start).Microseconds())/1000)
		}
	}
	free1, _, err := MemInfo()
	if err != nil {
		return 0, 0, err
	}
	sort.Float64s(times)
	return times[len(times)/2], float64(free0-free1) / (1 << 20), nil
}

// TestKernelTimings prints the kernels' timings against the torch
// compositions as a markdown table (rows start with |; gpu-check.sh
// collects them), and writes it to $IRFLOW_KERNEL_TABLE when set.
func TestKernelTimings(t *testing.T) {
	rt := gpu(t)
	var rows []timing
	add := func(what, shape, method string, runs int, s *torch.Scope, f func(s *torch.Scope) error) {
		ms, mem, err := measure(s, runs, f)
		if err != nil {
			t.Fatalf("%s %s %s: %v", what, shape, method, err)
		}
		rows = append(rows, timing{what, shape, method, ms, mem})
	}
	for _, c := range []struct {
		name       string
		B, L, D, V int
	}{
		{"splade-tiny", 32, 256, 128, 30522},
		{"BERT-base", 32, 256, 768, 30522},
	} {
		shape := fmt.Sprintf("%s B%d L%d D%d V%d", c.name, c.B, c.L, c.D, c.V)
		err := rt.Do(context.Background(), func(s *torch.Scope) error {
			hidden, err := s.Randn(torch.Float32, int64(c.B), int64(c.L), int64(c.D))
			if err != nil {
				return err
			}
			weight, err := s.Randn(torch.Float32, int64(c.V), int64(c.D))
			if err != nil {
				return err
			}
			if weight, err = s.MulScalar(weight, 0.05); err != nil {
				return err
			}
			bias, err := s.Zeros(torch.Float32, int64(c.V))
			if err != nil {
				return err
			}
			m := make([]int64, c.B*c.L)
			for b := 0; b < c.B; b++ {
				for i := 0; i < c.L-b*c.L/(2*c.B); i++ { // 50–100% of each row real
					m[b*c.L+i] = 1
				}
			}
			mask, err := s.FromInt64(m, int64(c.B), int64(c.L))
			if err != nil {
				return err
			}
			o := PoolOptions{Sparsification: SparsifyReLULog}
			add("SPLADE pooling (max, relu_log)", shape, "fused kernel", 5, s, func(s *torch.Scope) error {
				_, err := Pool(s, hidden, weight, bias, mask, o)
				return err
			})
			add("SPLADE pooling (max, relu_log)", shape, "torch, vocabulary chunks of 4096", 5, s, func(s *torch.Scope) error {
				_, err := PoolChunked(s, hidden, weight, bias, mask, o, 4096)
				return err
			})
			add("SPLADE pooling (max, relu_log)", shape, "torch composition (B×L×V logits)", 5, s, func(s *torch.Scope) error {
				_, err := composition(s, hidden, weight, bias, mask, o)
				return err
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ nq, n, dim, k, block int }{
		{1024, 1000000, 384, 10, 65536},
		{1024, 1000000, 384, 1000, 65536},
	} {
		shape := fmt.Sprintf("%d queries × %d docs, dim %d, k %d", c.nq, c.n, c.dim, c.k)
		err := rt.Do(context.Background(), func(s *torch.Scope) error {
			q, err := s.Randn(torch.Float32, int64(c.nq), int64(c.dim))
			if err != nil {
				return err
			}
			d, err := s.Randn(torch.Float32, int64(c.n), int64(c.dim))
			if err != nil {
				return err
			}
			add("exact dot search", shape, fmt.Sprintf("blocks of %d + top-k kernel", c.block), 3, s, func(s *torch.Scope) error {
				_, err := SearchDot(s, q, d, c.k, c.block)
				return err
			})
			add("exact dot search", shape, "torch: full scores + topk", 3, s, func(s *torch.Scope) error {
				_, _, err := fullTopK(s, q, d, c.k)
				return err
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| kernel check | shape | method | median ms | device memory growth MiB |\n|---|---|---|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %.0f |\n", r.what, r.shape, r.method, r.ms, math.Max(0, r.memMB))
	}
	fmt.Print(b.String())
	if p := os.Getenv("IRFLOW_KERNEL_TABLE"); p != "" {
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
