//go:build cuda

package kernels

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/irflow/irflow/backends/torch"
	"gorgonia.org/cu"
)

// module is the kernels' PTX loaded into one device's primary context, the
// context libtorch's CUDA runtime uses, so kernels and libtorch share
// memory and the default stream.
type module struct {
	ctx          cu.CUContext
	splade, topk cu.Function
}

var modules struct {
	sync.Mutex
	m map[int]*module
}

// load returns device dev's module, loading the PTX the first time, and
// makes its context current on this OS thread (torch's Do callbacks run
// on locked threads).
func load(dev torch.Device) (*module, error) {
	if !dev.IsCUDA() {
		return nil, fmt.Errorf("kernels: the scope's device is %v, not CUDA", dev)
	}
	modules.Lock()
	defer modules.Unlock()
	if m := modules.m[dev.Index()]; m != nil {
		if err := cu.SetCurrentContext(m.ctx); err != nil {
			return nil, fmt.Errorf("kernels: %v: set context: %w", dev, err)
		}
		return m, nil
	}
	ctx, err := cu.Device(dev.Index()).RetainPrimaryCtx()
	if err != nil {
		return nil, fmt.Errorf("kernels: %v: primary context: %w", dev, err)
	}
	if err := cu.SetCurrentContext(ctx); err != nil {
		return nil, fmt.Errorf("kernels: %v: set context: %w", dev, err)
	}
	m := &module{ctx: ctx}
	for _, k := range []struct {
		ptx, name string
		fn        *cu.Function
	}{{spladePTX, "splade_pool", &m.splade}, {topkPTX, "topk_merge", &m.topk}} {
		mod, err := cu.LoadData(k.ptx)
		if err != nil {
			return nil, fmt.Errorf("kernels: %v: load PTX of %s (needs a driver for CUDA 13.0 or newer): %w", dev, k.name, err)
		}
		if *k.fn, err = mod.Function(k.name); err != nil {
			return nil, fmt.Errorf("kernels: %v: %s: %w", dev, k.name, err)
		}
	}
	if modules.m == nil {
		modules.m = map[int]*module{}
	}
	modules.m[dev.Index()] = m
	return m, nil
}

// pointers returns the device addresses of ts (nil for a nil tensor),
// checking they are on dev.
func pointers(s *torch.Scope, dev torch.Device, ts ...*torch.Tensor) ([]uint64, error) {
	out := make([]uint64, len(ts))
	for i, t := range ts {
		if t == nil {
			continue
		}
		if d := t.Device(); d != dev {
			return nil, fmt.Errorf("kernels: tensor %d is on %v, the scope's device is %v", i+1, d, dev)
		}
		p, err := s.DataPtr(t)
		if err != nil {
			return nil, err
		}
		out[i] = uint64(p)
	}
	return out, nil
}

// launch starts fn on the legacy default stream (libtorch's default
// stream, so it is ordered with libtorch's work). Every argument is passed
// as 8 bytes (cu copies 8 per argument); an int parameter reads the low 4.
func launch(fn cu.Function, grid [3]int, block [3]int, args ...uint64) error {
	params := make([]unsafe.Pointer, len(args))
	for i := range args {
		params[i] = unsafe.Pointer(&args[i])
	}
	return fn.Launch(grid[0], grid[1], grid[2], block[0], block[1], block[2], 0, cu.NoStream, params)
}

func launchPool(s *torch.Scope, hidden, weight, bias, mask *torch.Tensor, o PoolOptions, B, L, D, V int64) (*torch.Tensor, error) {
	dev := s.Device()
	m, err := load(dev)
	if err != nil {
		return nil, err
	}
	for i, t := range []*torch.Tensor{hidden, weight, bias} {
		if t != nil && t.DType() != torch.Float32 {
			return nil, fmt.Errorf("kernels: pool: tensor %d is %v, want float32", i+1, t.DType())
		}
	}
	if mask.DType() != torch.Int64 {
		return nil, fmt.Errorf("kernels: pool: the attention mask is %v, want int64", mask.DType())
	}
	out, err := s.Zeros(torch.Float32, B, 1, V)
	if err != nil {
		return nil, err
	}
	if B == 0 || V == 0 {
		return out, nil
	}
	p, err := pointers(s, dev, hidden, weight, bias, mask, out)
	if err != nil {
		return nil, err
	}
	sum := uint64(0)
	if o.Sum {
		sum = 1
	}
	grid := [3]int{int((V + 127) / 128), int(B), 1}
	if err := launch(m.splade, grid, [3]int{16, 16, 1}, p[0], p[1], p[2], p[3], p[4],
		uint64(L), uint64(D), uint64(V), sum, uint64(o.Sparsification)); err != nil {
		return nil, fmt.Errorf("kernels: pool: launch: %w", err)
	}
	return out, nil
}

func launchTopK(s *torch.Scope, t *TopK, scores *torch.Tensor, nb, firstDoc int64) error {
	dev := s.Device()
	m, err := load(dev)
	if err != nil {
		return err
	}
	p, err := pointers(s, dev, scores, t.vals, t.ids, t.count)
	if err != nil {
		return err
	}
	if err := launch(m.topk, [3]int{t.queries, 1, 1}, [3]int{1024, 1, 1}, p[0], uint64(nb), uint64(nb),
		uint64(firstDoc), p[1], p[2], p[3], uint64(t.k)); err != nil {
		return fmt.Errorf("kernels: top-k: launch: %w", err)
	}
	return nil
}

// MemInfo reports the current device's free and total memory in bytes
// (cuMemGetInfo; libtorch's caching allocator keeps freed blocks, so it
// sees reservations, not live tensors).
func MemInfo() (free, total int64, err error) { return cu.MemInfo() }
