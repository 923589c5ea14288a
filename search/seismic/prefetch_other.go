//go:build !amd64 || purego

package seismic

import "unsafe"

// prefetch does nothing here: it is only a hint.
func prefetch(p unsafe.Pointer, n uintptr) {}
