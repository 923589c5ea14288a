//go:build !purego

#include "textflag.h"

// func decodeDiv2(out, centroid *float32, code *byte, lut *float32, nbytes int, n float32)
//
// Two code bytes (eight values) a step: each byte's four table weights
// (16 bytes at lut + 16·byte) into one half of Y0, plus the centroid's
// eight values, divided by n (Y15); an odd last byte through X0.
TEXT ·decodeDiv2(SB), NOSPLIT, $0-44
	MOVQ         out+0(FP), DI
	MOVQ         centroid+8(FP), SI
	MOVQ         code+16(FP), DX
	MOVQ         lut+24(FP), R8
	MOVQ         nbytes+32(FP), CX
	VBROADCASTSS n+40(FP), Y15
	CMPQ         CX, $2
	JLT          tail

pair:
	MOVBLZX     (DX), AX
	MOVBLZX     1(DX), BX
	SHLQ        $4, AX
	SHLQ        $4, BX
	VMOVUPS     (R8)(AX*1), X0
	VINSERTF128 $1, (R8)(BX*1), Y0, Y0
	VADDPS      (SI), Y0, Y0
	VDIVPS      Y15, Y0, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $2, DX
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $2, CX
	CMPQ        CX, $2
	JGE         pair

tail:
	TESTQ   CX, CX
	JEQ     done
	MOVBLZX (DX), AX
	SHLQ    $4, AX
	VMOVUPS (R8)(AX*1), X0
	VADDPS  (SI), X0, X0
	VDIVPS  X15, X0, X0
	VMOVUPS X0, (DI)

done:
	VZEROUPPER
	RET
