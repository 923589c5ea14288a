//go:build !purego

package vecmath

import "golang.org/x/sys/cpu"

//go:noescape
func gemm16x6(p *float32, k int, b *float32, ldb int, n int, out *float32, ldo int)

//go:noescape
func gemm16x1(p *float32, k int, b *float32, out *float32)

//go:noescape
func f16to32(dst *float32, src *uint16, n int)

//go:noescape
func f32to16(dst *uint16, src *float32, n int)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

var (
	useAsm  = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	useF16C = cpu.X86.HasAVX && hasF16C()
)

// hasF16C reads CPUID leaf 1, ECX bit 29 (golang.org/x/sys/cpu does not
// report F16C).
func hasF16C() bool {
	_, _, c, _ := cpuid(1, 0)
	return c&(1<<29) != 0
}
