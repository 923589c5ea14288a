//go:build !purego

package ivf

import "golang.org/x/sys/cpu"

// useAVX: fillSub needs AVX (YMM multiplies and adds, no FMA).
var useAVX = cpu.X86.HasAVX

// fillSub sets row[c] = Σ_{u<dsub} x[u]·cols[ld·u+c] (l2: the squared
// differences) for c < n, a multiple of 64, summed as fillTable's and
// rotate's Go loops: one sub-space's 256 table entries, or a rotation
// from its transpose.
//
//go:noescape
func fillSub(row *float32, cols *float32, x *float32, dsub, ld, n int, l2 bool)
