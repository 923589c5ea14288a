//go:build torch

package libtorch

import "github.com/irflow/irflow/backends/torch"

// version is the version of the libtorch this process loaded.
func version() string { return torch.Version() }
