//go:build !amd64 || purego

package vecmath

const (
	useAsm  = false
	useF16C = false
)

func gemm16x6(p *float32, k int, b *float32, ldb int, n int, out *float32, ldo int) {
	panic("unreachable")
}
func gemm16x1(p *float32, k int, b *float32, out *float32) { panic("unreachable") }

func f16to32(dst *float32, src *uint16, n int) { panic("unreachable") }
func f32to16(dst *uint16, src *float32, n int) { panic("unreachable") }
