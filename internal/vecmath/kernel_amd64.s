//go:build !purego

#include "textflag.h"

// func dot4x3n(a *float32, lda int, b *float32, ldb int, k int, n int, out *float32, ldo int)
//
// For the four rows of a and n triples of rows of b: out[j*ldo+i] =
// Σ_{t<k} a[i*lda+t]·b[j*ldb+t], i < 4, j < 3n; k is a multiple of 8 and
// the strides count float32s. Per triple, twelve YMM accumulators, one
// register for the current row of a and three for the rows of b: 7 loads
// per 12 FMAs, so the loop runs at the FMA units' rate. Each output is
// reduced as ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)) over its eight lanes, the
// order every kernel here uses.
TEXT ·dot4x3n(SB), NOSPLIT, $0-64
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), AX
	SHLQ $2, AX
	LEAQ (SI)(AX*1), R8  // a row 1
	LEAQ (SI)(AX*2), R9  // a row 2
	LEAQ (R8)(AX*2), R10 // a row 3
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	SHLQ $2, BX
	MOVQ k+32(FP), CX
	SHLQ $2, CX
	MOVQ n+40(FP), AX
	MOVQ out+48(FP), DX
	MOVQ ldo+56(FP), R15
	SHLQ $2, R15

tile:
	TESTQ AX, AX
	JLE   end
	LEAQ  (DI)(BX*1), R11 // b row 1
	LEAQ  (DI)(BX*2), R12 // b row 2
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	XORQ   R13, R13

loop:
	CMPQ        R13, CX
	JGE         reduce
	VMOVUPS     (DI)(R13*1), Y12
	VMOVUPS     (R11)(R13*1), Y13
	VMOVUPS     (R12)(R13*1), Y14
	VMOVUPS     (SI)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VMOVUPS     (R8)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VMOVUPS     (R9)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VMOVUPS     (R10)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ        $32, R13
	JMP         loop

reduce:
	// Accumulator 3i+j holds a_i·b_j. Reduce the four of each b row into
	// one XMM [a0·bj, a1·bj, a2·bj, a3·bj] and store it at out[j*ldo].
	VHADDPS      Y3, Y0, Y0
	VHADDPS      Y9, Y6, Y6
	VHADDPS      Y6, Y0, Y0
	VEXTRACTF128 $1, Y0, X12
	VADDPS       X12, X0, X0
	VMOVUPS      X0, (DX)
	VHADDPS      Y4, Y1, Y1
	VHADDPS      Y10, Y7, Y7
	VHADDPS      Y7, Y1, Y1
	VEXTRACTF128 $1, Y1, X12
	VADDPS       X12, X1, X1
	VMOVUPS      X1, (DX)(R15*1)
	VHADDPS      Y5, Y2, Y2
	VHADDPS      Y11, Y8, Y8
	VHADDPS      Y8, Y2, Y2
	VEXTRACTF128 $1, Y2, X12
	VADDPS       X12, X2, X2
	VMOVUPS      X2, (DX)(R15*2)

	LEAQ (DI)(BX*2), DI // next triple of b rows
	ADDQ BX, DI
	LEAQ (DX)(R15*2), DX // next three rows of out
	ADDQ R15, DX
	DECQ AX
	JMP  tile

end:
	VZEROUPPER
	RET

// func dot1x4(a *float32, b *float32, ldb int, k int, out *[4]float32)
//
// out[j] = Σ_{t<k} a[t]·b[j*ldb+t] for j < 4; k is a multiple of 8. One
// accumulator per output, summed in the same order as dot4x3 (eight lanes
// over t, then the same horizontal reduction), so a pair's score does not
// depend on which kernel computed it.
TEXT ·dot1x4(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ ldb+16(FP), BX
	SHLQ $2, BX
	MOVQ k+24(FP), CX
	SHLQ $2, CX
	MOVQ out+32(FP), DX

	LEAQ (DI)(BX*1), R8
	LEAQ (DI)(BX*2), R9
	LEAQ (R8)(BX*2), R10

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   R13, R13

loop1x4:
	CMPQ        R13, CX
	JGE         done1x4
	VMOVUPS     (SI)(R13*1), Y8
	VFMADD231PS (DI)(R13*1), Y8, Y0
	VFMADD231PS (R8)(R13*1), Y8, Y1
	VFMADD231PS (R9)(R13*1), Y8, Y2
	VFMADD231PS (R10)(R13*1), Y8, Y3
	ADDQ        $32, R13
	JMP         loop1x4

done1x4:
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X12
	VADDPS       X12, X0, X0
	VMOVUPS      X0, (DX)
	VZEROUPPER
	RET

// func dot1x1(a *float32, b *float32, k int) float32
//
// Σ_{t<k} a[t]·b[t], k a multiple of 8, in dot4x3's order.
TEXT ·dot1x1(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ k+16(FP), CX
	SHLQ $2, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   R13, R13

loop1x1:
	CMPQ        R13, CX
	JGE         done1x1
	VMOVUPS     (SI)(R13*1), Y8
	VFMADD231PS (DI)(R13*1), Y8, Y0
	ADDQ        $32, R13
	JMP         loop1x1

done1x1:
	// The same reduction tree as four outputs, with zeros beside.
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X12
	VADDPS       X12, X0, X0
	MOVSS        X0, ret+24(FP)
	VZEROUPPER
	RET

// func f16to32(dst *float32, src *uint16, n int)
//
// Converts n (a multiple of 8) IEEE half-precision values with F16C.
TEXT ·f16to32(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX

loopf16:
	CMPQ      AX, CX
	JGE       donef16
	VCVTPH2PS (SI)(AX*2), Y0
	VMOVUPS   Y0, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       loopf16

donef16:
	VZEROUPPER
	RET

// func f32to16(dst *uint16, src *float32, n int)
//
// Converts n (a multiple of 8) float32 values to half precision, rounding
// to nearest even, with F16C.
TEXT ·f32to16(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX

loopf32:
	CMPQ      AX, CX
	JGE       donef32
	VMOVUPS   (SI)(AX*4), Y0
	VCVTPS2PH $0, Y0, (DI)(AX*2)
	ADDQ      $8, AX
	JMP       loopf32

donef32:
	VZEROUPPER
	RET

// func cpuid(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET
