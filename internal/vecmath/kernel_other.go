//go:build !amd64 || purego

package vecmath

const (
	useAsm  = false
	useF16C = false
)

func dotsAsm(out []float32, ldo int, a []float32, na int, b []float32, nb int, dim int) {
	dotsGeneric(out, ldo, a, na, b, nb, dim)
}

func f16to32(dst *float32, src *uint16, n int) { panic("unreachable") }
func f32to16(dst *uint16, src *float32, n int) { panic("unreachable") }
