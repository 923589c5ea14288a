//go:build !purego

package plaid

import "golang.org/x/sys/cpu"

// useAVX: decodeDiv2 needs AVX (YMM adds and divides).
var useAVX = cpu.X86.HasAVX

// decodeDiv2 sets out[4j+i] = (centroid[4j+i] + lut[4·code[j]+i]) / n for
// j < nbytes, i < 4: a 2-bit token decoded through the byte table and
// divided by its norm (n = 1 leaves it as decoded: x/1 is x), each value a
// rounded add then a rounded divide, as decodeGo.
//
//go:noescape
func decodeDiv2(out, centroid *float32, code *byte, lut *float32, nbytes int, n float32)
