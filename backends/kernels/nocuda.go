//go:build !cuda

package kernels

import "github.com/irflow/irflow/backends/torch"

func launchPool(s *torch.Scope, hidden, weight, bias, mask *torch.Tensor, o PoolOptions, B, L, D, V int64) (*torch.Tensor, error) {
	return nil, ErrNoCUDA
}

func launchTopK(s *torch.Scope, t *TopK, scores *torch.Tensor, nb, firstDoc int64) error {
	return ErrNoCUDA
}

// MemInfo reports the CUDA device's free and total memory in bytes.
func MemInfo() (free, total int64, err error) { return 0, 0, ErrNoCUDA }
