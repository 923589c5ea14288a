//go:build torch

package torch

// These functions are extern "C" in gotch's libtch (torch_api.cpp). Some have
// no Go wrapper there, and some wrappers read a C int as a Go int (8 bytes),
// so this package declares and calls them itself.

/*
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
typedef void *tensor;
char *get_and_reset_last_err(void);
void at_manual_seed(int64_t seed);
void at_set_num_threads(int n);
int at_get_num_threads(void);
int at_grad_set_enabled(int enabled);
void at_free(tensor t);
int at_defined(tensor t);
size_t at_dim(tensor t);
void at_shape(tensor t, int64_t *dims);
int at_scalar_type(tensor t);
int at_device(tensor t);
int at_requires_grad(tensor t);
void at_backward(tensor t, int keep_graph, int create_graph);
tensor at_tensor_of_data(void *data, int64_t *dims, size_t ndims, size_t elt_size, int type);
void at_copy_data(tensor t, void *dst, size_t numel, size_t elt_size);
int atc_cuda_device_count(void);
*/
import "C"

import (
	"errors"
	"strings"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
)

// ctensor is a torch::Tensor* owned by a Tensor.
type ctensor = lib.Ctensor

// lastError takes libtorch's pending error on this OS thread, if any.
func lastError() error {
	p := C.get_and_reset_last_err()
	if p == nil {
		return nil
	}
	msg := C.GoString(p)
	C.free(unsafe.Pointer(p))
	return errors.New(cleanTorchMessage(msg))
}

// cleanTorchMessage drops the C++ backtrace c10::Error appends to what().
func cleanTorchMessage(msg string) string {
	if i := strings.Index(msg, "\nException raised from"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

func cFree(c ctensor)             { C.at_free(C.tensor(unsafe.Pointer(c))) }
func cDefined(c ctensor) bool     { return C.at_defined(C.tensor(unsafe.Pointer(c))) != 0 }
func cScalarType(c ctensor) DType { return DType(C.at_scalar_type(C.tensor(unsafe.Pointer(c)))) }
func cDevice(c ctensor) Device    { return deviceOfCode(int(C.at_device(C.tensor(unsafe.Pointer(c))))) }
func cRequiresGrad(c ctensor) bool {
	return C.at_requires_grad(C.tensor(unsafe.Pointer(c))) > 0
}

func cShape(c ctensor) []int64 {
	n := int(C.at_dim(C.tensor(unsafe.Pointer(c))))
	if n == 0 {
		return []int64{}
	}
	dims := make([]int64, n)
	C.at_shape(C.tensor(unsafe.Pointer(c)), (*C.int64_t)(unsafe.Pointer(&dims[0])))
	return dims
}

func cBackward(c ctensor) { C.at_backward(C.tensor(unsafe.Pointer(c)), 0, 0) }

// cGradSetEnabled sets grad mode on this thread and returns the previous mode.
func cGradSetEnabled(on bool) bool {
	v := C.int(0)
	if on {
		v = 1
	}
	return C.at_grad_set_enabled(v) == 1
}

func cSetNumThreads(n int) { C.at_set_num_threads(C.int(n)) }
func cGetNumThreads() int  { return int(C.at_get_num_threads()) }
func cManualSeed(s int64)  { C.at_manual_seed(C.int64_t(s)) }
func cCUDADeviceCount() int {
	return int(C.atc_cuda_device_count())
}

// cTensorOfData copies numel elements of size elt at data into a new CPU
// tensor. An empty shape makes a scalar (0-dimensional) tensor.
func cTensorOfData(data unsafe.Pointer, shape []int64, elt int, dt DType) ctensor {
	var dims *C.int64_t
	if len(shape) > 0 {
		dims = (*C.int64_t)(unsafe.Pointer(&shape[0]))
	}
	return ctensor(unsafe.Pointer(C.at_tensor_of_data(data, dims, C.size_t(len(shape)), C.size_t(elt), C.int(dt))))
}

func cCopyData(c ctensor, dst unsafe.Pointer, numel int64, elt int) {
	C.at_copy_data(C.tensor(unsafe.Pointer(c)), dst, C.size_t(numel), C.size_t(elt))
}

// outBuf is C memory for ops' out-pointers: gotch's ts package allocates one
// with malloc(0) per op and never frees it.
type outBuf struct{ p *ctensor }

func newOutBuf() outBuf {
	return outBuf{p: (*ctensor)(C.calloc(8, C.size_t(unsafe.Sizeof(ctensor(nil)))))}
}

func (o outBuf) at(i int) ctensor {
	return *(*ctensor)(unsafe.Add(unsafe.Pointer(o.p), uintptr(i)*unsafe.Sizeof(ctensor(nil))))
}

func (o outBuf) clear() {
	for i := 0; i < 8; i++ {
		*(*ctensor)(unsafe.Add(unsafe.Pointer(o.p), uintptr(i)*unsafe.Sizeof(ctensor(nil)))) = nil
	}
}

func (o outBuf) free() { C.free(unsafe.Pointer(o.p)) }
