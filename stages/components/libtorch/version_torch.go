//go:build torch

package components

import "github.com/irflow/irflow/backends/torch"

// libtorchVersion is the version of the libtorch this process loaded.
func libtorchVersion() string { return torch.Version() }
