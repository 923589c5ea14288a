//go:build !purego

package vecmath

import "golang.org/x/sys/cpu"

//go:noescape
func dot4x3n(a *float32, lda int, b *float32, ldb int, k int, n int, out *float32, ldo int)

//go:noescape
func dot1x4(a *float32, b *float32, ldb int, k int, out *[4]float32)

//go:noescape
func dot1x1(a *float32, b *float32, k int) float32

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

// dotsAsm runs the 4×3 kernel over all but the last few rows; those go
// through the 1×4 and 1×1 kernels, which sum in the same order, so every
// pair gets the same bits wherever it falls in a block. Dimensions beyond
// the last multiple of 8 are added in Go, the same way for every pair.
func dotsAsm(out []float32, ldo int, a []float32, na int, b []float32, nb int, dim int) {
	k := dim &^ 7
	var t4 [4]float32
	n3 := nb / 3
	i := 0
	for ; i+4 <= na; i += 4 {
		if n3 > 0 {
			dot4x3n(&a[i*dim], dim, &b[0], dim, k, n3, &out[i], ldo)
		}
		for j := 3 * n3; j < nb; j++ { // one row of b against these four rows of a
			dot1x4(&b[j*dim], &a[i*dim], dim, k, &t4)
			copy(out[j*ldo+i:j*ldo+i+4], t4[:])
		}
	}
	for ; i < na; i++ {
		j := 0
		for ; j+4 <= nb; j += 4 {
			dot1x4(&a[i*dim], &b[j*dim], dim, k, &t4)
			for t, v := range t4 {
				out[(j+t)*ldo+i] = v
			}
		}
		for ; j < nb; j++ {
			out[j*ldo+i] = dot1x1(&a[i*dim], &b[j*dim], k)
		}
	}
	if k < dim {
		addTails(out, ldo, a, na, b, nb, dim, k)
	}
}

// addTails adds the products of dimensions k..dim.
func addTails(out []float32, ldo int, a []float32, na int, b []float32, nb int, dim, k int) {
	for j := 0; j < nb; j++ {
		for i := 0; i < na; i++ {
			var s float32
			for t := k; t < dim; t++ {
				s += a[i*dim+t] * b[j*dim+t]
			}
			out[j*ldo+i] += s
		}
	}
}
