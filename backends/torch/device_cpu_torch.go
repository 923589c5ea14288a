//go:build torch && !cuda

package torch

// cudaBuilt reports whether this binary links libtorch's CUDA kernels.
const cudaBuilt = false

// checkDevice accepts only the CPU: this build has no CUDA kernels.
func checkDevice(d Device) error {
	if d.IsCUDA() {
		return ErrNoCUDA
	}
	return nil
}
