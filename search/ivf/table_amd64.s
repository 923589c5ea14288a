//go:build !purego

#include "textflag.h"

// IP64 multiplies 64 codewords' values of one dimension (eight YMM from
// DI) by x[u] (Y8) and adds the products to accumulators Y0-Y7: a rounded
// multiply, then a rounded add, as the plain-Go loop.
#define IP64 \
	VMULPS (DI), Y8, Y9; VADDPS Y9, Y0, Y0; \
	VMULPS 32(DI), Y8, Y10; VADDPS Y10, Y1, Y1; \
	VMULPS 64(DI), Y8, Y11; VADDPS Y11, Y2, Y2; \
	VMULPS 96(DI), Y8, Y12; VADDPS Y12, Y3, Y3; \
	VMULPS 128(DI), Y8, Y9; VADDPS Y9, Y4, Y4; \
	VMULPS 160(DI), Y8, Y10; VADDPS Y10, Y5, Y5; \
	VMULPS 192(DI), Y8, Y11; VADDPS Y11, Y6, Y6; \
	VMULPS 224(DI), Y8, Y12; VADDPS Y12, Y7, Y7

// func fillSub(row *float32, cols *float32, x *float32, dsub int, l2 bool)
//
// row[c] = Σ_{u<dsub} x[u]·cols[256u+c] (l2: (x[u]−cols[256u+c])²), c <
// 256, each sum from 0 in order of u with a rounded multiply and a
// rounded add per term: bit for bit fillTable's plain-Go loop. 64
// codewords at a time in eight YMM accumulators; Y8 holds x[u].
TEXT ·fillSub(SB), NOSPLIT, $0-33
	MOVQ    row+0(FP), DX
	MOVQ    cols+8(FP), R8
	MOVQ    x+16(FP), R9
	MOVQ    dsub+24(FP), R10
	MOVBLZX l2+32(FP), R11
	XORQ    BX, BX // byte offset of the 64-codeword chunk

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
	IP64
	ADDQ         $1024, DI
	ADDQ         $4, SI
	DECQ         CX
	JNZ          ipdims
	JMP          store

l2dims:
	VBROADCASTSS (SI), Y8
	VSUBPS       (DI), Y8, Y9
	VMULPS       Y9, Y9, Y9
	VADDPS       Y9, Y0, Y0
	VSUBPS       32(DI), Y8, Y10
	VMULPS       Y10, Y10, Y10
	VADDPS       Y10, Y1, Y1
	VSUBPS       64(DI), Y8, Y11
	VMULPS       Y11, Y11, Y11
	VADDPS       Y11, Y2, Y2
	VSUBPS       96(DI), Y8, Y12
	VMULPS       Y12, Y12, Y12
	VADDPS       Y12, Y3, Y3
	VSUBPS       128(DI), Y8, Y9
	VMULPS       Y9, Y9, Y9
	VADDPS       Y9, Y4, Y4
	VSUBPS       160(DI), Y8, Y10
	VMULPS       Y10, Y10, Y10
	VADDPS       Y10, Y5, Y5
	VSUBPS       192(DI), Y8, Y11
	VMULPS       Y11, Y11, Y11
	VADDPS       Y11, Y6, Y6
	VSUBPS       224(DI), Y8, Y12
	VMULPS       Y12, Y12, Y12
	VADDPS       Y12, Y7, Y7
	ADDQ         $1024, DI
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
	CMPQ    BX, $1024
	JLT     chunk
	VZEROUPPER
	RET
