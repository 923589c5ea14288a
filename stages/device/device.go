// Package device declares the `device` parameter of every stage that runs
// a model (fit, re_rank, neural index and search), so the four spell,
// check and document it the same way.
//
// The device is part of the stage's cache key (not Meta): the same model
// on cpu and cuda gives results that differ in the last bits (other
// kernels, other summation orders, TF32 where libtorch allows it), and a
// run made on the GPU must stay distinguishable from one made on the CPU.
package device

import (
	"fmt"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/pipeline/stage"
)

// Name is the parameter's name.
const Name = "device"

// Param is the `device` parameter: "cpu" (default), "cuda" or "cuda:N".
// The recipe loader runs Check, so `irflow plan` refuses a malformed name
// and a CUDA device in a binary built without the cuda tag; whether
// device N exists is checked when the stage opens its runtime.
func Param() stage.Param {
	return stage.Param{
		Name: Name, Type: stage.String, Default: "cpu", Check: Check,
		Doc: `Where the model runs: "cpu", "cuda" (device 0) or "cuda:N" (CUDA needs a build with -tags torch,cuda; docs/gpu.md). Part of the cache key: cpu and cuda results differ in rounding.`,
	}
}

// Check validates a device parameter's value.
func Check(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("device must be a string, got %T", v)
	}
	_, err := torch.CheckDeviceName(s)
	return err
}

// Of reads the job's device parameter.
func Of(job *stage.Job) (torch.Device, error) {
	d, err := torch.CheckDeviceName(job.String(Name))
	if err != nil {
		return d, fmt.Errorf("%s: device: %w", job.Address, err)
	}
	return d, nil
}

// PrecisionName is the name of the precision parameter (not "dtype":
// dense index already uses that for the stored vectors).
const PrecisionName = "precision"

// PrecisionParam is the `precision` parameter of the stages that run a model for
// inference (re_rank, neural index and search): "float32" (default) or
// "bfloat16". Part of the cache key: bf16 results differ from fp32 ones in
// the third significant digit.
func PrecisionParam() stage.Param {
	return stage.Param{
		Name: PrecisionName, Type: stage.String, Default: "float32", Enum: []string{"float32", "bfloat16"},
		Doc: `Type the model computes in: "float32" (parity-tested against PyTorch to 1e-5) or "bfloat16" (for GPUs: as sentence-transformers with torch_dtype=bfloat16; results agree with float32 to about 1e-2; on CPUs without bf16 units it is slower). Part of the cache key.`,
	}
}

// CheckPrecision is the Kind.Check of the stages with a precision
// parameter: bfloat16 needs a GPU. On CPUs without bf16 units (this
// project's machines) MiniLM encoded 7.4× slower in bf16 than in fp32
// (docs/gpu.md), so a CPU bf16 run is refused rather than run slowly.
func CheckPrecision(params map[string]any) error {
	p, _ := params[PrecisionName].(string)
	d, _ := params[Name].(string)
	if p == "bfloat16" && (d == "" || d == "cpu") {
		return &stage.ParamError{Param: PrecisionName, Err: fmt.Errorf(`precision "bfloat16" is for GPUs (set device = "cuda"): on CPUs it is several times slower than "float32"`)}
	}
	return nil
}
