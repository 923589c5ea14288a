//go:build !purego

package ivf

import "golang.org/x/sys/cpu"

// useAVX: fillSub needs AVX (YMM multiplies and adds, no FMA).
var useAVX = cpu.X86.HasAVX

// fillSub fills one sub-space's 256 table entries (see fillTable).
//
//go:noescape
func fillSub(row *float32, cols *float32, x *float32, dsub int, l2 bool)
