package torch

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNotBuilt is returned by every entry point of a binary built without the
// torch tag.
var ErrNotBuilt = errors.New("irflow was built without libtorch: run ./task setup && ./task build")

// ErrNoCUDA is returned when a CUDA device is asked of a build without the
// cuda tag.
var ErrNoCUDA = errors.New("irflow was built without CUDA support: build with -tags torch,cuda (and IRFLOW_TORCH_CUDA=1 ./task setup)")

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("torch: runtime closed")

// Device is where tensors live: CPU or one CUDA device.
type Device struct {
	cuda  bool
	index int
}

// CPU is the host device.
var CPU = Device{}

// CUDA returns the CUDA device with the given index.
func CUDA(index int) Device { return Device{cuda: true, index: index} }

// IsCUDA reports whether d is a CUDA device.
func (d Device) IsCUDA() bool { return d.cuda }

// Index is the CUDA device index (0 for the CPU).
func (d Device) Index() int { return d.index }

func (d Device) String() string {
	if !d.cuda {
		return "cpu"
	}
	return "cuda:" + strconv.Itoa(d.index)
}

// code is gotch's device number: -1 for the CPU, else the CUDA index.
func (d Device) code() int32 {
	if !d.cuda {
		return -1
	}
	return int32(d.index)
}

func deviceOfCode(c int) Device {
	if c < 0 {
		return CPU
	}
	return CUDA(c)
}

// ParseDevice reads "cpu", "cuda" (device 0) or "cuda:N".
func ParseDevice(s string) (Device, error) {
	switch t := strings.ToLower(strings.TrimSpace(s)); {
	case t == "cpu" || t == "":
		return CPU, nil
	case t == "cuda":
		return CUDA(0), nil
	case strings.HasPrefix(t, "cuda:"):
		n, err := strconv.Atoi(t[len("cuda:"):])
		if err != nil || n < 0 {
			return CPU, fmt.Errorf("torch: bad CUDA device %q", s)
		}
		return CUDA(n), nil
	}
	return CPU, fmt.Errorf("torch: unknown device %q (want cpu, cuda or cuda:N)", s)
}

// CheckDeviceName is the plan-time check of a stage's device parameter:
// "cpu", "cuda" or "cuda:N" (ParseDevice's empty string is refused: a recipe
// names its device), and ErrNoCUDA for a CUDA device in a binary that cannot
// have one (built without the cuda tag). Whether device N exists is known
// only where the stage runs: Open checks it there.
func CheckDeviceName(s string) (Device, error) {
	if strings.TrimSpace(s) == "" {
		return CPU, fmt.Errorf("torch: empty device (want cpu, cuda or cuda:N)")
	}
	d, err := ParseDevice(s)
	if err != nil {
		return d, err
	}
	if d.IsCUDA() && !CUDABuilt() {
		return d, ErrNoCUDA
	}
	return d, nil
}

// DType is a tensor element type. The values are libtorch's ScalarType codes.
type DType int32

// Element types irflow uses.
const (
	Uint8    DType = 0
	Int8     DType = 1
	Int32    DType = 3
	Int64    DType = 4
	Float16  DType = 5
	Float32  DType = 6
	Float64  DType = 7
	Bool     DType = 11
	BFloat16 DType = 15
)

var dtypeInfo = map[DType]struct {
	name string
	size int
}{
	Uint8: {"uint8", 1}, Int8: {"int8", 1}, Int32: {"int32", 4}, Int64: {"int64", 8},
	Float16: {"float16", 2}, Float32: {"float32", 4}, Float64: {"float64", 8},
	Bool: {"bool", 1}, BFloat16: {"bfloat16", 2},
}

// Size is the element size in bytes (0 for an unknown type).
func (d DType) Size() int { return dtypeInfo[d].size }

func (d DType) String() string {
	if i, ok := dtypeInfo[d]; ok {
		return i.name
	}
	return fmt.Sprintf("DType(%d)", int32(d))
}

// ParseDType reads names as safetensors writes them (F32, BF16, I64, …) or
// as DType.String prints them.
func ParseDType(s string) (DType, error) {
	switch strings.ToUpper(s) {
	case "F32", "FLOAT32", "FLOAT":
		return Float32, nil
	case "F64", "FLOAT64", "DOUBLE":
		return Float64, nil
	case "F16", "FLOAT16", "HALF":
		return Float16, nil
	case "BF16", "BFLOAT16":
		return BFloat16, nil
	case "I64", "INT64", "LONG":
		return Int64, nil
	case "I32", "INT32", "INT":
		return Int32, nil
	case "I8", "INT8":
		return Int8, nil
	case "U8", "UINT8":
		return Uint8, nil
	case "BOOL":
		return Bool, nil
	}
	return 0, fmt.Errorf("torch: unknown dtype %q", s)
}

// Options configure a Runtime.
type Options struct {
	// Device where creation ops place tensors (default CPU).
	Device Device
	// Threads is libtorch's intra-op thread count; 0 keeps libtorch's
	// default (the number of physical cores).
	Threads int
	// Workers is the number of locked OS threads serving Do; 0 means 1.
	Workers int
	// Seed seeds libtorch's global generator when SetSeed is true.
	Seed    int64
	SetSeed bool
}

// AdamWOptions are torch.optim.AdamW's hyper-parameters (eps is libtorch's
// default 1e-8; amsgrad off).
type AdamWOptions struct {
	LR          float64
	Beta1       float64 // default 0.9 when zero
	Beta2       float64 // default 0.999 when zero
	WeightDecay float64 // PyTorch's default is 0.01; zero means none
}

// Reduction of a loss over the batch.
type Reduction int64

// Values match libtorch's at::Reduction.
const (
	ReduceNone Reduction = 0
	ReduceMean Reduction = 1
	ReduceSum  Reduction = 2
)

// WorkerPanic carries a panic raised inside a Do callback back to the
// goroutine that called Do, where it is raised again.
type WorkerPanic struct {
	Value any
	Stack []byte
}

func (p *WorkerPanic) Error() string {
	return fmt.Sprintf("panic in torch worker: %v\n\n%s", p.Value, p.Stack)
}
