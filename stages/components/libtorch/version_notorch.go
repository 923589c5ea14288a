//go:build !torch

package libtorch

// version is the pinned version: this build loads no libtorch.
func version() string { return Pinned }
