//go:build !purego

#include "textflag.h"

// func gemm16x6(p *float32, k int, b *float32, ldb int, n int, out *float32, ldo int)
//
// p is a packed panel of 16 rows of a: k steps of 16 values (row r's
// value t at p[16t+r]). For each group of six rows of b (n is a multiple
// of 6): out[j*ldo+r] = Σ_{t<k} p[16t+r]·b[j*ldb+t], r < 16, j < n. Twelve
// YMM accumulators (two per row of b), two registers for the panel's
// step, one for a broadcast value of b: 8 loads per 12 FMAs, no
// horizontal sums. Each lane sums its products in order of t, one fused
// multiply-add at a time, the order gemm16x1 uses too.
TEXT ·gemm16x6(SB), NOSPLIT, $0-56
	MOVQ k+8(FP), CX
	SHLQ $2, CX
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	SHLQ $2, BX
	MOVQ n+32(FP), AX
	MOVQ out+40(FP), DX
	MOVQ ldo+48(FP), R15
	SHLQ $2, R15

group6:
	CMPQ AX, $6
	JLT  end6
	MOVQ p+0(FP), SI
	LEAQ (DI)(BX*1), R8  // b row 1
	LEAQ (DI)(BX*2), R9  // b row 2
	LEAQ (R8)(BX*2), R10 // b row 3
	LEAQ (DI)(BX*4), R11 // b row 4
	LEAQ (R8)(BX*4), R12 // b row 5
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

loop6:
	CMPQ         R13, CX
	JGE          store6
	VMOVUPS      (SI), Y12
	VMOVUPS      32(SI), Y13
	VBROADCASTSS (DI)(R13*1), Y14
	VFMADD231PS  Y14, Y12, Y0
	VFMADD231PS  Y14, Y13, Y1
	VBROADCASTSS (R8)(R13*1), Y14
	VFMADD231PS  Y14, Y12, Y2
	VFMADD231PS  Y14, Y13, Y3
	VBROADCASTSS (R9)(R13*1), Y14
	VFMADD231PS  Y14, Y12, Y4
	VFMADD231PS  Y14, Y13, Y5
	VBROADCASTSS (R10)(R13*1), Y14
	VFMADD231PS  Y14, Y12, Y6
	VFMADD231PS  Y14, Y13, Y7
	VBROADCASTSS (R11)(R13*1), Y14
	VFMADD231PS  Y14, Y12, Y8
	VFMADD231PS  Y14, Y13, Y9
	VBROADCASTSS (R12)(R13*1), Y14
	VFMADD231PS  Y14, Y12, Y10
	VFMADD231PS  Y14, Y13, Y11
	ADDQ         $64, SI
	ADDQ         $4, R13
	JMP          loop6

store6:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ    R15, DX
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ    R15, DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ    R15, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ    R15, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ    R15, DX
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	ADDQ    R15, DX
	LEAQ    (R11)(BX*2), DI // the next six rows of b
	SUBQ    $6, AX
	JMP     group6

end6:
	VZEROUPPER
	RET

// func gemm16x1(p *float32, k int, b *float32, out *float32)
//
// out[r] = Σ_{t<k} p[16t+r]·b[t], r < 16, in gemm16x6's order.
TEXT ·gemm16x1(SB), NOSPLIT, $0-32
	MOVQ   p+0(FP), SI
	MOVQ   k+8(FP), CX
	SHLQ   $2, CX
	MOVQ   b+16(FP), DI
	MOVQ   out+24(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   R13, R13

loop1:
	CMPQ         R13, CX
	JGE          store1
	VBROADCASTSS (DI)(R13*1), Y14
	VFMADD231PS  (SI), Y14, Y0
	VFMADD231PS  32(SI), Y14, Y1
	ADDQ         $64, SI
	ADDQ         $4, R13
	JMP          loop1

store1:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
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
