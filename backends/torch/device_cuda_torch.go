//go:build torch && cuda

package torch

import "fmt"

// cudaBuilt reports whether this binary links libtorch's CUDA kernels.
const cudaBuilt = true

// checkDevice accepts the CPU and CUDA devices present on this machine.
func checkDevice(d Device) error {
	if !d.IsCUDA() {
		return nil
	}
	n := CUDADeviceCount()
	if d.Index() < 0 || d.Index() >= n {
		return fmt.Errorf("torch: %v requested but %d CUDA device(s) are available", d, n)
	}
	return nil
}
