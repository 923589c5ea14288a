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
