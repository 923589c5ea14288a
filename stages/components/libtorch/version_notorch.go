//go:build !torch

package components

// libtorchVersion is the pinned version: this build loads no libtorch.
func libtorchVersion() string { return PinnedLibtorch }
