//go:build torch

package torch

/*
#include <stdint.h>
typedef void *tensor;
void *at_data_ptr(tensor t);
int at_is_contiguous(tensor t);
void atc_synchronize(int64_t device_index);
*/
import "C"

import (
	"fmt"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
)

// DataPtr returns the address of x's first element in its device's memory
// (host memory for the CPU, device memory for CUDA), for kernels that
// libtorch lacks (backends/kernels) to read and write x in place. x must be
// contiguous; the address is valid while x lives, and writes through it
// bypass autograd.
func (s *Scope) DataPtr(x *Tensor) (uintptr, error) {
	cs, err := s.args("data_ptr", x)
	if err != nil {
		return 0, err
	}
	ct := C.tensor(unsafe.Pointer(cs[0]))
	if C.at_is_contiguous(ct) == 0 {
		return 0, fmt.Errorf("torch: data_ptr: tensor %v is not contiguous", x.Shape())
	}
	p := C.at_data_ptr(ct)
	if err := lastError(); err != nil {
		return 0, fmt.Errorf("torch: data_ptr: %w", err)
	}
	if p == nil && x.Numel() > 0 {
		return 0, fmt.Errorf("torch: data_ptr: tensor %v has no storage", x.Shape())
	}
	return uintptr(p), nil
}

// Synchronize waits until all work queued on CUDA device d is done (for
// timings); on the CPU it returns at once.
func (s *Scope) Synchronize(d Device) error {
	if !d.IsCUDA() {
		return nil
	}
	if err := checkDevice(d); err != nil {
		return err
	}
	C.atc_synchronize(C.int64_t(d.Index()))
	if err := lastError(); err != nil {
		return fmt.Errorf("torch: synchronize %v: %w", d, err)
	}
	return nil
}

// TopK returns the k largest (or smallest) values along dim and their
// indices (int64), best first when sorted. Ties come in libtorch's order,
// which it does not specify.
func (s *Scope) TopK(x *Tensor, k, dim int64, largest, sorted bool) (values, indices *Tensor, err error) {
	values, err = s.unary("topk", x, func(out *ctensor, x ctensor) { lib.AtgTopk(out, x, k, dim, flag(largest), flag(sorted)) })
	if err != nil {
		return nil, nil, err
	}
	idx := s.out.at(1)
	if idx == nil {
		return nil, nil, fmt.Errorf("torch: topk returned no indices")
	}
	return values, s.newTensor(idx), nil
}
