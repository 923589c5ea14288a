//go:build torch

package torch

import (
	"fmt"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
)

// shapeOf checks that shape holds n elements; no shape means 1-D [n].
func shapeOf(op string, n int, shape []int64) ([]int64, error) {
	if len(shape) == 0 {
		return []int64{int64(n)}, nil
	}
	want := int64(1)
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("torch: %s: negative dimension in shape %v", op, shape)
		}
		want *= d
	}
	if want != int64(n) {
		return nil, fmt.Errorf("torch: %s: %d elements do not fill shape %v (%d)", op, n, shape, want)
	}
	return shape, nil
}

// fromData copies n elements of dt at p into a tensor on the scope's device.
func (s *Scope) fromData(op string, p unsafe.Pointer, n int, dt DType, shape []int64) (*Tensor, error) {
	if s.closed {
		return nil, fmt.Errorf("torch: %s: scope used after its callback returned", op)
	}
	shape, err := shapeOf(op, n, shape)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return s.Zeros(dt, shape...)
	}
	c := cTensorOfData(p, shape, dt.Size(), dt)
	if err := lastError(); err != nil {
		return nil, fmt.Errorf("torch: %s: %w", op, err)
	}
	if c == nil {
		return nil, fmt.Errorf("torch: %s returned no tensor", op)
	}
	t := s.newTensor(c)
	return s.place(t)
}

// place moves a new CPU tensor to the scope's device.
func (s *Scope) place(t *Tensor) (*Tensor, error) {
	if !s.rt.device.IsCUDA() {
		return t, nil
	}
	moved, err := s.To(t, s.rt.device)
	t.Free()
	return moved, err
}

// FromFloat32 copies data into a float32 tensor of the given shape (1-D
// when no shape is given).
func (s *Scope) FromFloat32(data []float32, shape ...int64) (*Tensor, error) {
	return s.fromData("from_float32", unsafe.Pointer(unsafe.SliceData(data)), len(data), Float32, shape)
}

// FromInt64 copies data into an int64 tensor (token ids, labels, indices).
func (s *Scope) FromInt64(data []int64, shape ...int64) (*Tensor, error) {
	return s.fromData("from_int64", unsafe.Pointer(unsafe.SliceData(data)), len(data), Int64, shape)
}

// FromBytes copies raw little-endian elements of dt (as stored in
// safetensors or a pickled state dict) into a tensor of the given shape.
func (s *Scope) FromBytes(data []byte, dt DType, shape ...int64) (*Tensor, error) {
	size := dt.Size()
	if size == 0 {
		return nil, fmt.Errorf("torch: from_bytes: unsupported dtype %v", dt)
	}
	if len(data)%size != 0 {
		return nil, fmt.Errorf("torch: from_bytes: %d bytes are not a whole number of %v elements", len(data), dt)
	}
	return s.fromData("from_bytes", unsafe.Pointer(unsafe.SliceData(data)), len(data)/size, dt, shape)
}

// creation runs a factory op; an empty shape makes a 0-dimensional tensor.
func (s *Scope) creation(op string, shape []int64, f func(out *ctensor, shape []int64)) (*Tensor, error) {
	if _, err := s.args(op); err != nil {
		return nil, err
	}
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("torch: %s: negative dimension in shape %v", op, shape)
		}
	}
	if len(shape) > 0 {
		return s.call(op, func(out *ctensor) { f(out, shape) })
	}
	one, err := s.call(op, func(out *ctensor) { f(out, []int64{1}) })
	if err != nil {
		return nil, err
	}
	defer one.Free()
	return s.unary("squeeze", one, lib.AtgSqueeze)
}

// Zeros makes a tensor of zeros.
func (s *Scope) Zeros(dt DType, shape ...int64) (*Tensor, error) {
	d := s.rt.device.code()
	return s.creation("zeros", shape, func(out *ctensor, sh []int64) { lib.AtgZeros(out, sh, len(sh), int32(dt), d) })
}

