// Package vecmath holds the numeric kernels of irflow's exact vector
// search: blocks of dot products (an AVX2/FMA register-tiled kernel on
// amd64, plain Go elsewhere), half-precision conversion, norms and
// normalisation. Everything works on float32 rows laid out contiguously,
// as the dense and multi-vector indexes store them.
package vecmath

import "math"

// Dots fills out[j*ldo+i] with the dot product of row i of a (na rows)
// and row j of b (nb rows): one row of out per row of b (a document),
// holding its products with every row of a (the queries) side by side.
// Rows have dim float32s and are stored back to back (a[i*dim:(i+1)*dim]);
// ldo ≥ na.
func Dots(out []float32, ldo int, a []float32, na int, b []float32, nb int, dim int) {
	if na == 0 || nb == 0 {
		return
	}
	_ = a[na*dim-1]
	_ = b[nb*dim-1]
	_ = out[(nb-1)*ldo+na-1]
	if ldo < na {
		panic("vecmath.Dots: ldo < na")
	}
	if !useAsm || dim < 8 {
		dotsGeneric(out, ldo, a, na, b, nb, dim)
		return
	}
	dotsAsm(out, ldo, a, na, b, nb, dim)
}

// dotsGeneric is Dots in plain Go.
func dotsGeneric(out []float32, ldo int, a []float32, na int, b []float32, nb int, dim int) {
	for j := 0; j < nb; j++ {
		bj := b[j*dim : (j+1)*dim]
		o := out[j*ldo : j*ldo+na]
		for i := range o {
			o[i] = Dot(a[i*dim:(i+1)*dim], bj)
		}
	}
}

// Dot is the dot product of two equally long vectors, summed in eight
// interleaved float32 lanes (the order the SIMD kernels use).
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s [8]float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x, y := a[i:i+8:i+8], b[i:i+8:i+8]
		s[0] += x[0] * y[0]
		s[1] += x[1] * y[1]
		s[2] += x[2] * y[2]
		s[3] += x[3] * y[3]
		s[4] += x[4] * y[4]
		s[5] += x[5] * y[5]
		s[6] += x[6] * y[6]
		s[7] += x[7] * y[7]
	}
	sum := ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
	for ; i < len(a); i++ {
		sum += a[i] * b[i]
	}
	return sum
}

// SqNorm is ‖v‖², summed in float64 and rounded once.
func SqNorm(v []float32) float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return float32(s)
}

// CosineEps is the norm clamp of torch.nn.functional.cosine_similarity,
// which Lightning IR's cosine similarity uses.
const CosineEps = 1e-8

// Normalize divides v in place by max(‖v‖₂, eps), as Lightning IR's
// cosine similarity (torch.nn.functional.cosine_similarity, eps 1e-8)
// does to each side before the dot product.
func Normalize(v []float32, eps float32) {
	n := float32(math.Sqrt(float64(SqNorm(v))))
	n = max(n, eps)
	for i := range v {
		v[i] /= n
	}
}

// CheckFinite returns the position of the first NaN or infinite value,
// or -1.
func CheckFinite(v []float32) int {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i
		}
	}
	return -1
}
