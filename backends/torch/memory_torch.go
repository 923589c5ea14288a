//go:build torch

package torch

/*
#include <stdint.h>
typedef void *tensor;
void *at_data_ptr(tensor t);
int at_is_contiguous(tensor t);
*/
import "C"

import (
	"math"
	"unsafe"

	"github.com/irflow/irflow/internal/parallel"
)

// Float32Memory returns x's own memory as a Go slice when x is a contiguous
// float32 tensor on the CPU, and false otherwise (other devices, dtypes or
// strided views). It lets element-wise updates that libtorch would run as
// many passes (AdamW, gradient clipping) run as one pass in Go.
//
// Writing through the slice changes x in place as an in-place op would but
// without autograd's version counter: use it under NoGrad on leaves and
// gradients only. The slice is valid while x (and its storage) lives.
func (s *Scope) Float32Memory(x *Tensor) ([]float32, bool) {
	c, err := x.handle()
	if err != nil || cScalarType(c) != Float32 || cDevice(c) != CPU {
		return nil, false
	}
	ct := C.tensor(unsafe.Pointer(c))
	if C.at_is_contiguous(ct) == 0 {
		return nil, false
	}
	n := x.Numel()
	if n == 0 {
		return []float32{}, true
	}
	p := C.at_data_ptr(ct)
	if p == nil {
		return nil, false
	}
	return unsafe.Slice((*float32)(p), n), true
}

// clipGradNormInMemory is ClipGradNorm in two passes over the gradients'
// memory (sum of squares, then the scaling) when every gradient is a
// contiguous float32 CPU tensor; false leaves the work to libtorch's ops.
// Squares are summed in float64 per block of parallel.Block elements and
// the blocks in order, so the norm does not depend on the thread count.
func (s *Scope) clipGradNormInMemory(grads []*Tensor, maxNorm float64) (float64, bool) {
	mem := make([][]float32, len(grads))
	for i, g := range grads {
		m, ok := s.Float32Memory(g)
		if !ok {
			return 0, false
		}
		mem[i] = m
	}
	workers := s.rt.Threads()
	var sum float64
	for _, g := range mem {
		partial := make([]float64, (len(g)+parallel.Block-1)/parallel.Block)
		parallel.Blocks(len(g), workers, func(b, lo, hi int) {
			var acc float64
			for _, x := range g[lo:hi] {
				acc += float64(x) * float64(x)
			}
			partial[b] = acc
		})
		for _, p := range partial {
			sum += p
		}
	}
	total := math.Sqrt(sum)
	coef := maxNorm / (total + 1e-6)
	if coef >= 1 {
		return total, true
	}
	c := float32(coef)
	for _, g := range mem {
		parallel.Blocks(len(g), workers, func(_, lo, hi int) {
			for i := range g[lo:hi] {
				g[lo+i] *= c
			}
		})
	}
	return total, true
}
