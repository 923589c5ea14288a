//go:build amd64 && !purego

package seismic

import "unsafe"

// prefetch asks the CPU to start loading the n > 0 bytes at p into its
// caches (PREFETCHT0, one per 64-byte line) and returns at once; it never
// faults, whatever p.
//
//go:noescape
func prefetch(p unsafe.Pointer, n uintptr)
