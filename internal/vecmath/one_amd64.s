//go:build !purego

#include "textflag.h"

// func dot1x12(a *float32, k int, b *float32, ldb int, out *float32)
//
// Twelve accumulators X0-X11, one per row of b, addressed from one moving
// pointer DI with multiples of the row stride s in BX (s), R8 (3s), R9
// (5s), R10 (7s), R11 (9s), R12 (11s); X12 holds a[t]. Each step is one
// VFMADD231SS per row: X_j = a[t]·b_j[t] + X_j, gemm16x6's lane order.
TEXT ·dot1x12(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ k+8(FP), CX
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	SHLQ $2, BX
	MOVQ out+32(FP), DX
	LEAQ (BX)(BX*2), R8
	LEAQ (BX)(BX*4), R9
	LEAQ (R8)(BX*4), R10
	LEAQ (BX)(BX*8), R11
	LEAQ (R8)(BX*8), R12
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
	VXORPS X2, X2, X2
	VXORPS X3, X3, X3
	VXORPS X4, X4, X4
	VXORPS X5, X5, X5
	VXORPS X6, X6, X6
	VXORPS X7, X7, X7
	VXORPS X8, X8, X8
	VXORPS X9, X9, X9
	VXORPS X10, X10, X10
	VXORPS X11, X11, X11
	TESTQ CX, CX
	JLE   store12

loop12:
	VMOVSS      (SI), X12
	VFMADD231SS (DI), X12, X0
	VFMADD231SS (DI)(BX*1), X12, X1
	VFMADD231SS (DI)(BX*2), X12, X2
	VFMADD231SS (DI)(R8*1), X12, X3
	VFMADD231SS (DI)(BX*4), X12, X4
	VFMADD231SS (DI)(R9*1), X12, X5
	VFMADD231SS (DI)(R8*2), X12, X6
	VFMADD231SS (DI)(R10*1), X12, X7
	VFMADD231SS (DI)(BX*8), X12, X8
	VFMADD231SS (DI)(R11*1), X12, X9
	VFMADD231SS (DI)(R9*2), X12, X10
	VFMADD231SS (DI)(R12*1), X12, X11
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JNZ         loop12

store12:
	VMOVSS X0, (DX)
	VMOVSS X1, 4(DX)
	VMOVSS X2, 8(DX)
	VMOVSS X3, 12(DX)
	VMOVSS X4, 16(DX)
	VMOVSS X5, 20(DX)
	VMOVSS X6, 24(DX)
	VMOVSS X7, 28(DX)
	VMOVSS X8, 32(DX)
	VMOVSS X9, 36(DX)
	VMOVSS X10, 40(DX)
	VMOVSS X11, 44(DX)
	RET

// func dot1x1(a *float32, k int, b *float32) float32
TEXT ·dot1x1(SB), NOSPLIT, $0-28
	MOVQ   a+0(FP), SI
	MOVQ   k+8(FP), CX
	MOVQ   b+16(FP), DI
	VXORPS X0, X0, X0
	TESTQ  CX, CX
	JLE    store1x1

loop1x1:
	VMOVSS      (SI), X12
	VFMADD231SS (DI), X12, X0
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JNZ         loop1x1

store1x1:
	VMOVSS X0, ret+24(FP)
	RET

// GROUP scores four rows from base (rows base, base+s, base+2s, base+3s)
// into accumulator acc: loads four dimensions of each into X8-X11,
// transposes them 4 × 4 (X8+u then holds the four rows' dimension t+u),
// then four fused multiply-adds in order of u.
#define GROUP(base, acc) \
	VMOVUPS     (base), X8; \
	VMOVUPS     (base)(BX*1), X9; \
	VMOVUPS     (base)(BX*2), X10; \
	VMOVUPS     (base)(R8*1), X11; \
	VUNPCKLPS   X9, X8, X12; \
	VUNPCKLPS   X11, X10, X13; \
	VUNPCKHPS   X9, X8, X14; \
	VUNPCKHPS   X11, X10, X15; \
	VMOVLHPS    X13, X12, X8; \
	VMOVHLPS    X12, X13, X9; \
	VMOVLHPS    X15, X14, X10; \
	VMOVHLPS    X14, X15, X11; \
	VFMADD231PS X8, X4, acc; \
	VFMADD231PS X9, X5, acc; \
	VFMADD231PS X10, X6, acc; \
	VFMADD231PS X11, X7, acc

// func dot1x16(a *float32, k int, b *float32, ldb int, out *float32)
//
// out[j] = Σ_{t<k} a[t]·b[j*ldb+t], j < 16, k a positive multiple of 4.
// Rows go in four groups of four, one XMM accumulator per group (X0-X3),
// a lane per row. Per four dimensions: a[t..t+3] broadcast into X4-X7;
// each group's four rows loaded (X8-X11) and transposed 4 × 4 so that
// X8+u holds the group's values of dimension t+u; then four packed fused
// multiply-adds in order of u. Each lane still sums its row one
// multiply-add at a time in order of t, gemm16x6's order.
TEXT ·dot1x16(SB), NOSPLIT, $0-40
	MOVQ   a+0(FP), SI
	MOVQ   k+8(FP), CX
	MOVQ   b+16(FP), DI
	MOVQ   ldb+24(FP), BX
	SHLQ   $2, BX
	MOVQ   out+32(FP), DX
	LEAQ   (BX)(BX*2), R8
	LEAQ   (DI)(BX*4), R9
	LEAQ   (R9)(BX*4), R10
	LEAQ   (R10)(BX*4), R11
	LEAQ   (R11)(BX*4), R12
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
	VXORPS X2, X2, X2
	VXORPS X3, X3, X3

loop16:
	// The next sixteen rows (16·4k bytes) come into the cache 256 bytes
	// per step, so that they arrive as this call ends (a list's rows are
	// contiguous; beyond them a prefetch is only wasted, never a fault).
	PREFETCHT0   (R12)
	PREFETCHT0   64(R12)
	PREFETCHT0   128(R12)
	PREFETCHT0   192(R12)
	ADDQ         $256, R12
	VBROADCASTSS (SI), X4
	VBROADCASTSS 4(SI), X5
	VBROADCASTSS 8(SI), X6
	VBROADCASTSS 12(SI), X7
	GROUP(DI, X0)
	GROUP(R9, X1)
	GROUP(R10, X2)
	GROUP(R11, X3)
	ADDQ         $16, SI
	ADDQ         $16, DI
	ADDQ         $16, R9
	ADDQ         $16, R10
	ADDQ         $16, R11
	SUBQ         $4, CX
	JGT          loop16

	VMOVUPS X0, (DX)
	VMOVUPS X1, 16(DX)
	VMOVUPS X2, 32(DX)
	VMOVUPS X3, 48(DX)
	RET
