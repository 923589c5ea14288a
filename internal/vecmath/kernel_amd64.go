//go:build !purego

package vecmath

import "golang.org/x/sys/cpu"

//go:noescape
func dot4x3(a *float32, lda int, b *float32, ldb int, k int, out *[12]float32)

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

// dotsAsm tiles the block into 4×3 kernels; the rows left over go through
// the 1×4 and 1×1 kernels, which sum in the same order, so every pair
// gets the same bits wherever it falls in a block. Dimensions beyond the
// last multiple of 8 are added in Go, also the same way for every pair.
func dotsAsm(out []float32, ldo int, a []float32, na int, b []float32, nb int, dim int) {
	k := dim &^ 7
	var t12 [12]float32
	var t4 [4]float32
	i := 0
	for ; i+4 <= na; i += 4 {
		j := 0
		for ; j+3 <= nb; j += 3 {
			dot4x3(&a[i*dim], dim, &b[j*dim], dim, k, &t12)
			for r := 0; r < 4; r++ {
				o := out[(i+r)*ldo+j : (i+r)*ldo+j+3]
				o[0], o[1], o[2] = t12[3*r], t12[3*r+1], t12[3*r+2]
			}
		}
		for ; j < nb; j++ { // one row of b against these four rows of a
			dot1x4(&b[j*dim], &a[i*dim], dim, k, &t4)
			for r := 0; r < 4; r++ {
				out[(i+r)*ldo+j] = t4[r]
			}
		}
		if k < dim {
			addTails(out, ldo, a, i, i+4, b, nb, dim, k)
		}
	}
	for ; i < na; i++ {
		j := 0
		for ; j+4 <= nb; j += 4 {
			dot1x4(&a[i*dim], &b[j*dim], dim, k, &t4)
			copy(out[i*ldo+j:i*ldo+j+4], t4[:])
		}
		for ; j < nb; j++ {
			out[i*ldo+j] = dot1x1(&a[i*dim], &b[j*dim], k)
		}
		if k < dim {
			addTails(out, ldo, a, i, i+1, b, nb, dim, k)
		}
	}
}

// addTails adds the products of dimensions k..dim.
func addTails(out []float32, ldo int, a []float32, i0, i1 int, b []float32, nb int, dim, k int) {
	for i := i0; i < i1; i++ {
		for j := 0; j < nb; j++ {
			var s float32
			for t := k; t < dim; t++ {
				s += a[i*dim+t] * b[j*dim+t]
			}
			out[i*ldo+j] += s
		}
	}
}
