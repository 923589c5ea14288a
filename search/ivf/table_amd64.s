//go:build !purego

#include "textflag.h"

// IPW adds x[u]·w (Y8 times the eight codewords at off(DI)) to acc: a
// rounded multiply, then a rounded add, as the plain-Go loop.
#define IPW(off, tmp, acc) VMULPS off(DI), Y8, tmp; VADDPS tmp, acc, acc

// L2W adds (x[u] − w)² for the eight codewords at off(DI) to acc: rounded
// subtract, multiply and add, as the plain-Go loop.
#define L2W(off, tmp, acc) VSUBPS off(DI), Y8, tmp; VMULPS tmp, tmp, tmp; VADDPS tmp, acc, acc

// func fillSub(row *float32, cols *float32, x *float32, dsub int, ld int, n int, l2 bool)
//
// row[c] = Σ_{u<dsub} x[u]·cols[ld·u+c] (l2: (x[u]−cols[ld·u+c])²), c < n
// (a multiple of 64), each sum from 0 in order of u with a rounded
// multiply and a rounded add per term: bit for bit fillTable's and
// rotate's plain-Go loops. 64 outputs at a time in eight YMM
// accumulators; Y8 holds x[u].
TEXT ·fillSub(SB), NOSPLIT, $0-49
	MOVQ    row+0(FP), DX
	MOVQ    cols+8(FP), R8
	MOVQ    x+16(FP), R9
	MOVQ    dsub+24(FP), R10
	MOVQ    ld+32(FP), R12
	SHLQ    $2, R12
	MOVQ    n+40(FP), R13
	SHLQ    $2, R13
	MOVBLZX l2+48(FP), R11
	XORQ    BX, BX // byte offset of the 64-output chunk

chunk:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	LEAQ   (R8)(BX*1), DI // this chunk of dimension 0's row
	MOVQ   R9, SI
	MOVQ   R10, CX
	TESTQ  R11, R11
	JNE    l2dims

ipdims:
	VBROADCASTSS (SI), Y8
	IPW(0, Y9, Y0)
	IPW(32, Y10, Y1)
	IPW(64, Y11, Y2)
	IPW(96, Y12, Y3)
	IPW(128, Y9, Y4)
	IPW(160, Y10, Y5)
	IPW(192, Y11, Y6)
	IPW(224, Y12, Y7)
	ADDQ         R12, DI
	ADDQ         $4, SI
	DECQ         CX
	JNZ          ipdims
	JMP          store

l2dims:
	VBROADCASTSS (SI), Y8
	L2W(0, Y9, Y0)
	L2W(32, Y10, Y1)
	L2W(64, Y11, Y2)
	L2W(96, Y12, Y3)
	L2W(128, Y9, Y4)
	L2W(160, Y10, Y5)
	L2W(192, Y11, Y6)
	L2W(224, Y12, Y7)
	ADDQ         R12, DI
	ADDQ         $4, SI
	DECQ         CX
	JNZ          l2dims

store:
	VMOVUPS Y0, (DX)(BX*1)
	VMOVUPS Y1, 32(DX)(BX*1)
	VMOVUPS Y2, 64(DX)(BX*1)
	VMOVUPS Y3, 96(DX)(BX*1)
	VMOVUPS Y4, 128(DX)(BX*1)
	VMOVUPS Y5, 160(DX)(BX*1)
	VMOVUPS Y6, 192(DX)(BX*1)
	VMOVUPS Y7, 224(DX)(BX*1)
	ADDQ    $256, BX
	CMPQ    BX, R13
	JLT     chunk
	VZEROUPPER
	RET