// Ones makes a tensor of ones.
func (s *Scope) Ones(dt DType, shape ...int64) (*Tensor, error) {
	d := s.rt.device.code()
	return s.creation("ones", shape, func(out *ctensor, sh []int64) { lib.AtgOnes(out, sh, len(sh), int32(dt), d) })
}

// Full makes a tensor filled with v.
func (s *Scope) Full(v float64, dt DType, shape ...int64) (*Tensor, error) {
	d := s.rt.device.code()
	sc := lib.AtsFloat(v)
	defer lib.AtsFree(sc)
	return s.creation("full", shape, func(out *ctensor, sh []int64) { lib.AtgFull(out, sh, len(sh), sc, int32(dt), d) })
}

// Rand draws uniformly from [0, 1) with libtorch's global generator.
func (s *Scope) Rand(dt DType, shape ...int64) (*Tensor, error) {
	d := s.rt.device.code()
	return s.creation("rand", shape, func(out *ctensor, sh []int64) { lib.AtgRand(out, sh, len(sh), int32(dt), d) })
}

// Randn draws from the standard normal with libtorch's global generator.
func (s *Scope) Randn(dt DType, shape ...int64) (*Tensor, error) {
	d := s.rt.device.code()
	return s.creation("randn", shape, func(out *ctensor, sh []int64) { lib.AtgRandn(out, sh, len(sh), int32(dt), d) })
}

// Arange makes [0, 1, …, n-1] (position ids).
func (s *Scope) Arange(n int64, dt DType) (*Tensor, error) {
	if _, err := s.args("arange"); err != nil {
		return nil, err
	}
	sc := lib.AtsInt(n)
	defer lib.AtsFree(sc)
	d := s.rt.device.code()
	return s.call("arange", func(out *ctensor) { lib.AtgArange(out, sc, int32(dt), d) })
}

// copyOut copies x, converted to dt if needed, into dst (numel elements).
func (s *Scope) copyOut(op string, x *Tensor, dt DType, dst unsafe.Pointer) error {
	return s.Nested(func(s *Scope) error {
		cs, err := s.args(op, x)
		if err != nil {
			return err
		}
		src := x
		if cScalarType(cs[0]) != dt {
			if src, err = s.ToDType(x, dt); err != nil {
				return err
			}
		}
		n := x.Numel()
		if n == 0 {
			return nil
		}
		cCopyData(src.c, dst, n, dt.Size())
		if err := lastError(); err != nil {
			return fmt.Errorf("torch: %s: %w", op, err)
		}
		return nil
	})
}

// Float32s copies x's elements (converted to float32) into a new slice in
// row-major order.
func (s *Scope) Float32s(x *Tensor) ([]float32, error) {
	out := make([]float32, x.Numel())
	return out, s.copyOut("float32s", x, Float32, unsafe.Pointer(unsafe.SliceData(out)))
}

// Int64s copies x's elements (converted to int64) into a new slice.
func (s *Scope) Int64s(x *Tensor) ([]int64, error) {
	out := make([]int64, x.Numel())
	return out, s.copyOut("int64s", x, Int64, unsafe.Pointer(unsafe.SliceData(out)))
}

// Bytes copies x's raw elements (its own dtype, native byte order).
func (s *Scope) Bytes(x *Tensor) ([]byte, error) {
	dt := x.DType()
	if dt.Size() == 0 {
		return nil, fmt.Errorf("torch: bytes: unsupported dtype %v", dt)
	}
	out := make([]byte, x.Numel()*int64(dt.Size()))
	return out, s.copyOut("bytes", x, dt, unsafe.Pointer(unsafe.SliceData(out)))
}

// Item returns the single element of a one-element tensor as float64.
func (s *Scope) Item(x *Tensor) (float64, error) {
	if n := x.Numel(); n != 1 {
		return 0, fmt.Errorf("torch: item: tensor has %d elements, want 1", n)
	}
	var v float64
	return v, s.copyOut("item", x, Float64, unsafe.Pointer(&v))
}
